package dev.onebit.cli.jmh;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxExporter;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A one-node float model (Conv or Gemm, constant weight and bias) in ONNX Runtime with its
 * input bound: the reference side of the kernel benchmarks. The model is built as an onebit
 * graph and serialized by {@link OnnxExporter}, as {@code onebit bench-conv} does, and runs
 * with one intra-op and one inter-op thread and all graph optimizations.
 */
final class OrtNode implements AutoCloseable {
    private final OrtSession session;
    private final OnnxTensor input;
    private final Map<String, OnnxTensor> inputs;

    private OrtNode(Graph graph, float[] x, int[] xShape) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            session = env.createSession(OnnxExporter.toBytes(graph), opts);
        }
        input = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), Arrays.stream(xShape).asLongStream().toArray());
        inputs = Map.of("x", input);
    }

    /**
     * ONNX Conv {@code y = conv(x, w) + b}, square kernel, stride 1, the same pad on every side.
     *
     * @param w weight {@code [M, C, k, k]}
     * @param b bias {@code [M]}
     * @param x the bound input {@code [1, C, H, W]}
     */
    static OrtNode conv(float[] w, int[] wShape, float[] b, int pad, float[] x, int[] xShape) throws OrtException {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", Attribute.ofInts(wShape[2], wShape[3]));
        attrs.put("strides", Attribute.ofInts(1, 1));
        attrs.put("pads", Attribute.ofInts(pad, pad, pad, pad));
        Graph g = Graph.builder("conv")
                .opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.ofInts(xShape)))
                .initializer("w", Tensor.ofFloats(wShape, w))
                .initializer("b", Tensor.ofFloats(new int[] {wShape[0]}, b))
                .node(Node.of("conv", "Conv", List.of("x", "w", "b"), List.of("y"), attrs))
                .output(new ValueInfo("y", DataType.FLOAT, null))
                .build();
        return new OrtNode(g, x, xShape);
    }

    /**
     * ONNX Gemm {@code y = x * w^T + b} ({@code transB = 1}, the layout PyTorch exports for
     * {@code nn.Linear}).
     *
     * @param w weight {@code [OUT, IN]}
     * @param b bias {@code [OUT]}
     * @param x the bound input {@code [rows, IN]}
     */
    static OrtNode gemm(float[] w, int out, int in, float[] b, float[] x, int rows) throws OrtException {
        Graph g = Graph.builder("gemm")
                .opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.ofInts(rows, in)))
                .initializer("w", Tensor.ofFloats(new int[] {out, in}, w))
                .initializer("b", Tensor.ofFloats(new int[] {out}, b))
                .node(Node.of("fc", "Gemm", List.of("x", "w", "b"), List.of("y"), Map.of("transB", Attribute.of(1L))))
                .output(new ValueInfo("y", DataType.FLOAT, null))
                .build();
        return new OrtNode(g, x, new int[] {rows, in});
    }

    /**
     * One session call on the bound input. The result is closed before returning, so its
     * native output buffer goes back to ONNX Runtime's arena as it would between graph runs.
     */
    void run() throws OrtException {
        session.run(inputs).close();
    }

    /** One call, its output copied out: for the checks in the benchmarks' setup, not timed. */
    float[] output() throws OrtException {
        try (OrtSession.Result r = session.run(inputs)) {
            FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] y = new float[fb.remaining()];
            fb.get(y);
            return y;
        }
    }

    @Override
    public void close() throws OrtException {
        input.close();
        session.close();
    }
}
