package dev.onebit.onnx.passes;

import static dev.onebit.onnx.GraphFixtures.floats;
import static dev.onebit.onnx.GraphFixtures.graph;
import static dev.onebit.onnx.GraphFixtures.kernelsFor;
import static dev.onebit.onnx.GraphFixtures.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Value;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShapeChainFoldingTest {
    private static final Node RESHAPE = node("r", "Reshape", List.of("x", "s"), List.of("y"));

    private static Map<String, Value> run(int[] x, long[] s, int[] y) {
        return Map.of("x", Value.shapeOnly(x), "s", Value.ofLongs(new int[] {s.length}, s), "y", Value.shapeOnly(y));
    }

    @Test
    void batchTimesRest() {
        long[] t = ShapeChainFolding.constantTarget(RESHAPE,
                run(new int[] {1, 2, 3, 3}, new long[] {1, -1}, new int[] {1, 18}),
                run(new int[] {2, 2, 3, 3}, new long[] {2, -1}, new int[] {2, 18}));
        assertArrayEquals(new long[] {0, -1}, t);
    }

    @Test
    void computedProductBecomesMinusOne() {
        // x.view(x.size(0), x.size(1) * x.size(2) * x.size(3)) as PyTorch writes it.
        long[] t = ShapeChainFolding.constantTarget(RESHAPE,
                run(new int[] {1, 2, 3, 3}, new long[] {1, 18}, new int[] {1, 18}),
                run(new int[] {2, 2, 3, 3}, new long[] {2, 18}, new int[] {2, 18}));
        assertArrayEquals(new long[] {0, 18}, t);
        long[] flat = ShapeChainFolding.constantTarget(RESHAPE,
                run(new int[] {1, 2, 3}, new long[] {6}, new int[] {6}),
                run(new int[] {2, 2, 3}, new long[] {12}, new int[] {12}));
        assertArrayEquals(new long[] {-1}, flat);
    }

    @Test
    void twoVaryingElementsCannotBeFolded() {
        assertNull(ShapeChainFolding.constantTarget(RESHAPE,
                run(new int[] {1, 6}, new long[] {3, 2}, new int[] {3, 2}),
                run(new int[] {2, 6}, new long[] {4, 3}, new int[] {4, 3})));
    }

    @Test
    void targetThatDoesNotReproduceTheOutputIsRejected() {
        // A constant -1 already present leaves no room for a second free element.
        assertNull(ShapeChainFolding.constantTarget(RESHAPE,
                run(new int[] {1, 6}, new long[] {-1, 3, 2}, new int[] {1, 3, 2}),
                run(new int[] {2, 6}, new long[] {-1, 6, 2}, new int[] {1, 6, 2})));
    }

    @Test
    void torchFlattenChainIsReplaced() {
        assumeTrue(kernelsFor(13, "Shape", "Gather", "Unsqueeze", "Concat", "Reshape", "Relu"), "kernels missing");
        Graph before = graph("g", 13).input(floats("x", -1, 2, 3, 3)).output(floats("y", -1, 18))
                .initializer("zero", Tensor.ofLongs(new int[0], new long[] {0}))
                .initializer("axes", Tensor.ofLongs(new int[] {1}, new long[] {0}))
                .initializer("rest", Tensor.ofLongs(new int[] {1}, new long[] {-1}))
                .node(node("relu", "Relu", List.of("x"), List.of("a")))
                .node(node("shape", "Shape", List.of("a"), List.of("sh")))
                .node(node("gather", "Gather", List.of("sh", "zero"), List.of("n"), "axis", Attribute.of(0L)))
                .node(node("unsq", "Unsqueeze", List.of("n", "axes"), List.of("n1")))
                .node(node("cat", "Concat", List.of("n1", "rest"), List.of("target"), "axis", Attribute.of(0L)))
                .node(node("view", "Reshape", List.of("a", "target"), List.of("y")))
                .build();
        Graph after = DeadNodeElimination.apply(ShapeChainFolding.apply(before));
        assertEquals(List.of("Relu", "Reshape"), after.nodes().stream().map(Node::opType).toList());
        String target = after.nodes().get(1).input(1);
        assertArrayEquals(new long[] {0, -1}, after.initializer(target).toLongArray());
        assertEquals(List.of(target), List.copyOf(after.initializers().keySet()));
    }
}
