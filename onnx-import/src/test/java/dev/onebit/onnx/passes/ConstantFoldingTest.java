package dev.onebit.onnx.passes;

import static dev.onebit.onnx.GraphFixtures.floats;
import static dev.onebit.onnx.GraphFixtures.graph;
import static dev.onebit.onnx.GraphFixtures.kernelsFor;
import static dev.onebit.onnx.GraphFixtures.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConstantFoldingTest {
    private static List<String> ops(Graph g) {
        return g.nodes().stream().map(Node::opType).toList();
    }

    @Test
    void constantNodesBecomeInitializers() {
        Tensor c = Tensor.ofFloats(new int[] {2}, new float[] {1, 2});
        Graph before = graph("g", 13).input(floats("x", 2)).output(floats("y", 2))
                .node(node("c", "Constant", List.of(), List.of("cv"), "value", Attribute.of(c)))
                .node(node("k", "Constant", List.of(), List.of("kv"), "value_ints", Attribute.ofInts(4, 5)))
                .node(node("f", "Constant", List.of(), List.of("fv"), "value_float", Attribute.of(0.5f)))
                .node(node("add", "FancyAdd", List.of("x", "cv", "kv", "fv"), List.of("y")))
                .build();
        Graph after = ConstantFolding.apply(before);
        assertEquals(List.of("FancyAdd"), ops(after));
        assertEquals(c, after.initializer("cv"));
        assertArrayEquals(new long[] {4, 5}, after.initializer("kv").toLongArray());
        assertEquals(0, after.initializer("fv").rank());
        assertEquals(0.5f, after.initializer("fv").toFloatArray()[0]);
    }

    @Test
    void nothingToFoldReturnsTheSameGraph() {
        Graph g = graph("g", 13).input(floats("x", 2)).output(floats("y", 2))
                .node(node("r", "Relu", List.of("x"), List.of("y"))).build();
        assertSame(g, ConstantFolding.apply(g));
    }

    @Test
    void unknownOperatorsOnConstantsStay() {
        Graph g = graph("g", 13).input(floats("x", 2)).output(floats("y", 2))
                .initializer("w", Tensor.ofFloats(new int[] {2}, new float[] {1, 2}))
                .node(node("m", "Mystery", List.of("w"), List.of("v")))
                .node(node("add", "Add", List.of("x", "v"), List.of("y"))).build();
        assertEquals(List.of("Mystery", "Add"), ops(ConstantFolding.apply(g)));
    }

    @Test
    void weightTransposeAndBiasReshapeAreEvaluated() {
        assumeTrue(kernelsFor(13, "Transpose", "Reshape", "MatMul", "Add"), "kernels missing");
        Tensor w = Tensor.ofFloats(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6});
        Graph before = graph("g", 13).input(floats("x", 1, 3)).output(floats("y", 1, 2))
                .initializer("w", w).initializer("b", Tensor.ofFloats(new int[] {2}, new float[] {10, 20}))
                .node(node("shape", "Constant", List.of(), List.of("s"), "value_ints", Attribute.ofInts(1, 2)))
                .node(node("t", "Transpose", List.of("w"), List.of("wt"), "perm", Attribute.ofInts(1, 0)))
                .node(node("rb", "Reshape", List.of("b", "s"), List.of("b2")))
                .node(node("mm", "MatMul", List.of("x", "wt"), List.of("h")))
                .node(node("add", "Add", List.of("h", "b2"), List.of("y"))).build();
        Graph after = ConstantFolding.apply(before);
        assertEquals(List.of("MatMul", "Add"), ops(after));
        assertArrayEquals(new int[] {3, 2}, after.initializer("wt").shape());
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, after.initializer("wt").toFloatArray());
        assertArrayEquals(new int[] {1, 2}, after.initializer("b2").shape());
        Graph clean = DeadNodeElimination.apply(after);
        assertEquals(List.of("wt", "b2"), List.copyOf(clean.initializers().keySet()));
    }
}
