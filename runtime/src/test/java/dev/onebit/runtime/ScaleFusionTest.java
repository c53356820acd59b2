package dev.onebit.runtime;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.kernels.Close;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The executor's fusion of a Binarize with the activation scales of the same activation
 * ({@link ScaleFusion}) against the literal graph on the reference kernels: the same bits,
 * the Relu left out only where nothing else reads it, and its value still there when asked for.
 */
class ScaleFusionTest {
    private static final String D = OpRegistry.ONEBIT_DOMAIN;

    private static Map<String, Attribute> attrs(int k, int stride, int pad) {
        Map<String, Attribute> a = new LinkedHashMap<>();
        a.put("kernel_shape", Attribute.ofInts(k, k));
        a.put("strides", Attribute.ofInts(stride, stride));
        a.put("pads", Attribute.ofInts(pad, pad, pad, pad));
        return a;
    }

    /**
     * A ResNet block as the converter writes it with activation scales: x read by a 3x3 conv
     * and a 1x1 stride-2 downsample (two scales of Relu(x), one Binarize); the 3x3 conv's
     * output read by a 3x3 stride-2 conv (Relu(y1) a graph output too, when asked); the sum.
     */
    private static Graph block(Random r, int c, boolean reluAlsoOutput) {
        Graph.Builder g = Graph.builder("block").opset("", 13).opset(D, OpRegistry.ONEBIT_OPSET);
        g.input(new ValueInfo("x", DataType.FLOAT, null));
        int m = 70;
        g.initializer("b1", Tensor.ofSigns(new int[] {1, m, c, 3, 3}, Close.random(r, m * c * 9)));
        g.initializer("a1", Tensor.ofFloats(new int[] {1, m}, Close.random(r, m)));
        g.initializer("bias1", Tensor.ofFloats(new int[] {m}, Close.random(r, m)));
        g.initializer("b2", Tensor.ofSigns(new int[] {1, m, c, 1, 1}, Close.random(r, m * c)));
        g.initializer("a2", Tensor.ofFloats(new int[] {1, m}, Close.random(r, m)));
        g.initializer("b3", Tensor.ofSigns(new int[] {1, m, m, 3, 3}, Close.random(r, m * m * 9)));
        g.initializer("a3", Tensor.ofFloats(new int[] {1, m}, Close.random(r, m)));
        Map<String, Attribute> conv1 = new LinkedHashMap<>(attrs(3, 1, 1));
        conv1.put("method", Attribute.of("xnor"));
        g.node(Node.of("relu0", "Relu", List.of("x"), List.of("r0"), Map.of()));
        g.node(new Node("scale1", "ActivationScale", D, List.of("r0"), List.of("k1"), attrs(3, 1, 1)));
        g.node(new Node("sign0", "Binarize", D, List.of("x"), List.of("xs"), Map.of()));
        g.node(new Node("conv1", "BinaryConv", D, List.of("xs", "b1", "a1", "bias1", "k1"), List.of("y1"), conv1));
        g.node(new Node("scale2", "ActivationScale", D, List.of("r0"), List.of("k2"), attrs(1, 2, 0)));
        g.node(new Node("conv2", "BinaryConv", D, List.of("xs", "b2", "a2", "", "k2"), List.of("y2"), attrs(1, 2, 0)));
        g.node(new Node("sign1", "Binarize", D, List.of("y1"), List.of("y1s"), Map.of()));
        g.node(Node.of("relu1", "Relu", List.of("y1"), List.of("r1"), Map.of()));
        g.node(new Node("scale3", "ActivationScale", D, List.of("r1"), List.of("k3"), attrs(3, 2, 1)));
        g.node(new Node("conv3", "BinaryConv", D, List.of("y1s", "b3", "a3", "", "k3"), List.of("y3"), attrs(3, 2, 1)));
        g.node(Node.of("add", "Add", List.of("y3", "y2"), List.of("y"), Map.of()));
        g.output(new ValueInfo("y", DataType.FLOAT, null));
        if (reluAlsoOutput) {
            g.output(new ValueInfo("r1", DataType.FLOAT, null));
        }
        return g.build();
    }

    private static Value input(Random r, int n, int c, int hw) {
        float[] x = Close.random(r, n * c * hw * hw);
        float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY};
        for (int k = 0; k < 4; k++) {
            x[r.nextInt(x.length)] = special[k];
        }
        return Value.ofFloats(new int[] {n, c, hw, hw}, x);
    }

    private static List<String> ops(Executor e) {
        return e.scheduledNodes().stream().map(Node::opType).toList();
    }

    @Test
    void fusedScheduleGivesTheLiteralGraphsBits() {
        Random r = new Random(11);
        int c = 67;
        Graph graph = block(r, c, false);
        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        assertEquals(2, ops(fast).stream().filter(ScaleFusion.OP_TYPE::equals).count(), ops(fast).toString());
        assertFalse(ops(fast).contains("ActivationScale"), ops(fast).toString());
        assertFalse(ops(fast).contains("Relu"), "both Relus are read by scales alone: " + ops(fast));
        assertTrue(ops(reference).contains("ActivationScale"), "the reference runs the literal graph");
        // The fused node emits packed signs for the conv that reads them.
        assertTrue(fast.packedOutputNodes().contains("sign0"), fast.packedOutputNodes().toString());
        for (int n = 1; n <= 2; n++) {
            Map<String, Value> in = Map.of("x", input(r, n, c, 9));
            Value want = reference.run(in).get("y");
            Value got = fast.run(in).get("y");
            assertArrayEquals(want.shape, got.shape);
            assertArrayEquals(want.floats, got.floats, "batch " + n);
        }
    }

    @Test
    void aReluOtherNodesReadStaysAndLeftOutValuesCanStillBeAskedFor() {
        Random r = new Random(12);
        int c = 5;
        Graph graph = block(r, c, true);
        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        assertEquals(List.of("relu1"), fast.scheduledNodes().stream().filter(n -> n.opType().equals("Relu"))
                .map(Node::name).toList(), "relu0 left out, relu1 kept for the graph output");
        Map<String, Value> in = Map.of("x", input(r, 1, c, 8));
        Set<String> keep = Set.of("r0", "k1", "k2", "k3", "xs");
        Map<String, Value> want = reference.run(in, keep);
        Map<String, Value> got = fast.run(in, keep);
        for (String v : List.of("y", "r1", "r0", "k1", "k2", "k3", "xs")) {
            assertArrayEquals(want.get(v).floats, got.get(v).floats, v);
        }
        Map<String, Value> shapes = fast.inferShapes(Map.of("x", Value.shapeOnly(new int[] {1, c, 8, 8})));
        assertArrayEquals(new int[] {1, c, 8, 8}, shapes.get("r0").shape, "shape inference sees every value");
        assertArrayEquals(new int[] {1, 1, 4, 4}, shapes.get("k2").shape);
    }
}
