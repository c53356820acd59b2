package dev.onebit.runtime;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Recycled output arrays never reach a value that can still be read. */
class BuffersTest {

    @Test
    void onlyArraysHandedOutComeBack() {
        float[] foreign = new float[1234];
        Buffers.recycle(foreign);
        assertNotSame(foreign, Buffers.floats(1234));
        float[] a = Buffers.floats(4321);
        Buffers.recycle(a);
        assertSame(a, Buffers.floats(4321));
        // Given back once, taken once: a second recycle of the same array is ignored.
        Buffers.recycle(a);
        Buffers.recycle(a);
        assertSame(a, Buffers.floats(4321));
        assertNotSame(a, Buffers.floats(4321));
    }

    /**
     * Reshape passes its input's array on, so r1's array is still read (as f) after r1's last
     * use; f feeds two nodes; a constant and the caller's input pass through Identity. Every
     * run, again and again, gives the same outputs, and the caller's input is untouched.
     */
    @Test
    void sharedArraysSurviveRecycling() {
        Map<String, Attribute> none = Map.of();
        Graph g = Graph.builder("share")
                .opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, null))
                .output(new ValueInfo("s", DataType.FLOAT, null))
                .output(new ValueInfo("t", DataType.FLOAT, null))
                .output(new ValueInfo("c", DataType.FLOAT, null))
                .initializer("flat", Tensor.ofLongs(new int[] {1}, new long[] {-1}))
                .initializer("k", Tensor.ofFloats(new int[] {6}, new float[] {1, 2, 3, 4, 5, 6}))
                .node(Node.of("id", "Identity", List.of("x"), List.of("x1"), none))
                .node(Node.of("relu", "Relu", List.of("x1"), List.of("r1"), none))
                .node(Node.of("reshape", "Reshape", List.of("r1", "flat"), List.of("f"), none))
                .node(Node.of("sig", "Sigmoid", List.of("f"), List.of("s0"), none))
                .node(Node.of("tanh", "Tanh", List.of("f"), List.of("t0"), none))
                .node(Node.of("relu2", "Relu", List.of("s0"), List.of("s"), none))
                .node(Node.of("relu3", "Relu", List.of("t0"), List.of("t"), none))
                .node(Node.of("kc", "Identity", List.of("k"), List.of("k1"), none))
                .node(Node.of("kadd", "Add", List.of("k1", "f"), List.of("c"), none))
                .build();
        Executor ex = Executor.create(g);
        float[] data = {-1, 2, -3, 4, -5, 6};
        float[] want = new float[6];
        float[] wantT = new float[6];
        float[] wantC = new float[6];
        for (int i = 0; i < 6; i++) {
            float r = Math.max(data[i], 0f);
            want[i] = (float) (1 / (1 + Math.exp(-r)));
            wantT[i] = (float) Math.tanh(r);
            wantC[i] = (i + 1) + r;
        }
        for (int run = 0; run < 5; run++) {
            Value x = Value.ofFloats(new int[] {2, 3}, data.clone());
            Map<String, Value> out = ex.run(Map.of("x", x), Set.of("f"));
            assertArrayEquals(want, out.get("s").floats, 1e-7f, "run " + run);
            assertArrayEquals(wantT, out.get("t").floats, 1e-7f, "run " + run);
            assertArrayEquals(wantC, out.get("c").floats, 0f, "run " + run);
            assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, out.get("f").floats, 0f, "run " + run);
            assertArrayEquals(data, x.floats, 0f, "the caller's input");
            assertEquals(6, out.get("s").size());
        }
    }
}
