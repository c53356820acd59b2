package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.ShapeInference;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.onebit.binarizer.TestGraphs.attrs;
import static dev.onebit.binarizer.TestGraphs.ints;
import static dev.onebit.binarizer.TestGraphs.node;
import static dev.onebit.binarizer.TestGraphs.producer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RealShortcutPassTest {

    private static BinarizeResult bireal(Graph g, KeepFloat keep) {
        return Binarizer.binarize(g, BinarizeOptions.of(Method.BIREAL).withKeepFloat(keep));
    }

    /** Every shortcut Add of g adds two values of the same shape. */
    private static int assertShortcutShapes(Graph g) {
        Map<String, Value> shapes = ShapeInference.evaluate(g).atBatch1();
        int adds = 0;
        for (Node n : g.nodes()) {
            if (n.name().endsWith(RealShortcutPass.ADD_SUFFIX)) {
                adds++;
                assertArrayEquals(shapes.get(n.input(0)).shape, shapes.get(n.input(1)).shape, n.name());
                assertArrayEquals(shapes.get(n.input(0)).shape, shapes.get(n.output(0)).shape, n.name());
            }
        }
        return adds;
    }

    @Test
    void vggGetsIdentityAndChannelMappingShortcutsAfterBatchNorm() {
        Graph g = Samples.model("vgg");
        BinarizeResult r = bireal(g, KeepFloat.DEFAULT);
        Graph b = r.graph();
        assertEquals(5, assertShortcutShapes(b), "one per binary conv, none for the Gemm");

        Node add = TestGraphs.find(b, "/features/features.3/Conv" + RealShortcutPass.ADD_SUFFIX);
        assertEquals("/features/features.4/BatchNormalization_output_0", add.output(0), "the sum takes over the BN output's name");
        Node bn = producer(b, add.input(0));
        assertEquals("/features/features.4/BatchNormalization", bn.name());
        assertEquals("/features/features.4/BatchNormalization_output_0/body", bn.output(0));
        assertEquals("/features/features.3/Conv_output_0", bn.input(0), "the conv keeps its output name");
        assertEquals("/features/features.2/Relu_output_0", add.input(1), "identity shortcut from the real input");
        assertNotEquals(add.input(1), TestGraphs.find(b, "/features/features.3/Conv").input(0), "the conv reads signs");
        assertTrue(r.layer("/features/features.3/Conv").note().contains("identity"), r.layer("/features/features.3/Conv").note());

        Node add7 = TestGraphs.find(b, "/features/features.7/Conv" + RealShortcutPass.ADD_SUFFIX);
        Node map = producer(b, add7.input(1));
        assertEquals("Conv", map.opType());
        assertEquals("/features/features.6/MaxPool_output_0", map.input(0));
        float[] w = b.initializer(map.input(1)).toFloatArray();
        assertArrayEquals(new int[] {64, 32, 1, 1}, b.initializer(map.input(1)).shape());
        for (int o = 0; o < 64; o++) {
            for (int c = 0; c < 32; c++) {
                assertEquals(c == o % 32 ? 1f : 0f, w[o * 32 + c]);
            }
        }
        assertTrue(r.layer("/features/features.7/Conv").note().contains("1x1 Conv 32->64"));

        // Start values: output channel o of the mapping conv is input channel o mod 32.
        Map<String, Value> v = TestGraphs.run(b, Samples.images("test2k", 2), Set.of(map.input(0), map.output(0)));
        Value in = v.get(map.input(0));
        Value out = v.get(map.output(0));
        int plane = 14 * 14;
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 64; o++) {
                for (int p = 0; p < plane; p++) {
                    assertEquals(in.floats[(n * 32 + o % 32) * plane + p], out.floats[(n * 64 + o) * plane + p], 1e-6);
                }
            }
        }
    }

    @Test
    void strideTwoGetsAveragePoolAndWithoutBatchNormTheAddFollowsTheConv() {
        Graph b = bireal(Samples.model("resnet"), KeepFloat.DEFAULT).graph();
        assertEquals(8, assertShortcutShapes(b));
        String conv = "/stages/stages.1/body1/body1.0/Conv";
        Node add = TestGraphs.find(b, conv + RealShortcutPass.ADD_SUFFIX);
        assertEquals(conv + "_output_0", add.output(0));
        assertEquals(conv, producer(b, add.input(0)).name());
        assertEquals(conv + "_output_0/body", add.input(0));
        Node map = producer(b, add.input(1));
        Node pool = producer(b, map.input(0));
        assertEquals("AveragePool", pool.opType());
        assertArrayEquals(ints(2, 2), pool.attrInts("kernel_shape", null));
        assertArrayEquals(ints(2, 2), pool.attrInts("strides", null));
        assertEquals(0, pool.attrInt("ceil_mode", -1));
        assertEquals("/stages/stages.0/Relu_1_output_0", pool.input(0));

        Map<String, Value> v = TestGraphs.run(b, Samples.images("test2k", 1), Set.of(pool.input(0), pool.output(0)));
        Value in = v.get(pool.input(0));
        Value out = v.get(pool.output(0));
        for (int c = 0; c < 16; c++) {
            for (int i = 0; i < 14; i++) {
                for (int j = 0; j < 14; j++) {
                    int base = c * 784 + 2 * i * 28 + 2 * j;
                    float mean = (in.floats[base] + in.floats[base + 1] + in.floats[base + 28] + in.floats[base + 29]) / 4;
                    assertEquals(mean, out.floats[c * 196 + i * 14 + j], 1e-5);
                }
            }
        }
    }

    @Test
    void oddSizesUseCeilModeAndUnmatchableShapesGetNoShortcut() {
        Graph.Builder gb = TestGraphs.builder(3, 7, 7);
        gb.initializer("w0", TestGraphs.tensor(1, 3, 3, 3, 3));
        gb.node(node("first", "Conv", List.of("x", "w0"), "y0", attrs("pads", ints(1, 1, 1, 1))));
        gb.initializer("w1", TestGraphs.tensor(2, 5, 3, 3, 3));
        gb.node(node("down", "Conv", List.of("y0", "w1"), "y1", attrs("pads", ints(1, 1, 1, 1), "strides", ints(2, 2))));
        gb.initializer("w2", TestGraphs.tensor(3, 5, 5, 3, 3));
        gb.node(node("valid", "Conv", List.of("y1", "w2"), "y2", Map.of()));
        gb.output(new ValueInfo("y2", DataType.FLOAT, null));
        BinarizeResult r = bireal(gb.build(), KeepFloat.parse("first"));
        Node pool = producer(r.graph(), producer(r.graph(), TestGraphs.find(r.graph(), "down"
                + RealShortcutPass.ADD_SUFFIX).input(1)).input(0));
        assertEquals(1, pool.attrInt("ceil_mode", -1), "7 -> 4 needs ceil_mode");
        assertEquals(1, assertShortcutShapes(r.graph()));
        assertTrue(r.layer("valid").note().startsWith("no real shortcut"), r.layer("valid").note());
        assertFalse(r.graph().nodes().stream().anyMatch(n -> n.name().equals("valid" + RealShortcutPass.ADD_SUFFIX)));
    }

    @Test
    void plainSumTakesOverTheConvOutputName() {
        Graph g = Samples.model("plain");
        Graph b = bireal(g, KeepFloat.DEFAULT).graph();
        Node add = TestGraphs.find(b, "/conv2/Conv" + RealShortcutPass.ADD_SUFFIX);
        assertEquals("/conv2/Conv_output_0", add.output(0));
        assertEquals("/conv2/Conv_output_0/body", TestGraphs.find(b, "/conv2/Conv").output(0));
        assertTrue(b.nodes().stream().anyMatch(n -> n.opType().equals("Binarize") && n.input(0).equals(add.output(0))),
                "fc1's sign is taken of the sum, which kept the conv output's name");
        assertEquals(1, assertShortcutShapes(b));
    }
}
