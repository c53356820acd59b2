package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Close;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whole graphs with XNOR layers (standard registry: XNOR kernels where the input is ±1,
 * activations packed between them) against the same graphs on the reference kernels
 * ({@link OpRegistry#reference()}): equal bit for bit where the inputs are ±1.
 */
class BinaryGraphTest {

    private static float[] positive(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.1f + r.nextFloat();
        }
        return v;
    }

    /**
     * x -> Binarize -> BinaryConv 3x3 pad 1 (K=1, bias) -> Relu -> Binarize -> MaxPool ->
     * BinaryConv 3x3 stride 2 asymmetric pads (K=2, ActivationScale) -> BinaryConv BWN (float
     * input) -> Binarize -> Flatten -> BinaryMatMul (K=3): XNOR layers at three places (one
     * through a MaxPool), a BWN layer that must stay on the reference path.
     */
    private static Graph graph(Random r, int c, int hw) {
        Graph.Builder g = Graph.builder("xnor").opset("", 13).opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET);
        g.input(new ValueInfo("x", DataType.FLOAT, null));
        String d = OpRegistry.ONEBIT_DOMAIN;
        int m1 = 70;
        int m2 = 33;
        int m3 = 8;
        g.initializer("b1", Tensor.ofSigns(new int[] {1, m1, c, 3, 3}, Close.random(r, m1 * c * 9)));
        g.initializer("a1", Tensor.ofFloats(new int[] {1, m1}, positive(r, m1)));
        g.initializer("bias1", Tensor.ofFloats(new int[] {m1}, Close.random(r, m1)));
        g.initializer("b2", Tensor.ofSigns(new int[] {2, m2, m1, 3, 3}, Close.random(r, 2 * m2 * m1 * 9)));
        g.initializer("a2", Tensor.ofFloats(new int[] {2, m2}, positive(r, 2 * m2)));
        g.initializer("b3", Tensor.ofSigns(new int[] {1, m3, m2, 1, 1}, Close.random(r, m3 * m2)));
        g.initializer("a3", Tensor.ofFloats(new int[] {1, m3}, positive(r, m3)));
        int pooled = hw / 2;
        int in4 = m3 * ((pooled + 1 + 2 - 3) / 2 + 1) * ((pooled + 0 + 1 - 3) / 2 + 1);
        g.initializer("b4", Tensor.ofSigns(new int[] {3, 10, in4}, Close.random(r, 30 * in4)));
        g.initializer("a4", Tensor.ofFloats(new int[] {3, 10}, positive(r, 30)));
        g.initializer("bias4", Tensor.ofFloats(new int[] {10}, Close.random(r, 10)));

        Map<String, Attribute> conv1 = new LinkedHashMap<>();
        conv1.put("pads", Attribute.ofInts(1, 1, 1, 1));
        conv1.put("method", Attribute.of("xnor"));
        Map<String, Attribute> conv2 = new LinkedHashMap<>();
        conv2.put("pads", Attribute.ofInts(1, 0, 2, 1));
        conv2.put("strides", Attribute.ofInts(2, 2));
        conv2.put("kernel_shape", Attribute.ofInts(3, 3));
        Map<String, Attribute> scaleAttrs = new LinkedHashMap<>(conv2);
        Map<String, Attribute> pool = new LinkedHashMap<>();
        pool.put("kernel_shape", Attribute.ofInts(2, 2));
        pool.put("strides", Attribute.ofInts(2, 2));

        g.node(new Node("s0", "Binarize", d, List.of("x"), List.of("x_sign"), Map.of()));
        g.node(new Node("conv1", "BinaryConv", d, List.of("x_sign", "b1", "a1", "bias1"), List.of("y1"), conv1));
        g.node(Node.of("relu1", "Relu", List.of("y1"), List.of("r1"), Map.of()));
        g.node(new Node("s1", "Binarize", d, List.of("y1"), List.of("y1_sign"), Map.of()));
        g.node(Node.of("pool1", "MaxPool", List.of("y1_sign"), List.of("p1"), pool));
        g.node(Node.of("pool_r", "MaxPool", List.of("r1"), List.of("rp"), pool));
        g.node(new Node("scale2", "ActivationScale", d, List.of("rp"), List.of("k2"), scaleAttrs));
        g.node(new Node("conv2", "BinaryConv", d, List.of("p1", "b2", "a2", "", "k2"), List.of("y2"), conv2));
        g.node(new Node("conv3", "BinaryConv", d, List.of("y2", "b3", "a3"), List.of("y3"), Map.of()));
        g.node(new Node("s3", "Binarize", d, List.of("y3"), List.of("y3_sign"), Map.of()));
        g.node(Node.of("flat", "Flatten", List.of("y3_sign"), List.of("f"), Map.of()));
        g.node(new Node("fc", "BinaryMatMul", d, List.of("f", "b4", "a4", "bias4"), List.of("y"), Map.of()));
        g.output(new ValueInfo("y", DataType.FLOAT, null));
        return g.build();
    }

    @Test
    void xnorKernelsMatchTheReferenceOnAWholeGraph() {
        Random r = new Random(3);
        int c = 67;
        int hw = 12;
        Graph graph = graph(r, c, hw);
        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        Set<String> keep = Set.of("y1", "y2", "y3");
        for (int n = 1; n <= 2; n++) {
            Map<String, Value> in = Map.of("x", Value.ofFloats(new int[] {n, c, hw, hw}, Close.random(r, n * c * hw * hw)));
            Map<String, Value> a = fast.run(in, keep);
            Map<String, Value> b = reference.run(in, keep);
            // conv3 is BWN (real-valued input): one conv with the effective weight in the fast
            // registry, equal to the reference's per-plane conv up to float rounding. Its signs
            // agree (no output of this data lies within rounding of 0), so everything downstream
            // of its Binarize must be bit-equal again.
            Value a3 = a.get("y3");
            Value b3 = b.get("y3");
            double scale3 = 0;
            for (float v : b3.floats) {
                scale3 = Math.max(scale3, Math.abs(v));
            }
            for (int i = 0; i < a3.size(); i++) {
                assertEquals(b3.floats[i], a3.floats[i], 1e-5 * scale3, "y3 element " + i);
                assertEquals(b3.floats[i] < 0, a3.floats[i] < 0, "sign of y3 element " + i);
            }
            for (String name : List.of("y1", "y2", "y")) {
                Value va = a.get(name);
                Value vb = b.get(name);
                assertArrayEquals(vb.shape, va.shape, name);
                // Bit for bit: integer dot products, then the same float output step (BinaryOps.outputStep).
                assertArrayEquals(vb.floats, va.floats, name);
            }
        }
    }

    /**
     * Without intermediate values asked for, activations stay packed from layer to layer: conv3
     * gives only signs (its one consumer is a Binarize), the MaxPool and the Flatten pass packed
     * words on. The output is still the reference's.
     */
    @Test
    void packedActivationsGiveTheReferenceOutput() {
        Random r = new Random(5);
        int c = 130;
        int hw = 10;
        Graph graph = graph(r, c, hw);
        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        assertEquals(List.of("s0", "s1", "pool1", "conv3", "s3", "flat"), fast.packedOutputNodes());
        assertEquals(List.of(), reference.packedOutputNodes());
        for (int n = 1; n <= 3; n++) {
            Map<String, Value> in = Map.of("x", Value.ofFloats(new int[] {n, c, hw, hw}, Close.random(r, n * c * hw * hw)));
            Value a = fast.run(in).get("y");
            Value b = reference.run(in).get("y");
            assertArrayEquals(b.shape, a.shape);
            assertArrayEquals(b.floats, a.floats, "n " + n);
        }
    }

    /** A pool of real values before a BWN layer has nothing packed to pass on: no node is planned packed. */
    @Test
    void realValuedChainsStayUnpacked() {
        Random r = new Random(6);
        Graph.Builder g = Graph.builder("bwn").opset("", 13).opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET);
        g.input(new ValueInfo("x", DataType.FLOAT, null));
        g.initializer("b", Tensor.ofSigns(new int[] {1, 4, 3, 3, 3}, Close.random(r, 4 * 27)));
        g.initializer("a", Tensor.ofFloats(new int[] {1, 4}, positive(r, 4)));
        Map<String, Attribute> pool = new LinkedHashMap<>();
        pool.put("kernel_shape", Attribute.ofInts(2, 2));
        g.node(Node.of("relu", "Relu", List.of("x"), List.of("r"), Map.of()));
        g.node(Node.of("pool", "MaxPool", List.of("r"), List.of("p"), pool));
        g.node(new Node("conv", "BinaryConv", OpRegistry.ONEBIT_DOMAIN, List.of("p", "b", "a"), List.of("y"), Map.of()));
        g.output(new ValueInfo("y", DataType.FLOAT, null));
        assertEquals(List.of(), Executor.create(g.build()).packedOutputNodes());
    }

    /** The conv after the MaxPool really reads ±1, so it is the XNOR path that was compared. */
    @Test
    void maxPoolOfSignsIsStillSigns() {
        Random r = new Random(4);
        Graph graph = graph(r, 5, 8);
        Map<String, Value> out = Executor.create(graph).run(Map.of("x",
                Value.ofFloats(new int[] {1, 5, 8, 8}, Close.random(r, 5 * 64))), Set.of("p1"));
        for (float v : out.get("p1").floats) {
            assertTrue(v == 1f || v == -1f, "p1 holds " + v);
        }
    }
}
