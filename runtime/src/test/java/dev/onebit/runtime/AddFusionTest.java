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

/**
 * The executor's fusion of a binary layer with the Add that is its only reader
 * ({@link AddFusion}) against the literal graph on the reference kernels: the same bits where
 * the layer's kernel adds in its output step, and where it cannot (a real-valued input, a
 * broadcast operand) through the Add's own kernel; a layer output read twice is not fused.
 */
class AddFusionTest {
    private static final String D = OpRegistry.ONEBIT_DOMAIN;

    /**
     * Bi-Real blocks in small, c channels at 6x6: x -> Binarize -> conv1 (3x3) + x;
     * -> Binarize -> conv2 (3x3), added as the Add's second operand to a [1, c, 1, 1] bias
     * (a broadcast the layer cannot take); conv3 reads the real value (not ±1) and is added
     * to it; conv4's output is read by its Add and by the graph output.
     */
    private static Graph blocks(Random r, int c) {
        Graph.Builder g = Graph.builder("bireal").opset("", 13).opset(D, OpRegistry.ONEBIT_OPSET);
        g.input(new ValueInfo("x", DataType.FLOAT, null));
        Map<String, Attribute> conv = new LinkedHashMap<>();
        conv.put("pads", Attribute.ofInts(1, 1, 1, 1));
        conv.put("method", Attribute.of("bireal"));
        for (int k = 1; k <= 4; k++) {
            g.initializer("b" + k, Tensor.ofSigns(new int[] {1, c, c, 3, 3}, Close.random(r, c * c * 9)));
            g.initializer("a" + k, Tensor.ofFloats(new int[] {1, c}, Close.random(r, c)));
            g.initializer("bias" + k, Tensor.ofFloats(new int[] {c}, Close.random(r, c)));
        }
        g.initializer("shift", Tensor.ofFloats(new int[] {1, c, 1, 1}, Close.random(r, c)));
        g.node(new Node("s1", "Binarize", D, List.of("x"), List.of("xs"), Map.of()));
        g.node(new Node("conv1", "BinaryConv", D, List.of("xs", "b1", "a1", "bias1"), List.of("y1"), conv));
        g.node(Node.of("add1", "Add", List.of("y1", "x"), List.of("z1"), Map.of()));
        g.node(new Node("s2", "Binarize", D, List.of("z1"), List.of("z1s"), Map.of()));
        g.node(new Node("conv2", "BinaryConv", D, List.of("z1s", "b2", "a2", "bias2"), List.of("y2"), conv));
        g.node(Node.of("add2", "Add", List.of("shift", "y2"), List.of("z2"), Map.of()));
        g.node(new Node("conv3", "BinaryConv", D, List.of("z2", "b3", "a3", "bias3"), List.of("y3"), conv));
        g.node(Node.of("add3", "Add", List.of("z2", "y3"), List.of("z3"), Map.of()));
        g.node(new Node("s4", "Binarize", D, List.of("z3"), List.of("z3s"), Map.of()));
        g.node(new Node("conv4", "BinaryConv", D, List.of("z3s", "b4", "a4", "bias4"), List.of("y4"), conv));
        g.node(Node.of("add4", "Add", List.of("y4", "z3"), List.of("z4"), Map.of()));
        g.output(new ValueInfo("z4", DataType.FLOAT, null));
        g.output(new ValueInfo("y4", DataType.FLOAT, null));
        return g.build();
    }

    @Test
    void fusedLayersGiveTheLiteralGraphsBits() {
        Random r = new Random(41);
        int c = 70;
        Graph graph = blocks(r, c);
        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        List<String> fused = fast.scheduledNodes().stream().filter(n -> n.opType().equals(AddFusion.OP_TYPE))
                .map(Node::name).toList();
        assertEquals(List.of("conv1", "conv2", "conv3"), fused, "conv4's output is also a graph output");
        for (int n = 1; n <= 2; n++) {
            float[] x = Close.random(r, n * c * 36);
            x[r.nextInt(x.length)] = Float.NaN;
            x[r.nextInt(x.length)] = Float.NEGATIVE_INFINITY;
            Map<String, Value> in = Map.of("x", Value.ofFloats(new int[] {n, c, 6, 6}, x));
            Map<String, Value> want = reference.run(in);
            Map<String, Value> got = fast.run(in);
            for (String v : List.of("z4", "y4")) {
                assertArrayEquals(want.get(v).shape, got.get(v).shape, v);
                // conv3's input is real-valued: the fast registry runs it as one float conv with
                // the effective weight, equal to the reference up to float rounding; the other
                // layers are exact, so only z3 onwards may differ, and only by rounding.
                float[] a = want.get(v).floats;
                float[] b = got.get(v).floats;
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-3f * (1 + Math.abs(a[i])), v + " at " + i);
                }
            }
            Set<String> keep = Set.of("y1", "z1", "z2");
            Map<String, Value> wantKept = reference.run(in, keep);
            Map<String, Value> gotKept = fast.run(in, keep);
            for (String v : keep) {
                assertArrayEquals(wantKept.get(v).floats, gotKept.get(v).floats, v + ", exact: ±1 inputs");
            }
        }
    }

    /** The fused path is the layer's own output step, not the Add kernel behind it: ±1 in, a sum out. */
    @Test
    void theXnorKernelAddsTheResidualItself() {
        Random r = new Random(42);
        int c = 9;
        Graph graph = blocks(r, c);
        Node conv1 = graph.nodes().stream().filter(n -> n.name().equals("conv1")).findFirst().orElseThrow();
        Kernel k = OpRegistry.standard().find(D, "BinaryConv", OpRegistry.ONEBIT_OPSET).factory()
                .create(new NodeContext(conv1, OpRegistry.ONEBIT_OPSET, graph.initializers()::get));
        ResidualKernel layer = (ResidualKernel) k;
        float[] x = Close.random(r, c * 36);
        float[] signs = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            signs[i] = x[i] < 0 ? -1f : 1f;
        }
        int[] shape = {1, c, 6, 6};
        Value[] in = {Value.ofFloats(shape, signs), null, null, null};
        Value residual = Value.ofFloats(shape, x);
        Value y = layer.run(in)[0];
        float[] want = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            want[i] = y.floats[i] + x[i];
        }
        Value sum = layer.runPlus(in, residual, false);
        assertArrayEquals(want, sum.floats);
        assertEquals(null, layer.runPlus(in, Value.ofFloats(new int[] {1, c, 1, 1}, new float[c]), false),
                "a broadcast operand is left to the Add");
        assertEquals(null, layer.runPlus(new Value[] {residual, null, null, null}, residual, false),
                "a real-valued input is left to the float path");
    }
}
