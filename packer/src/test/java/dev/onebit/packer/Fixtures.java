package dev.onebit.packer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxImporter;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Graphs the container tests share, and the comparisons they make. */
final class Fixtures {
    static final Path SAMPLES = Path.of("..", "samples");
    private static final Map<String, Graph> SAMPLE_CACHE = new ConcurrentHashMap<>();

    private Fixtures() {
    }

    /** A sample model, imported once per test run. */
    static Graph sample(String name) {
        return SAMPLE_CACHE.computeIfAbsent(name, n -> OnnxImporter.read(SAMPLES.resolve(n)));
    }

    /**
     * A small runnable binary network with a symbolic batch: a float MatMul whose weights
     * compress well, then two BinaryMatMul layers with BIT weights of 1280 and 15 elements.
     */
    static Graph binaryGraph() {
        Random random = new Random(7);
        float[] w = new float[37 * 128];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i * 7 % 16) / 16f - 0.5f; // few distinct values: zstd shrinks this a lot
        }
        float[] b1 = new float[2 * 5 * 128];
        float[] b2 = new float[3 * 5];
        for (float[] a : new float[][] {b1, b2}) {
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) random.nextGaussian();
            }
        }
        String onebit = OpRegistry.ONEBIT_DOMAIN;
        Dim n = Dim.symbol("N");
        return Graph.builder("binary")
                .opset("", 17).opset(onebit, OpRegistry.ONEBIT_OPSET)
                .metadata("note", "graph-level metadata travels with the graph")
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(n, Dim.of(37)))))
                .output(new ValueInfo("y", DataType.FLOAT, Shape.of(List.of(n, Dim.of(3)))))
                .valueInfo(new ValueInfo("h", DataType.FLOAT, Shape.of(List.of(n, Dim.of(128)))))
                .valueInfo(new ValueInfo("z", DataType.FLOAT, Shape.of(List.of(Dim.UNKNOWN, Dim.of(5)))))
                .valueInfo(new ValueInfo("s", null, null))
                .initializer("W", Tensor.ofFloats(new int[] {37, 128}, w))
                .initializer("B1", Tensor.ofSigns(new int[] {2, 5, 128}, b1))
                .initializer("alpha1", Tensor.ofFloats(new int[] {2, 5}, new float[] {.5f, .25f, .125f, 1, 2, .1f, .2f, .3f, .4f, .6f}))
                .initializer("bias1", Tensor.ofFloats(new int[] {5}, new float[] {.1f, -.2f, .3f, -.4f, .5f}))
                .initializer("B2", Tensor.ofSigns(new int[] {1, 3, 5}, b2))
                .initializer("alpha2", Tensor.ofFloats(new int[] {1, 3}, new float[] {1, .5f, .25f}))
                .node(Node.of("mm", "MatMul", List.of("x", "W"), List.of("h"), Map.of()))
                .node(Node.of("relu", "Relu", List.of("h"), List.of("r"), Map.of()))
                .node(new Node("fc1", "BinaryMatMul", onebit, List.of("r", "B1", "alpha1", "bias1"), List.of("z"),
                        Map.of("method", Attribute.of("cbd"))))
                .node(new Node("sign", "Binarize", onebit, List.of("z"), List.of("s"), Map.of()))
                .node(new Node("fc2", "BinaryMatMul", onebit, List.of("s", "B2", "alpha2"), List.of("y"),
                        Map.of("method", Attribute.of("xnor"))))
                .build();
    }

    /** Every part of the IR equal: names, opsets, values, types, shapes, initializer bytes, nodes. */
    static void assertSameGraph(Graph expected, Graph actual) {
        assertEquals(expected.name(), actual.name());
        assertEquals(expected.opsets(), actual.opsets());
        assertEquals(expected.metadata(), actual.metadata());
        assertEquals(expected.inputs(), actual.inputs());
        assertEquals(expected.outputs(), actual.outputs());
        assertEquals(List.copyOf(expected.valueInfo().values()), List.copyOf(actual.valueInfo().values()));
        assertEquals(List.copyOf(expected.initializers().keySet()), List.copyOf(actual.initializers().keySet()));
        for (Map.Entry<String, Tensor> e : expected.initializers().entrySet()) {
            Tensor t = actual.initializer(e.getKey());
            assertEquals(e.getValue().type(), t.type(), e.getKey());
            assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
            assertEquals(e.getValue().bytes(), t.bytes(), e.getKey() + " bytes");
        }
        assertEquals(expected.nodes(), actual.nodes());
    }

    /** Random input for each graph input, with batch {@code batch} where the batch is not fixed. */
    static Map<String, Value> randomInputs(Graph g, int batch, long seed) {
        Random random = new Random(seed);
        Map<String, Value> inputs = new java.util.LinkedHashMap<>();
        for (ValueInfo in : g.inputs()) {
            List<Integer> dims = new ArrayList<>();
            for (Dim d : in.shape().dims()) {
                dims.add(d.isFixed() ? (int) d.size() : batch);
            }
            int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
            float[] data = new float[(int) Tensor.elementCount(shape)];
            for (int i = 0; i < data.length; i++) {
                data[i] = (float) random.nextGaussian();
            }
            inputs.put(in.name(), Value.ofFloats(shape, data));
        }
        return inputs;
    }

    /** Both graphs give the same outputs, compared bit for bit. */
    static void assertSameOutputs(Graph expected, Graph actual, Map<String, Value> inputs) {
        Map<String, Value> a = Executor.create(expected).run(inputs);
        Map<String, Value> b = Executor.create(actual).run(inputs);
        assertEquals(a.keySet(), b.keySet());
        for (String name : a.keySet()) {
            assertArrayEquals(a.get(name).shape, b.get(name).shape, name);
            float[] x = a.get(name).floats;
            float[] y = b.get(name).floats;
            assertEquals(x.length, y.length, name);
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), name + "[" + i + "]");
            }
        }
    }
}
