package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
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
import static org.junit.jupiter.api.Assertions.assertSame;

/** Pass {@value PoolBeforeClampPass#NAME}, before and after. */
class PoolBeforeClampPassTest {

    /**
     * x -> Conv -> Relu -> MaxPool(k, pads) -> {Conv c2 (binarized xnor), Add with itself
     * (a real reader, as a residual shortcut is)} -> outputs. ResNet's stem in small.
     */
    private static Graph stem(long[] pads, int kernel, boolean realReader) {
        return stem(pads, kernel, realReader, Float.NaN);
    }

    /** As above, with {@code Clip(y1, 0, clipMax)} for the Relu unless clipMax is NaN. */
    private static Graph stem(long[] pads, int kernel, boolean realReader, float clipMax) {
        Graph.Builder b = TestGraphs.builder(3, 12, 12);
        b.initializer("w1", TestGraphs.tensor(1, 8, 3, 3, 3));
        b.initializer("w2", TestGraphs.tensor(2, 8, 8, 3, 3));
        b.node(node("c1", "Conv", List.of("x", "w1"), "y1", attrs("pads", ints(1, 1, 1, 1))));
        if (Float.isNaN(clipMax)) {
            b.node(node("relu", "Relu", List.of("y1"), "r", Map.of()));
        } else {
            b.initializer("lo", Tensor.ofFloats(new int[0], new float[] {0f}));
            b.initializer("hi", Tensor.ofFloats(new int[0], new float[] {clipMax}));
            b.node(node("relu", "Clip", List.of("y1", "lo", "hi"), "r", Map.of()));
        }
        b.node(node("pool", "MaxPool", List.of("r"), "p",
                attrs("kernel_shape", ints(kernel, kernel), "strides", ints(2, 2), "pads", pads)));
        b.node(node("c2", "Conv", List.of("p", "w2"), "y2", attrs("pads", ints(1, 1, 1, 1))));
        b.output(new ValueInfo("y2", DataType.FLOAT, null));
        if (realReader) {
            b.node(node("add", "Add", List.of("p", "p"), "s", Map.of()));
            b.output(new ValueInfo("s", DataType.FLOAT, null));
        }
        return b.build();
    }

    /** The xnor binarization of c2 only (c1 stays float). */
    private static Graph binaryC2(Graph g) {
        List<Layer> layers = Layer.find(g).stream().filter(l -> l.node().name().equals("c2")).toList();
        return WeightBinarizationPass.apply(g, layers, Method.XNOR, 1, 0).graph();
    }

    @Test
    void poolMovesBeforeTheReluAndComputesTheSameBits() {
        Graph before = binaryC2(stem(ints(1, 1, 1, 1), 3, true));
        Graph after = PoolBeforeClampPass.apply(before, false);
        Node relu = producer(after, "p");
        assertEquals("Relu", relu.opType());
        Node pool = producer(after, relu.input(0));
        assertEquals("MaxPool", pool.opType());
        assertEquals("y1", pool.input(0));
        assertEquals(producer(before, "p").attributes(), pool.attributes());
        for (long seed = 0; seed < 3; seed++) {
            Value x = TestGraphs.input(seed, 2, 3, 12, 12);
            Map<String, Value> a = TestGraphs.run(before, x, Set.of("p"));
            Map<String, Value> b = TestGraphs.run(after, x, Set.of("p"));
            for (String v : List.of("p", "y2", "s")) {
                assertArrayEquals(a.get(v).floats, b.get(v).floats, v);
            }
        }
    }

    /** Then the look-through binarizes the pooled value: one Binarize at the pooled size, no pool of signs. */
    @Test
    void binarizerTakesTheSignAfterThePool() {
        Graph g = stem(ints(1, 1, 1, 1), 3, true);
        Graph b = Binarizer.binarize(g, BinarizeOptions.of(Method.XNOR).withKeepFloat(KeepFloat.names(List.of("c1")))
                .withScaleActivations(false)).graph();
        Node conv = TestGraphs.find(b, "c2");
        Node sign = producer(b, conv.input(0));
        assertEquals("Binarize", sign.opType());
        assertEquals("MaxPool", producer(b, sign.input(0)).opType());
        assertEquals("y1", producer(b, sign.input(0)).input(0));
        assertEquals(1, b.nodes().stream().filter(n -> n.opType().equals("MaxPool")).count());
    }

