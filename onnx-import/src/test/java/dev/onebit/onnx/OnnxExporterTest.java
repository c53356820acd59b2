package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.NODE_TESTS;
import static dev.onebit.onnx.GraphFixtures.floats;
import static dev.onebit.onnx.GraphFixtures.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writing graphs as ONNX: round trips through the importer, and ONNX Runtime accepts the result. */
class OnnxExporterTest {

    /** Asserts that two graphs agree in everything the IR holds. */
    static void assertSameGraph(Graph expected, Graph actual) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.opsets(), actual.opsets());
        assertEquals(expected.inputs(), actual.inputs());
        assertEquals(expected.outputs(), actual.outputs());
        assertEquals(expected.initializers(), actual.initializers());
        assertEquals(expected.nodes(), actual.nodes());
        assertEquals(expected.valueInfo(), actual.valueInfo());
        assertEquals(expected.metadata(), actual.metadata());
    }

    private static Graph reread(Graph g) {
        return OnnxImporter.load(ByteBuffer.wrap(OnnxExporter.toBytes(g)), "round-trip", null);
    }

    @Test
    void backendModelsRoundTrip() throws Exception {
        for (String test : List.of("test_conv_with_strides_padding", "test_constant", "test_batchnorm_epsilon",
                "test_maxpool_2d_pads", "test_constant_pad", "test_reshape_reordered_all_dims", "test_gemm_all_attributes")) {
            Path dir = NODE_TESTS.resolve(test);
            Graph g = OnnxImporter.load(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("model.onnx"))), test, dir);
            assertSameGraph(g, reread(g));
        }
    }

    static Graph sample() {
        Tensor w = Tensor.ofFloats(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        Tensor shape = Tensor.ofLongs(new int[] {2}, new long[] {0, -1});
        Tensor mask = Tensor.ofLongs(DataType.BOOL, new int[] {2}, new long[] {1, 0});
        return GraphFixtures.graph("sample", 13).opset("com.example", 1)
                .input(floats("x", -1, 3))
                .output(new ValueInfo("y", DataType.FLOAT, Shape.of(List.of(Dim.symbol("N"), Dim.UNKNOWN))))
                .output(new ValueInfo("z", null, null))
                .initializer("w", w).initializer("shape", shape).initializer("mask", mask)
                .node(node("mm", "MatMul", List.of("x", "w"), List.of("h")))
                .node(node("act", "LeakyRelu", List.of("h"), List.of("y"), "alpha", Attribute.of(0.1f)))
                .node(node("every", "Custom", List.of("y", "", "shape"), List.of("z"),
                        "i", Attribute.of(3L), "s", Attribute.of("same_upper"), "t", Attribute.of(w),
                        "fs", Attribute.ofFloats(0.5f, -1), "is", Attribute.ofInts(1, 2, 3),
                        "ss", Attribute.ofStrings(List.of("a", "é"))))
                .valueInfo(new ValueInfo("h", DataType.FLOAT, Shape.of(List.of(Dim.symbol("N"), Dim.of(3)))))
                .metadata(OnnxImporter.META_PRODUCER_NAME, "me").metadata("source", "unit test")
                .build();
    }

    @Test
    void handBuiltGraphRoundTrips() {
        Graph g = sample();
        Graph back = reread(g);
        assertSameGraph(g, back);
        assertEquals(Dim.symbol("N"), back.inputs().get(0).shape().dim(0));
    }

    @Test
    void writeReplacesTheFileAtomically(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("out.onnx");
        Files.write(f, new byte[] {1, 2, 3});
        OnnxExporter.write(sample(), f);
        assertSameGraph(sample(), OnnxImporter.load(ByteBuffer.wrap(Files.readAllBytes(f)), "out", dir));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(f), files.toList(), "no temporary file is left behind");
        }
    }

    @Test
    void onnxRuntimeRunsAnExportedGraph() throws Exception {
        Tensor w = Tensor.ofFloats(new int[] {3, 2}, new float[] {1, 0, 0, 1, 1, 1});
        Graph g = GraphFixtures.graph("ort", 13)
                .input(floats("x", -1, 3)).output(floats("y", -1, 2)).initializer("w", w)
                .node(node("mm", "MatMul", List.of("x", "w"), List.of("h")))
                .node(node("act", "LeakyRelu", List.of("h"), List.of("y"), "alpha", Attribute.of(0.5f)))
                .build();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(OnnxExporter.toBytes(g), new OrtSession.SessionOptions());
             OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[] {1, 2, -4, 0, 0, 1}), new long[] {2, 3});
             OrtSession.Result r = s.run(Map.of("x", x))) {
            float[][] y = (float[][]) r.get(0).getValue();
            assertArrayEquals(new float[] {-1.5f, -1}, y[0]);
            assertArrayEquals(new float[] {1, 1}, y[1]);
        }
    }
}
