package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.ShapeInference;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** PyTorch's flatten idiom, Shape -> Gather -> Unsqueeze -> Concat -> Reshape, through the executor. */
class ShapeChainTest {

    private static Graph flattenChain() {
        Map<String, Attribute> none = Map.of();
        return Graph.builder("chain")
                .opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(Dim.symbol("N"), Dim.of(3), Dim.of(2)))))
                .output(new ValueInfo("y", DataType.FLOAT, null))
                .initializer("zero", Tensor.ofLongs(new int[0], new long[] {0}))
                .initializer("axes", Tensor.ofLongs(new int[] {1}, new long[] {0}))
                .initializer("minus1", Tensor.ofLongs(new int[] {1}, new long[] {-1}))
                .node(Node.of("shape", "Shape", List.of("x"), List.of("s"), none))
                .node(Node.of("gather", "Gather", List.of("s", "zero"), List.of("n"), Map.of("axis", Attribute.of(0L))))
                .node(Node.of("unsq", "Unsqueeze", List.of("n", "axes"), List.of("n1"), none))
                .node(Node.of("concat", "Concat", List.of("n1", "minus1"), List.of("spec"), Map.of("axis", Attribute.of(0L))))
                .node(Node.of("reshape", "Reshape", List.of("x", "spec"), List.of("r"), none))
                .node(Node.of("relu", "Relu", List.of("r"), List.of("y"), none))
                .build();
    }

    @Test
    void runsOnData() {
        Executor ex = Executor.create(flattenChain());
        Value x = OpTester.iota(2, 3, 2);
        Value y = ex.run(Map.of("x", x)).get("y");
        assertArrayEquals(new int[] {2, 6}, y.shape);
        assertEquals(11f, y.floats[11], 0f);
    }

    @Test
    void infersShapesWithoutData() {
        Map<String, Value> all = Executor.create(flattenChain()).inferShapes(Map.of("x", Value.shapeOnly(4, 3, 2)));
        assertArrayEquals(new long[] {4, -1}, all.get("spec").longs);
        assertArrayEquals(new int[] {4, 6}, all.get("y").shape);
        assertFalse(all.get("y").hasData());
        Graph inferred = ShapeInference.infer(flattenChain());
        assertEquals("[N, 6]", inferred.outputs().get(0).shape().toString());
    }
}
