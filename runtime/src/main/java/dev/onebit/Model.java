package dev.onebit;

import dev.onebit.bnn.BnnFile;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A {@code .bnn} container loaded for inference: the one class an application embedding onebit
 * needs. It runs one item (or a batch of items) of the model's single input and returns its
 * first output.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("vgg.bnn"))) {
 *     float[] image = new float[model.inputSize()];        // one item, shape model.inputShape(), e.g. [1, 28, 28]
 *     // ... fill it, normalised as model.mean() / model.std() say ...
 *     float[] logits = model.run(image);                   // shape model.outputShape(), e.g. [10]
 *     float[][] many = model.run(new float[][] {image, image});
 * }
 * }</pre>
 *
 * <p><b>Loading.</b> {@link #load} maps the file read-only through {@link BnnFile}, which checks
 * every byte of it; uncompressed weight sections (the binary ones) are used in place from the
 * mapping, not copied. The model's operators are prepared once, here.
 *
 * <p><b>Threads.</b> A model is safe to share: any number of threads may call {@code run} at
 * once on one instance (the prepared graph is immutable and the kernels' scratch buffers are per
 * thread). How many threads one call may use inside the kernels is fixed when the model is
 * loaded, from the system property {@code onebit.threads} (default: the available processors)
 * or {@link dev.onebit.runtime.kernels.Kernels#setThreads}; only layers with enough work split
 * it, and while one call has the kernel threads, calls running beside it use their own thread.
 *
 * <p><b>Closing.</b> {@link #close} releases the model; calls made afterwards throw
 * {@link IllegalStateException}. Calls already running finish normally: the mapping stays valid
 * until nothing uses it (Java cannot unmap a file explicitly; the garbage collector does).
 *
 * <p><b>Dependencies.</b> The runtime jar and zstd-jni are all this needs at run time. Start the
 * JVM (17 or newer) with {@code --add-modules jdk.incubator.vector} on JDK 25 for the Vector API
 * kernels; without it the portable kernels give the same results more slowly.
 */
public final class Model implements AutoCloseable {
    /** Metadata key of the per-channel means the images were normalised with ({@code "0.286"}). */
    public static final String META_MEAN = "onebit.mean";
    /** Metadata key of the per-channel standard deviations ({@code "0.353"}). */
    public static final String META_STD = "onebit.std";
    /** Metadata key of the class names, comma-separated in class order. */
    public static final String META_CLASSES = "onebit.class_labels";
    /** Metadata key of one input item's shape as the converter saw it ({@code "[1, 28, 28]"}). */
    public static final String META_INPUT_SHAPE = "onebit.input_shape";

    private final Path path;
    private final BnnFile file;
    private final String inputName;
    private final int[] inputShape;
    private final int inputSize;
    private final String outputName;
    private final int[] outputShape;
    private final int outputSize;
    private final List<String> outputNames;
    private final Map<String, String> metadata;
    /** Null once closed; read once per call, so a concurrent close never pulls it from under a run. */
    private volatile Executor executor;

    private Model(Path path, BnnFile file, Executor executor, ItemShapes shapes) {
        this.path = path;
        this.file = file;
        this.executor = executor;
        Graph g = file.graph();
        this.inputName = g.inputs().get(0).name();
        this.inputShape = shapes.input;
        this.inputSize = Value.count(shapes.input);
        this.outputName = g.outputs().get(0).name();
        this.outputShape = shapes.output;
        this.outputSize = Value.count(shapes.output);
        List<String> outs = new ArrayList<>();
        g.outputs().forEach(o -> outs.add(o.name()));
        this.outputNames = List.copyOf(outs);
        this.metadata = Map.copyOf(file.metadata());
    }

    /**
     * Opens a {@code .bnn} container and prepares it to run.
     *
     * @param path the container, as written by {@code onebit convert}
     * @return the model; close it when done
     * @throws IOException if the file cannot be read
     * @throws ModelException if it is not a valid container ({@link dev.onebit.bnn.BnnFormatException},
     *     naming section and offset), has other than one float input, or an item shape that is not fixed
     */
    public static Model load(Path path) throws IOException {
        BnnFile file = BnnFile.open(path);
        try {
            Graph g = file.graph();
            Executor executor = Executor.create(g);
            return new Model(path, file, executor, ItemShapes.of(path, g, executor));
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    /**
     * Runs one item.
     *
     * @param input one item of the input, {@link #inputSize()} floats in the layout of
     *              {@link #inputShape()} (row-major: NCHW without the N); not modified
     * @return the first output for that item, {@link #outputSize()} floats shaped {@link #outputShape()}
     * @throws IllegalArgumentException if {@code input} does not hold exactly one item
     * @throws IllegalStateException after {@link #close}
     */
    public float[] run(float[] input) {
        Executor ex = open();
        checkLength(input.length, 1, "input");
        return runItems(ex, input.clone(), 1);
    }

    /**
     * Runs one item read from a buffer's remaining floats (from its position to its limit); the
     * buffer's position is not changed.
     *
     * @throws IllegalArgumentException if the buffer does not have exactly {@link #inputSize()} floats remaining
     * @throws IllegalStateException after {@link #close}
     */
    public float[] run(FloatBuffer input) {
        Executor ex = open();
        checkLength(input.remaining(), 1, "input buffer");
        float[] data = new float[inputSize];
        input.get(input.position(), data);
        return runItems(ex, data, 1);
    }

    /**
     * Runs several items in one call (one batch through each layer, which is faster per item
     * than one call each). Each item's output equals {@link #run(float[])}'s up to float
     * rounding: float layers compute a batch as one matrix product, whose summation order may
     * depend on the number of items (binary layers are exact either way).
     *
     * @param items each of {@link #inputSize()} floats, as for {@link #run(float[])}
     * @return the first output of each item, in order
     * @throws IllegalArgumentException if an item has the wrong length
     * @throws IllegalStateException after {@link #close}
     */
    public float[][] run(float[][] items) {
        Executor ex = open();
        float[] data = new float[Math.multiplyExact(items.length, inputSize)];
        for (int i = 0; i < items.length; i++) {
            if (items[i].length != inputSize) {
                throw new IllegalArgumentException("item " + i + ": " + lengthError(items[i].length, 1));
            }
            System.arraycopy(items[i], 0, data, i * inputSize, inputSize);
        }
        float[][] out = new float[items.length][];
        if (items.length == 0) {
            return out;
        }
        float[] all = runItems(ex, data, items.length);
        for (int i = 0; i < items.length; i++) {
            out[i] = Arrays.copyOfRange(all, i * outputSize, (i + 1) * outputSize);
        }
        return out;
    }

    /**
     * Runs {@code n} items stored one after another in {@code data}.
     *
     * @param data {@code n * inputSize()} floats: a batch {@code [n, inputShape()...]}; not modified
     * @param n the number of items, at least 1
     * @return {@code n * outputSize()} floats: the first output of each item, one after another,
     *     as {@link #run(float[][])} gives them
     * @throws IllegalArgumentException if {@code n < 1} or {@code data} does not hold exactly {@code n} items
     * @throws IllegalStateException after {@link #close}
     */
    public float[] runBatch(float[] data, int n) {
        Executor ex = open();
        if (n < 1) {
            throw new IllegalArgumentException("the batch must have at least 1 item, got " + n);
        }
        checkLength(data.length, n, "data");
        return runItems(ex, data.clone(), n);
    }

    private float[] runItems(Executor ex, float[] data, int n) {
        int[] shape = new int[inputShape.length + 1];
        shape[0] = n;
        System.arraycopy(inputShape, 0, shape, 1, inputShape.length);
        Value out = ex.run(Map.of(inputName, Value.ofFloats(shape, data))).get(outputName);
        if (out == null || !out.isFloat() || !out.hasData()) {
            throw new ModelException(path + ": output '" + outputName + "' is not a float tensor");
        }
        if (out.size() != n * outputSize) {
            throw new ModelException(path + ": output '" + outputName + "' has shape " + Arrays.toString(out.shape)
                    + " for " + n + " item(s); expected " + n + " x " + Arrays.toString(outputShape));
        }
        // A copy: an output may share its array with a constant or with the input (Identity, Reshape).
        return out.floats.clone();
    }

    private void checkLength(int length, int n, String what) {
        if (length != (long) n * inputSize) {
            throw new IllegalArgumentException(what + ": " + lengthError(length, n));
        }
    }

    private String lengthError(int length, int n) {
        return "expected " + (n == 1 ? "" : n + " x ") + inputSize + " floats (input '" + inputName + "' item shape "
                + Arrays.toString(inputShape) + "), got " + length;
    }

    private Executor open() {
        Executor ex = executor;
        if (ex == null) {
            throw new IllegalStateException("model " + path + " is closed");
        }
        return ex;
    }

    /** The graph input's name. */
    public String inputName() {
        return inputName;
    }

    /** Shape of one input item, without the batch dimension (for example {@code [1, 28, 28]}); a copy. */
    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Floats in one input item: the product of {@link #inputShape()}. */
    public int inputSize() {
        return inputSize;
    }

    /** Name of the output that {@code run} returns (the graph's first). */
    public String outputName() {
        return outputName;
    }

    /** Names of every graph output, in order; {@code run} returns the first. */
    public List<String> outputNames() {
        return outputNames;
    }

    /** Shape of the first output for one item, without the batch dimension (for example {@code [10]}); a copy. */
    public int[] outputShape() {
        return outputShape.clone();
    }

    /** Floats in one item's output: the product of {@link #outputShape()}. */
    public int outputSize() {
        return outputSize;
    }

    /** The container's metadata, as written by the converter (see FORMAT.md §9); unmodifiable. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /**
     * The per-channel means the converter recorded ({@code --mean}): inputs are
     * {@code (pixel / 255 - mean) / std}. Empty when none were recorded.
     */
    public float[] mean() {
        return ItemShapes.floats(metadata.get(META_MEAN));
    }

    /** The per-channel standard deviations recorded ({@code --std}); empty when none were recorded. */
    public float[] std() {
        return ItemShapes.floats(metadata.get(META_STD));
    }

    /** The class names recorded, in class order; empty when the converter knew none. */
    public List<String> classLabels() {
        String v = metadata.get(META_CLASSES);
        return v == null || v.isEmpty() ? List.of() : List.of(v.split(",", -1));
    }

    /** The file this model was loaded from. */
    public Path path() {
        return path;
    }

    /** True once {@link #close} was called. */
    public boolean isClosed() {
        return executor == null;
    }

    /** Releases the model; later calls throw {@link IllegalStateException}. Calling it again does nothing. */
    @Override
    public void close() {
        executor = null;
        file.close();
    }

    @Override
    public String toString() {
        return "Model[" + path + ", " + inputName + Arrays.toString(inputShape) + " -> " + outputName
                + Arrays.toString(outputShape) + (isClosed() ? ", closed" : "") + "]";
    }

    /** The input and first output shapes of one item, found when the model is loaded. */
    private record ItemShapes(int[] input, int[] output) {
        static ItemShapes of(Path path, Graph g, Executor executor) {
            if (g.inputs().size() != 1 || g.outputs().isEmpty()) {
                throw new ModelException(path + ": the graph has " + g.inputs().size() + " inputs and "
                        + g.outputs().size() + " outputs; Model runs graphs with one input and at least one output");
            }
            ValueInfo in = g.inputs().get(0);
            Shape s = in.shape();
            if (in.type() != DataType.FLOAT || s == null || s.rank() < 1) {
                throw new ModelException(path + ": input '" + in.name() + "' is " + in.type() + " " + s
                        + "; Model needs a float input with a batch dimension");
            }
            int[] item = new int[s.rank() - 1];
            for (int d = 1; d < s.rank(); d++) {
                Dim dim = s.dim(d);
                if (!dim.isFixed()) {
                    throw new ModelException(path + ": input '" + in.name() + "' has shape " + s
                            + "; Model needs every dimension but the batch fixed");
                }
                item[d - 1] = Math.toIntExact(dim.size());
            }
            int[] one = new int[s.rank()];
            one[0] = 1;
            System.arraycopy(item, 0, one, 1, item.length);
            // Shape inference at batch 1 (exact: the kernels' own), without running the heavy layers.
            Value out = executor.inferShapes(Map.of(in.name(), Value.shapeOnly(one))).get(g.outputs().get(0).name());
            if (out == null || out.rank() < 1 || out.shape[0] != 1) {
                throw new ModelException(path + ": output '" + g.outputs().get(0).name() + "' has shape "
                        + (out == null ? "?" : Arrays.toString(out.shape)) + "; Model needs a batch dimension first");
            }
            return new ItemShapes(item, Arrays.copyOfRange(out.shape, 1, out.rank()));
        }

        static float[] floats(String v) {
            if (v == null || v.isBlank()) {
                return new float[0];
            }
            String[] parts = v.split(",");
            float[] out = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                out[i] = Float.parseFloat(parts[i].trim());
            }
            return out;
        }
    }
}
