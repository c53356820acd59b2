package dev.onebit.cli.data;

import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Value;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Images (as float NCHW items, scaled and normalized) with optional integer labels, held in
 * memory. Loaded from an IDX file, a {@code .npy} array or a folder of class subfolders; see
 * {@link #load}.
 */
public final class Dataset {
    private final float[] data;
    private final int[] itemShape;
    private final int count;
    private final int[] labels;
    private final List<String> classNames;

    Dataset(float[] data, int[] itemShape, int count, int[] labels, List<String> classNames) {
        this.data = data;
        this.itemShape = itemShape;
        this.count = count;
        this.labels = labels;
        this.classNames = classNames;
    }

    /**
     * Loads a data set for a model whose input items have shape {@code modelItem} (C, H, W;
     * null when the model does not say).
     *
     * <p>{@code source} is an IDX images file ({@code *-images-idx3-ubyte[.gz]}, labels beside it
     * by the MNIST naming unless {@code labelsFile} is given), a {@code .npy} array (labels from
     * {@code labelsFile}, an IDX or .npy file), or a folder with one subfolder of images per class.
     * Unsigned-byte pixels are divided by 255; then {@code mean} and {@code std} (one value, or
     * one per channel; null for none) normalize; {@code limit} (0 for all) keeps the first items.
     *
     * @throws ModelException naming the file when the data cannot be read or does not fit the model
     */
    public static Dataset load(Path source, Path labelsFile, float[] mean, float[] std, int limit, int[] modelItem)
            throws IOException {
        if (!Files.exists(source)) {
            throw new ModelException(source + ": no such file or folder");
        }
        Dataset raw;
        if (Files.isDirectory(source)) {
            raw = ImageFolder.read(source, modelItem, limit);
        } else if (source.getFileName().toString().endsWith(".npy")) {
            raw = fromArray(source, Npy.read(source), modelItem, limit);
        } else {
            raw = fromIdx(source, Idx.read(source), modelItem, limit);
        }
        int[] labels = raw.labels;
        if (labelsFile != null) {
            labels = readLabels(labelsFile, raw.count);
        } else if (labels == null && !Files.isDirectory(source)) {
            Path beside = Idx.labelsBeside(source);
            if (beside != null) {
                labels = readLabels(beside, raw.count);
            }
        }
        Dataset d = new Dataset(raw.data, raw.itemShape, raw.count, labels, raw.classNames);
        d.normalize(mean, std, source);
        return d;
    }

    private static Dataset fromIdx(Path file, Idx.Array a, int[] modelItem, int limit) {
        int n = limitCount(a.shape()[0], limit);
        int per = a.data().length / Math.max(1, a.shape()[0]);
        float[] out = new float[n * per];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i) / 255f;
        }
        int[] natural = Arrays.copyOfRange(a.shape(), 1, a.shape().length);
        if (natural.length == 2) {
            natural = new int[] {1, natural[0], natural[1]};
        }
        return new Dataset(out, fit(file, natural, modelItem), n, null, null);
    }

    private static Dataset fromArray(Path file, Value v, int[] modelItem, int limit) {
        if (v.rank() < 2) {
            throw new ModelException(file + ": a data array needs shape [N, ...], got " + Arrays.toString(v.shape));
        }
        int n = limitCount(v.shape[0], limit);
        int per = v.size() / Math.max(1, v.shape[0]);
        float[] out = new float[n * per];
        int[] natural = Arrays.copyOfRange(v.shape, 1, v.shape.length);
        if (v.isFloat()) {
            System.arraycopy(v.floats, 0, out, 0, out.length);
        } else {
            for (int i = 0; i < out.length; i++) {
                out[i] = v.longs[i] / 255f;
            }
        }
        if (natural.length == 2) {
            natural = new int[] {1, natural[0], natural[1]};
        }
        // Arrays saved from image libraries are often NHWC; move channels first when that is what fits.
        if (modelItem != null && natural.length == 3 && !Arrays.equals(natural, modelItem)
                && natural[2] == modelItem[0] && natural[0] == modelItem[1] && natural[1] == modelItem[2]) {
            out = nhwcToNchw(out, n, natural[0], natural[1], natural[2]);
            natural = modelItem.clone();
        }
        return new Dataset(out, fit(file, natural, modelItem), n, null, null);
    }

    private static float[] nhwcToNchw(float[] in, int n, int h, int w, int c) {
        float[] out = new float[in.length];
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        out[((i * c + ch) * h + y) * w + x] = in[((i * h + y) * w + x) * c + ch];
                    }
                }
            }
        }
        return out;
    }

    private static int[] fit(Path file, int[] natural, int[] modelItem) {
        if (modelItem == null) {
            return natural;
        }
        if (Value.count(natural) != Value.count(modelItem)) {
            throw new ModelException(file + ": items of shape " + Arrays.toString(natural)
                    + " do not fit the model input " + Arrays.toString(modelItem));
        }
        return modelItem.clone();
    }

    private static int limitCount(int n, int limit) {
        return limit > 0 ? Math.min(n, limit) : n;
    }

    private static int[] readLabels(Path file, int count) throws IOException {
        long[] values;
        if (file.getFileName().toString().endsWith(".npy")) {
            Value v = Npy.read(file);
            if (v.isFloat()) {
                throw new ModelException(file + ": labels must be an integer array");
            }
            values = v.longs;
        } else {
            Idx.Array a = Idx.read(file);
            values = new long[a.data().length];
            for (int i = 0; i < values.length; i++) {
                values[i] = a.get(i);
            }
        }
        if (values.length < count) {
            throw new ModelException(file + ": " + values.length + " labels for " + count + " items");
        }
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = Math.toIntExact(values[i]);
        }
        return out;
    }

    private void normalize(float[] mean, float[] std, Path source) {
        if (mean == null && std == null) {
            return;
        }
        int channels = itemShape.length >= 1 ? itemShape[0] : 1;
        float[] m = perChannel(mean, channels, 0f, "--mean", source);
        float[] s = perChannel(std, channels, 1f, "--std", source);
        int plane = Value.count(itemShape) / channels;
        for (int i = 0; i < count; i++) {
            for (int c = 0; c < channels; c++) {
                int base = (i * channels + c) * plane;
                float inv = 1f / s[c];
                for (int p = 0; p < plane; p++) {
                    data[base + p] = (data[base + p] - m[c]) * inv;
                }
            }
        }
    }

    private static float[] perChannel(float[] given, int channels, float dflt, String flag, Path source) {
        if (given == null || given.length == 0) {
            float[] out = new float[channels];
            Arrays.fill(out, dflt);
            return out;
        }
        if (given.length == 1) {
            float[] out = new float[channels];
            Arrays.fill(out, given[0]);
            return out;
        }
        if (given.length != channels) {
            throw new ModelException(flag + " has " + given.length + " values, but items of " + source
                    + " have " + channels + " channels");
        }
        return given.clone();
    }

    /** Number of items. */
    public int count() {
        return count;
    }

    /** Shape of one item (C, H, W for images). */
    public int[] itemShape() {
        return itemShape.clone();
    }

    /** True when every item has a label. */
    public boolean hasLabels() {
        return labels != null;
    }

    /** Label of item {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** Class names (folder data), or null. */
    public List<String> classNames() {
        return classNames;
    }

    /** Items {@code start .. start+n-1} as one FLOAT value of shape [n, itemShape...] (a copy). */
    public Value batch(int start, int n) {
        int per = Value.count(itemShape);
        int[] shape = new int[itemShape.length + 1];
        shape[0] = n;
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        return Value.ofFloats(shape, Arrays.copyOfRange(data, start * per, (start + n) * per));
    }
}