    @Test
    void leftAloneWhereItIsNotExactOrDoesNotPay() {
        // Only binary layers read the pool: a float pool would exist just to be binarized.
        Graph onlyBinary = binaryC2(stem(ints(1, 1, 1, 1), 3, false));
        assertSame(onlyBinary, PoolBeforeClampPass.apply(onlyBinary, false));
        assertEquals("Relu", producer(PoolBeforeClampPass.apply(onlyBinary, true), "p").opType(),
                "with activation scales every pool qualifies");
        // A window could lie wholly in the padding (pad >= kernel): -inf there, 0 after a Relu.
        Graph widePad = binaryC2(stem(ints(2, 2, 2, 2), 2, true));
        assertSame(widePad, PoolBeforeClampPass.apply(widePad, true));
        // The Relu has another reader: it must stay where it is.
        Graph shared = binaryC2(stem(ints(1, 1, 1, 1), 3, true)).toBuilder()
                .node(node("other", "Sigmoid", List.of("r"), "o", Map.of()))
                .output(new ValueInfo("o", DataType.FLOAT, null)).build();
        assertSame(shared, PoolBeforeClampPass.apply(shared, true));
    }

    /**
     * VGG's last block in small: x -> Conv -> Relu -> MaxPool -> Flatten -> Gemm (binarized
     * xnor, a BinaryMatMul: no activation scale) -> Gemm (the float classifier).
     */
    private static Graph head() {
        Graph.Builder b = TestGraphs.builder(3, 8, 8);
        b.initializer("w1", TestGraphs.tensor(1, 8, 3, 3, 3));
        b.initializer("fc1", TestGraphs.tensor(2, 16, 128));
        b.initializer("fc2", TestGraphs.tensor(3, 10, 16));
        b.node(node("c1", "Conv", List.of("x", "w1"), "y1", attrs("pads", ints(1, 1, 1, 1))));
        b.node(node("relu", "Relu", List.of("y1"), "r", Map.of()));
        b.node(node("pool", "MaxPool", List.of("r"), "p", attrs("kernel_shape", ints(2, 2), "strides", ints(2, 2))));
        b.node(node("flat", "Flatten", List.of("p"), "f", Map.of()));
        b.node(node("fc1", "Gemm", List.of("f", "fc1"), "h", attrs("transB", 1L)));
        b.node(node("fc2", "Gemm", List.of("h", "fc2"), "logits", attrs("transB", 1L)));
        b.output(new ValueInfo("logits", DataType.FLOAT, null));
        return b.build();
    }

    /**
     * With activation scales, only a BinaryConv reads the pool's real value (its K); a pool read
     * by nothing but a BinaryMatMul keeps the pool of signs, and the layer before it can then
     * give its output packed.
     */
    @Test
    void aPoolOnlyABinaryMatMulReadsStaysAPoolOfSigns() {
        Graph g = head();
        Graph binary = Binarizer.binarize(g, BinarizeOptions.of(Method.XNOR).withKeepFloat(KeepFloat.names(List.of("c1")))
                .withScaleActivations(true)).graph();
        Node fc1 = TestGraphs.find(binary, "fc1");
        assertEquals("BinaryMatMul", fc1.opType());
        Node flat = producer(binary, fc1.input(0));
        assertEquals("Flatten", flat.opType());
        Node pool = producer(binary, flat.input(0));
        assertEquals("MaxPool", pool.opType());
        assertEquals("Binarize", producer(binary, pool.input(0)).opType());
        assertEquals("y1", producer(binary, pool.input(0)).input(0));
        assertEquals(0, binary.nodes().stream().filter(n -> n.opType().equals("ActivationScale")).count());
        Graph layers = binaryFc1(head());
        assertSame(layers, PoolBeforeClampPass.apply(layers, true));
    }

    private static Graph binaryFc1(Graph g) {
        List<Layer> layers = Layer.find(g).stream().filter(l -> l.node().name().equals("fc1")).toList();
        return WeightBinarizationPass.apply(g, layers, Method.XNOR, 1, 0).graph();
    }

    /**
     * The clamps moved are the ones the look-through sees through: Clip with min 0 and a
     * positive max, not one whose max lets no positive value out.
     */
    @Test
    void clipMovesOnlyWhereTheLookThroughUsesIt() {
        Graph clip6 = binaryC2(stem(ints(1, 1, 1, 1), 3, true, 6f));
        Graph moved = PoolBeforeClampPass.apply(clip6, false);
        assertEquals("Clip", producer(moved, "p").opType());
        assertEquals("MaxPool", producer(moved, producer(moved, "p").input(0)).opType());
        Graph clipNegative = binaryC2(stem(ints(1, 1, 1, 1), 3, true, -1f));
        assertSame(clipNegative, PoolBeforeClampPass.apply(clipNegative, true));
    }
}
