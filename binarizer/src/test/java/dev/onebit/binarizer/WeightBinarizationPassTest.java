package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.onebit.binarizer.TestGraphs.attrs;
import static dev.onebit.binarizer.TestGraphs.ints;
import static dev.onebit.binarizer.TestGraphs.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WeightBinarizationPassTest {

    @Test
    void plainBwnReplacesOnlyTheMiddleLayersAndKeepsNames() {
        Graph g = Samples.model("plain");
        BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.defaults());
        Graph b = r.graph();
        assertEquals(1, b.opsets().get(OpRegistry.ONEBIT_DOMAIN));
        assertEquals(11, b.opset());
        Set<String> changed = Set.of("/conv2/Conv", "/fc1/Gemm");
        for (Node n : g.nodes()) {
            Node after = TestGraphs.find(b, n.name());
            if (changed.contains(n.name())) {
                assertEquals(OpRegistry.ONEBIT_DOMAIN, after.domain());
                assertEquals(n.opType().equals("Conv") ? "BinaryConv" : "BinaryMatMul", after.opType());
                assertEquals("bwn", after.attrString("method", null));
                assertEquals(n.input(0), after.input(0), "input unchanged");
                assertEquals(n.outputs(), after.outputs(), "output name preserved");
            } else {
                assertEquals(n, after, "untouched node " + n.name());
            }
        }
        assertEquals(g.nodes().size(), b.nodes().size());
        assertNull(b.initializer("conv2.weight"), "replaced float weight is dropped");
        assertNull(b.initializer("fc1.weight"));
        assertNotNull(b.initializer("conv1.weight"));
        assertEquals(4, r.layers().size());
        assertEquals("first layer", r.layer("/conv1/Conv").keptFloatReason());
        assertEquals("last layer", r.layer("/fc2/Gemm").keptFloatReason());
        assertEquals("float", r.layer("/fc2/Gemm").method());
        assertTrue(r.layer("/conv2/Conv").binarized());
        assertEquals(32 * 16 * 9, r.layer("/conv2/Conv").params());
        assertEquals(1 + 32.0 / 144, r.layer("/conv2/Conv").bitsPerWeight(), 1e-12);
        assertEquals(32, r.layer("/conv1/Conv").bitsPerWeight());
    }

    @Test
    void bIsExactlySignOfWAndAlphaIsMeanAbsolutePerChannel() {
        check(Samples.model("vgg"), "/features/features.10/Conv", "features.10.weight");
        check(Samples.model("plain"), "/fc1/Gemm", "fc1.weight");
        check(Samples.model("resnet"), "/stages/stages.1/shortcut/shortcut.0/Conv", "onnx::Conv_104");
    }

    private static void check(Graph g, String layer, String weightName) {
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        Tensor w = g.initializer(weightName);
        Node n = TestGraphs.find(b, layer);
        Tensor bits = b.initializer(n.input(1));
        int[] expectedShape = new int[w.rank() + 1];
        expectedShape[0] = 1;
        System.arraycopy(w.shape(), 0, expectedShape, 1, w.rank());
        assertEquals(Tensor.ofSigns(expectedShape, w.toFloatArray()), bits, layer + ": B = sign(W)");
        assertEquals(DataType.BIT, bits.type());
        float[] wv = w.toFloatArray();
        int o = w.shape()[0];
        int per = wv.length / o;
        float[] alpha = b.initializer(n.input(2)).toFloatArray();
        assertArrayEquals(new int[] {1, o}, b.initializer(n.input(2)).shape());
        for (int c = 0; c < o; c++) {
            double sum = 0;
            for (int j = 0; j < per; j++) {
                sum += Math.abs(wv[c * per + j]);
            }
            assertEquals(sum / per, alpha[c], 1e-6 * sum / per, layer + " alpha[" + c + "]");
        }
    }

    @Test
    void binarizedSamplesComputeFloatLayersWithTheEffectiveWeight() {
        for (String model : List.of("plain", "vgg", "resnet")) {
            Graph g = Samples.model(model);
            BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.defaults());
            assertSameValues(reference(g, r), r.graph(), Samples.images("test2k", 4), model);
        }
    }

    @Test
    void cbdPlanesComputeTheirSumAndReportTheirError() {
        Graph g = Samples.model("plain");
        BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.cbd(3));
        Node n = TestGraphs.find(r.graph(), "/conv2/Conv");
        assertArrayEquals(new int[] {3, 32, 16, 3, 3}, r.graph().initializer(n.input(1)).shape());
        assertArrayEquals(new int[] {3, 32}, r.graph().initializer(n.input(2)).shape());
        assertEquals("cbd", n.attrString("method", null));
        float[] w = g.initializer("conv2.weight").toFloatArray();
        float[] approx = effective(r.graph(), n);
        double num = 0;
        double den = 0;
        for (int i = 0; i < w.length; i++) {
            num += (w[i] - approx[i]) * (double) (w[i] - approx[i]);
            den += w[i] * (double) w[i];
        }
        assertEquals(Math.sqrt(num / den), r.layer("/conv2/Conv").relativeError(), 1e-6);
        assertEquals(3 + 3 * 32.0 / 144, r.layer("/conv2/Conv").bitsPerWeight(), 1e-12);
        assertSameValues(reference(g, r), r.graph(), Samples.images("test2k", 4), "plain cbd3");
    }

    /** Grouped and depthwise convs, Gemm with transB=0, alpha and beta, and MatMul's [IN, OUT] weight. */
    static Graph layerZoo() {
        Graph.Builder b = TestGraphs.builder(4, 6, 6);
        b.initializer("w1", TestGraphs.tensor(1, 6, 2, 3, 3)).initializer("b1", TestGraphs.tensor(2, 6));
        b.node(node("grouped", "Conv", List.of("x", "w1", "b1"), "y1",
                attrs("group", 2, "pads", ints(1, 1, 1, 1), "kernel_shape", ints(3, 3))));
        b.node(node("relu", "Relu", List.of("y1"), "r1", Map.of()));
        b.initializer("w2", TestGraphs.tensor(3, 6, 1, 3, 3));
        b.node(node("depthwise", "Conv", List.of("r1", "w2"), "y2", attrs("group", 6, "strides", ints(2, 2))));
        b.node(node("flatten", "Flatten", List.of("y2"), "f", Map.of()));
        b.initializer("w3", TestGraphs.tensor(4, 24, 5)).initializer("c3", TestGraphs.tensor(5, 5));
        b.node(node("gemm", "Gemm", List.of("f", "w3", "c3"), "y3", attrs("alpha", 0.5f, "beta", 2f)));
        b.initializer("w4", TestGraphs.tensor(6, 5, 3));
        b.node(node("matmul", "MatMul", List.of("y3", "w4"), "y4", Map.of()));
        return b.output(new ValueInfo("y4", DataType.FLOAT, null)).build();
    }

    @Test
    void groupedDepthwiseGemmAndMatMulLayers() {
        Graph g = layerZoo();
        BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.defaults().withKeepFloat(KeepFloat.NONE));
        Graph b = r.graph();
        assertArrayEquals(new int[] {1, 6, 2, 3, 3}, b.initializer(TestGraphs.find(b, "grouped").input(1)).shape());
        assertArrayEquals(new int[] {1, 6, 1, 3, 3}, b.initializer(TestGraphs.find(b, "depthwise").input(1)).shape());
        assertArrayEquals(new int[] {1, 5, 24}, b.initializer(TestGraphs.find(b, "gemm").input(1)).shape());
        assertArrayEquals(new int[] {1, 3, 5}, b.initializer(TestGraphs.find(b, "matmul").input(1)).shape());
        assertEquals(2, TestGraphs.find(b, "grouped").attrInt("group", 1));
        // The zoo's weights have exact zeros: sign(0) = +1.
        assertEquals(Tensor.ofSigns(new int[] {1, 6, 2, 3, 3}, g.initializer("w1").toFloatArray()),
                b.initializer(TestGraphs.find(b, "grouped").input(1)));
        // alpha of the depthwise conv: mean |W| over one 3x3 kernel per channel.
        float[] w2 = g.initializer("w2").toFloatArray();
        float[] a2 = b.initializer(TestGraphs.find(b, "depthwise").input(2)).toFloatArray();
        for (int o = 0; o < 6; o++) {
            double s = 0;
            for (int j = 0; j < 9; j++) {
                s += Math.abs(w2[o * 9 + j]);
            }
            assertEquals(s / 9, a2[o], 1e-6);
        }
        // Gemm: W = alpha * B^T, bias = beta * C.
        float[] bias = b.initializer(TestGraphs.find(b, "gemm").input(3)).toFloatArray();
        float[] c3 = g.initializer("c3").toFloatArray();
        for (int o = 0; o < 5; o++) {
            assertEquals(2f * c3[o], bias[o], 1e-6);
        }
        assertSameValues(reference(g, r), b, TestGraphs.input(9, 3, 4, 6, 6), "zoo");
    }

    @Test
    void unsupportedGemmsStayFloatWithTheirReason() {
        // Fixed shapes: transA=1 reads x as [4, N], which only fits a fixed N.
        Graph.Builder b = Graph.builder("unsupported").opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(4, 4)))
                .input(new ValueInfo("dyn", DataType.FLOAT, Shape.of(4, 4)));
        b.initializer("wa", TestGraphs.tensor(1, 4, 4));
        b.node(node("transA", "Gemm", List.of("x", "wa"), "t", attrs("transA", 1)));
        b.node(node("dynamicB", "Gemm", List.of("x", "dyn"), "d", Map.of()));
        b.initializer("cc", TestGraphs.tensor(2, 4, 1));
        b.node(node("wideC", "Gemm", List.of("x", "wa", "cc"), "c", Map.of()));
        b.node(node("matDyn", "MatMul", List.of("x", "dyn"), "m", Map.of()));
        b.output(new ValueInfo("t", DataType.FLOAT, null)).output(new ValueInfo("d", DataType.FLOAT, null))
                .output(new ValueInfo("c", DataType.FLOAT, null)).output(new ValueInfo("m", DataType.FLOAT, null));
        Graph g = b.build();
        BinarizeResult r = Binarizer.binarize(g, BinarizeOptions.defaults().withKeepFloat(KeepFloat.NONE));
        assertEquals("transA=1", r.layer("transA").keptFloatReason());
        assertEquals("B is not a constant initializer", r.layer("dynamicB").keptFloatReason());
        assertTrue(r.layer("wideC").keptFloatReason().contains("per-output bias"), r.layer("wideC").keptFloatReason());
        assertTrue(r.layer("matDyn").keptFloatReason().contains("not a constant"));
        for (Node n : g.nodes()) {
            assertEquals(n, TestGraphs.find(r.graph(), n.name()));
        }
    }

    /** The effective weight of a binary node, decoded here from its bits and alphas. */
    static float[] effective(Graph b, Node n) {
        Tensor bits = b.initializer(n.input(1));
        float[] s = bits.toFloatArray();
        float[] alpha = b.initializer(n.input(2)).toFloatArray();
        int k = bits.shape()[0];
        int o = bits.shape()[1];
        int per = s.length / (k * o);
        float[] w = new float[o * per];
        for (int p = 0; p < k; p++) {
            for (int c = 0; c < o; c++) {
                for (int j = 0; j < per; j++) {
                    w[c * per + j] += alpha[p * o + c] * s[(p * o + c) * per + j];
                }
            }
        }
        return w;
    }

    /**
     * The float graph with each binarized layer's weight replaced by its effective weight, laid
     * out as the float op wants it (Gemm's alpha divided back out, [IN, OUT] transposed back).
     */
    static Graph reference(Graph g, BinarizeResult r) {
        Graph.Builder ref = g.toBuilder();
        for (LayerReport l : r.layers()) {
            if (!l.binarized()) {
                continue;
            }
            Node fl = TestGraphs.find(g, l.name());
            float[] eff = effective(r.graph(), TestGraphs.find(r.graph(), l.name()));
            Tensor w = g.initializer(fl.input(1));
            int[] s = w.shape();
            float[] laid = new float[eff.length];
            boolean transposed = fl.opType().equals("MatMul")
                    || fl.opType().equals("Gemm") && fl.attrInt("transB", 0) == 0;
            float scale = fl.opType().equals("Gemm") ? fl.attrFloat("alpha", 1f) : 1f;
            for (int i = 0; i < eff.length; i++) {
                if (transposed) {
                    int out = s[1];
                    int in = s[0];
                    laid[(i % in) * out + i / in] = eff[i] / scale;
                } else {
                    laid[i] = eff[i] / scale;
                }
            }
            ref.initializer(fl.input(1), Tensor.ofFloats(s, laid));
        }
        return ref.build();
    }

    /** Runs both graphs on x and compares every value they both compute. */
    static void assertSameValues(Graph expected, Graph actual, Value x, String what) {
        Set<String> names = new HashSet<>();
        for (Node n : expected.nodes()) {
            names.addAll(n.outputs());
        }
        Set<String> both = new HashSet<>();
        for (Node n : actual.nodes()) {
            for (String o : n.outputs()) {
                if (names.contains(o)) {
                    both.add(o);
                }
            }
        }
        assertFalse(both.isEmpty());
        Map<String, Value> e = TestGraphs.run(expected, x, both);
        Map<String, Value> a = TestGraphs.run(actual, x, both);
        for (String v : both) {
            if (e.get(v).isFloat()) {
                TestGraphs.assertClose(e.get(v), a.get(v), 2e-4, what + " value " + v);
            }
        }
    }
}
