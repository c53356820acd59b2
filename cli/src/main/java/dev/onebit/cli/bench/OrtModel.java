package dev.onebit.cli.bench;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * An ONNX model in ONNX Runtime (Java, this process) with one input bound, ready to be timed
 * call by call: the reference side of {@code onebit bench}. A model whose batch is fixed at 1
 * is run once per item, as onebit's runtime does with such models.
 */
public final class OrtModel implements AutoCloseable {
    private final OrtSession session;
    private final List<Map<String, OnnxTensor>> calls = new ArrayList<>();

    /**
     * Opens the model with {@code threads} intra-op threads (one inter-op thread) and binds
     * {@code data}, a batch {@code [batch, itemShape...]}, to its first input.
     *
     * @throws IllegalArgumentException naming the file when its input cannot take such items
     * @throws OrtException if ONNX Runtime cannot load or bind the model
     */
    public OrtModel(Path file, int threads, float[] data, int batch, int[] itemShape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 1) {
                // Its workers would otherwise spin on after each call, into onebit's alternating
                // one, on cores onebit's threads need (ResNet-18 on 2 threads: onebit's median
                // 5.4-7.8 ms beside a spinning ONNX Runtime, 3.7-4.3 ms in 9 of 12 runs beside
                // one that sleeps; ONNX Runtime's own median 17.0-17.9 ms either way).
                opts.addConfigEntry("session.intra_op.allow_spinning", "0");
            }
            session = env.createSession(file.toString(), opts);
        }
        try {
            String name = session.getInputNames().iterator().next();
            long[] dims = inputDims(session.getInputInfo().get(name));
            checkFits(file, name, dims, itemShape);
            // A fixed batch of 1 cannot take B items in one tensor: B calls instead.
            int per = batch > 1 && dims.length > 0 && dims[0] == 1 ? 1 : batch;
            int itemSize = data.length / batch;
            for (int first = 0; first < batch; first += per) {
                long[] shape = new long[itemShape.length + 1];
                shape[0] = per;
                for (int d = 0; d < itemShape.length; d++) {
                    shape[d + 1] = itemShape[d];
                }
                FloatBuffer fb = FloatBuffer.wrap(Arrays.copyOfRange(data, first * itemSize, (first + per) * itemSize));
                calls.add(Map.of(name, OnnxTensor.createTensor(env, fb, shape)));
            }
        } catch (RuntimeException | OrtException e) {
            close();
            throw e;
        }
    }

    private static long[] inputDims(NodeInfo info) {
        return info.getInfo() instanceof TensorInfo t ? t.getShape() : new long[0];
    }

    private static void checkFits(Path file, String name, long[] dims, int[] itemShape) {
        boolean fits = dims.length == itemShape.length + 1;
        for (int d = 1; fits && d < dims.length; d++) {
            fits = dims[d] < 0 || dims[d] == itemShape[d - 1];
        }
        if (!fits) {
            throw new IllegalArgumentException(file + ": input '" + name + "' has shape " + Arrays.toString(dims)
                    + ", which does not take items of shape " + Arrays.toString(itemShape));
        }
    }

    /** Runs the bound batch once (one or more session calls) and discards the outputs. */
    public void run() throws OrtException {
        for (Map<String, OnnxTensor> in : calls) {
            session.run(in).close();
        }
    }

    @Override
    public void close() throws OrtException {
        for (Map<String, OnnxTensor> in : calls) {
            in.values().forEach(OnnxTensor::close);
        }
        session.close();
    }
}
