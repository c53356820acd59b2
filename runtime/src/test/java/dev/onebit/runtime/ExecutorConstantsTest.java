package dev.onebit.runtime;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** BIT initializers stay packed in the executor unless a node reads one as a value. */
class ExecutorConstantsTest {
    private static final float[] SIGNS = {0.5f, -2f, 0f, -0.25f, 3f, -1f};

    private static Graph.Builder graph(String name) {
        return Graph.builder(name).opset("", 13).opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET)
                .input(new ValueInfo("x", DataType.FLOAT, null)).output(new ValueInfo("y", DataType.FLOAT, null));
    }

    @Test
    void binaryLayersNeverUnpackTheirWeights() {
        Graph g = graph("dense")
                .initializer("B", Tensor.ofSigns(new int[] {1, 2, 3}, SIGNS))
                .initializer("alpha", Tensor.ofFloats(new int[] {1, 2}, new float[] {2f, 0.5f}))
                .node(new Node("fc", "BinaryMatMul", OpRegistry.ONEBIT_DOMAIN, List.of("x", "B", "alpha"), List.of("y"),
                        Map.of()))
                .build();
        Executor ex = Executor.create(g);
        Value y = ex.run(Map.of("x", Value.ofFloats(new int[] {1, 3}, new float[] {1f, 2f, 3f}))).get("y");
        // W = [[2, -2, 2], [-0.5, 0.5, -0.5]] (sign(0) = +1)
        assertArrayEquals(new float[] {2 - 4 + 6, -0.5f + 1 - 1.5f}, y.floats, 1e-6f);
        assertEquals(0, ex.unpackedBitConstants());
    }

    @Test
    void anyOtherReaderGetsTheSignsAsFloats() {
        Graph g = graph("add")
                .initializer("B", Tensor.ofSigns(new int[] {1, 6}, SIGNS))
                .node(new Node("add", "Add", "", List.of("x", "B"), List.of("y"), Map.of()))
                .build();
        Executor ex = Executor.create(g);
        float[] x = {10f, 20f, 30f, 40f, 50f, 60f};
        for (int call = 0; call < 2; call++) {
            Value y = ex.run(Map.of("x", Value.ofFloats(new int[] {1, 6}, x))).get("y");
            assertArrayEquals(new float[] {11f, 19f, 31f, 39f, 51f, 59f}, y.floats, "call " + call);
        }
        assertEquals(1, ex.unpackedBitConstants());
        assertArrayEquals(new int[] {1, 6}, ex.inferShapes(Map.of("x", Value.shapeOnly(new int[] {1, 6}))).get("B").shape);
    }
}
