package dev.onebit.onnx.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxImporter;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our float runtime against ONNX Runtime on every sample model, with random inputs and with
 * real Fashion-MNIST-like magnitudes: outputs agree to rtol 1e-4, atol 1e-5.
 */
class OrtComparisonTest {
    private static OrtEnvironment env;

    @BeforeAll
    static void start() {
        env = OrtEnvironment.getEnvironment();
    }

    static Path samples() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("samples").resolve("data"))) {
            p = p.getParent();
        }
        assertTrue(p != null, "samples/ not found");
        return p.resolve("samples");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain.onnx", "resnet.onnx", "vgg.onnx"})
    void sampleMatchesOnnxRuntime(String file) throws Exception {
        Path model = samples().resolve(file);
        Graph graph = OnnxImporter.read(model);
        Executor executor = Executor.create(graph);
        ValueInfo in = graph.inputs().get(0);
        Dim batchDim = in.shape().dim(0);
        // A dynamic batch is exercised with several items; a fixed batch of 1 with 3 (fed one by one).
        int batch = 3;
        int[] shape = new int[in.shape().rank()];
        shape[0] = batch;
        for (int d = 1; d < shape.length; d++) {
            shape[d] = (int) in.shape().dim(d).size();
        }
        Random rnd = new Random(file.hashCode());
        for (int trial = 0; trial < 3; trial++) {
            float[] x = new float[Value.count(shape)];
            for (int i = 0; i < x.length; i++) {
                x[i] = trial == 0 ? (float) rnd.nextGaussian() : (rnd.nextFloat() * 3.6f - 0.81f);
            }
            Value ours = executor.run(Map.of(in.name(), Value.ofFloats(shape, x))).values().iterator().next();
            float[] theirs = runOrt(model, in.name(), shape, x, batchDim.isFixed() ? (int) batchDim.size() : batch);
            assertEquals(theirs.length, ours.size());
            for (int i = 0; i < theirs.length; i++) {
                float tol = 1e-5f + 1e-4f * Math.abs(theirs[i]);
                assertTrue(Math.abs(ours.floats[i] - theirs[i]) <= tol,
                        file + " trial " + trial + " output[" + i + "]: ours " + ours.floats[i] + ", ORT " + theirs[i]);
            }
        }
    }

    /** Runs ORT, in chunks of {@code chunk} items when the model's batch is fixed. */
    private static float[] runOrt(Path model, String input, int[] shape, float[] x, int chunk) throws OrtException {
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(model.toString(), opts)) {
                int per = x.length / shape[0];
                float[][] parts = new float[shape[0] / chunk][];
                int total = 0;
                for (int p = 0; p < parts.length; p++) {
                    long[] s = new long[shape.length];
                    for (int d = 0; d < s.length; d++) {
                        s[d] = shape[d];
                    }
                    s[0] = chunk;
                    FloatBuffer buf = FloatBuffer.wrap(x, p * chunk * per, chunk * per).slice();
                    Map<String, OnnxTensor> feed = new HashMap<>();
                    try (OnnxTensor t = OnnxTensor.createTensor(env, buf, s)) {
                        feed.put(input, t);
                        try (OrtSession.Result r = session.run(feed)) {
                            FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
                            parts[p] = new float[out.remaining()];
                            out.get(parts[p]);
                            total += parts[p].length;
                        }
                    }
                }
                float[] all = new float[total];
                int at = 0;
                for (float[] part : parts) {
                    System.arraycopy(part, 0, all, at, part.length);
                    at += part.length;
                }
                return all;
            }
        }
    }
}
