package dev.onebit.binarizer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Small hand-made graphs and helpers to run and compare graphs. */
final class TestGraphs {
    private TestGraphs() {
    }

    /** A builder with opset 13 and one float input {@code x} of shape {@code [N, dims...]}. */
    static Graph.Builder builder(int... dims) {
        Dim[] d = new Dim[dims.length + 1];
        d[0] = Dim.symbol("N");
        for (int i = 0; i < dims.length; i++) {
            d[i + 1] = Dim.of(dims[i]);
        }
        return Graph.builder("test").opset("", 13).input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(d))));
    }

    /** Deterministic random values in [-1, 1), with some exact zeros to exercise sign(0). */
    static float[] random(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 17 == 0 ? 0f : r.nextFloat() * 2 - 1;
        }
        return v;
    }

    /** A random constant. */
    static Tensor tensor(long seed, int... shape) {
        return Tensor.ofFloats(shape, random(seed, (int) Tensor.elementCount(shape)));
    }

    static Node node(String name, String op, List<String> in, String out, Map<String, Attribute> attrs) {
        return Node.of(name, op, in, List.of(out), attrs);
    }

    static Map<String, Attribute> attrs(Object... kv) {
        Map<String, Attribute> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            Object v = kv[i + 1];
            Attribute a = v instanceof long[] l ? Attribute.ofInts(l) : v instanceof Float f ? Attribute.of(f)
                    : v instanceof String s ? Attribute.of(s) : Attribute.of(((Number) v).longValue());
            m.put((String) kv[i], a);
        }
        return m;
    }

    static long[] ints(long... v) {
        return v;
    }

    /** Runs g on one input value, keeping the named values too. */
    static Map<String, Value> run(Graph g, Value x, Set<String> keep) {
        return Executor.create(g).run(Map.of(g.inputs().get(0).name(), x), keep);
    }

    /** A random input of shape {@code shape}. */
    static Value input(long seed, int... shape) {
        return Value.ofFloats(shape, random(seed, Value.count(shape)));
    }

    /** Asserts two values are equal in shape and elementwise within {@code tol * max(1, |expected|)}. */
    static void assertClose(Value expected, Value actual, double tol, String what) {
        assertNotNull(actual, what + " missing");
        assertArrayEquals(expected.shape, actual.shape, what + " shape");
        for (int i = 0; i < expected.size(); i++) {
            double e = expected.floats[i];
            assertEquals(e, actual.floats[i], tol * Math.max(1, Math.abs(e)), what + " element " + i);
        }
    }

    /** sign with sign(0) = +1. */
    static float sign(float v) {
        return v < 0 ? -1f : 1f;
    }

    /** The node of that name. */
    static Node find(Graph g, String name) {
        for (Node n : g.nodes()) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        throw new AssertionError("no node " + name);
    }

    /** The node producing {@code value}. */
    static Node producer(Graph g, String value) {
        Node n = g.producer(value);
        if (n == null) {
            throw new AssertionError("no node produces " + value);
        }
        return n;
    }
}
