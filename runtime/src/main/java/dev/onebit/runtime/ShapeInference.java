package dev.onebit.runtime;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds the type and shape of every value of a graph, symbolic batch included.
 *
 * <p>Shapes come from the kernels themselves ({@link Kernel#inferShapes}), so inference and
 * execution cannot disagree. A graph whose inputs have a non-fixed first dimension (the batch)
 * is evaluated twice, with batch 1 and batch 2: a dimension that is the same in both runs is
 * fixed, one that doubles is the batch symbol (or a multiple of it), anything else is unknown.
 */
public final class ShapeInference {

    /** Both evaluations of a graph: values at batch 1 and at batch 2 (the same map twice for a fixed batch). */
    public record Evaluation(Map<String, Value> atBatch1, Map<String, Value> atBatch2, String batchSymbol) {
    }

    private ShapeInference() {
    }

    /**
     * Evaluates shapes (and small integer values, such as those of Shape and Gather chains).
     *
     * @return null when the graph's inputs cannot be bound (non-float inputs, unknown rank, or
     *     a non-fixed dimension other than the first)
     * @throws ModelException if a node rejects its inputs' shapes
     */
    public static Evaluation evaluate(Graph graph) {
        String symbol = null;
        boolean dynamic = false;
        for (ValueInfo in : graph.inputs()) {
            if (in.shape() == null || in.type() != DataType.FLOAT) {
                return null;
            }
            for (int d = 0; d < in.shape().rank(); d++) {
                Dim dim = in.shape().dim(d);
                if (!dim.isFixed()) {
                    if (d != 0) {
                        return null;
                    }
                    dynamic = true;
                    if (symbol == null && dim.symbol() != null) {
                        symbol = dim.symbol();
                    }
                }
            }
        }
        Executor executor = Executor.create(graph);
        Map<String, Value> one = executor.inferShapes(bind(graph, 1));
        Map<String, Value> two = dynamic ? executor.inferShapes(bind(graph, 2)) : one;
        return new Evaluation(one, two, symbol == null ? "N" : symbol);
    }

    private static Map<String, Value> bind(Graph graph, int batch) {
        Map<String, Value> inputs = new LinkedHashMap<>();
        for (ValueInfo in : graph.inputs()) {
            int[] shape = new int[in.shape().rank()];
            for (int d = 0; d < shape.length; d++) {
                Dim dim = in.shape().dim(d);
                shape[d] = dim.isFixed() ? Math.toIntExact(dim.size()) : batch;
            }
            inputs.put(in.name(), Value.shapeOnly(shape));
        }
        return inputs;
    }

    /**
     * A copy of {@code graph} whose value infos give every value's type and shape; graph
     * outputs get their inferred shape where the model declared none. A graph that cannot be
     * evaluated (see {@link #evaluate}) is returned unchanged.
     *
     * @throws ModelException if a node rejects its inputs' shapes
     */
    public static Graph infer(Graph graph) {
        Evaluation ev = evaluate(graph);
        if (ev == null) {
            return graph;
        }
        Graph.Builder b = graph.toBuilder();
        for (Map.Entry<String, Value> e : ev.atBatch1().entrySet()) {
            String name = e.getKey();
            if (graph.initializers().containsKey(name)) {
                continue;
            }
            Value v1 = e.getValue();
            Value v2 = ev.atBatch2().get(name);
            b.valueInfo(new ValueInfo(name, v1.isFloat() ? DataType.FLOAT : v1.type, merge(v1, v2, ev.batchSymbol())));
        }
        List<ValueInfo> outs = new ArrayList<>();
        for (ValueInfo o : graph.outputs()) {
            ValueInfo inferred = b.build().valueInfo().get(o.name());
            outs.add(o.shape() == null && inferred != null ? inferred : o);
        }
        b.outputs(outs);
        return b.build();
    }

    private static Shape merge(Value v1, Value v2, String symbol) {
        if (v2 == null || v2.rank() != v1.rank()) {
            return null;
        }
        List<Dim> dims = new ArrayList<>();
        for (int d = 0; d < v1.rank(); d++) {
            int a = v1.shape[d];
            int c = v2.shape[d];
            if (a == c) {
                dims.add(Dim.of(a));
            } else if (c == 2 * a) {
                dims.add(Dim.symbol(a == 1 ? symbol : a + "*" + symbol));
            } else {
                dims.add(Dim.UNKNOWN);
            }
        }
        return Shape.of(dims);
    }
}
