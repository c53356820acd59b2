package dev.onebit.onnx.passes;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replaces computations on constants by their results: {@code Constant} nodes become
 * initializers, and a node whose inputs are all constant is evaluated once, with the runtime's
 * own kernel, and replaced by initializers holding its outputs. Exporters emit such nodes for
 * weight transposes, reshapes of biases and shape arithmetic; folding them here keeps the
 * binarization passes and the runtime from seeing them.
 *
 * <p>Nodes without a kernel are left alone (the support check reports them), as are nodes with
 * no inputs other than {@code Constant}, which may be random generators.
 */
public final class ConstantFolding {
    private ConstantFolding() {
    }

    /**
     * The folded graph. Initializers that become unused are kept; {@link DeadNodeElimination}
     * drops them.
     *
     * @throws ModelException if a node rejects its constant inputs
     */
    public static Graph apply(Graph graph) {
        return apply(graph, OpRegistry.standard());
    }

    /** As {@link #apply(Graph)}, with the kernels of {@code registry}. */
    public static Graph apply(Graph graph, OpRegistry registry) {
        Map<String, Tensor> constants = new HashMap<>(graph.initializers());
        Map<String, Tensor> added = new LinkedHashMap<>();
        List<Node> kept = new ArrayList<>();
        for (Node node : graph.nodes()) {
            Tensor[] folded = node.opType().equals("Constant") && node.domain().isEmpty()
                    ? constantNode(node)
                    : evaluate(node, graph, registry, constants);
            if (folded == null) {
                kept.add(node);
                continue;
            }
            for (int i = 0; i < node.outputs().size(); i++) {
                String out = node.output(i);
                if (!out.isEmpty()) {
                    constants.put(out, folded[i]);
                    added.put(out, folded[i]);
                }
            }
        }
        if (added.isEmpty()) {
            return graph;
        }
        Graph.Builder b = graph.toBuilder().nodes(kept);
        added.forEach(b::initializer);
        return b.build();
    }

    /** The value of a Constant node, or null for kinds onebit cannot hold (strings, sparse). */
    static Tensor[] constantNode(Node node) {
        if (node.outputs().size() != 1 || node.attributes().size() != 1) {
            return null;
        }
        Map.Entry<String, Attribute> e = node.attributes().entrySet().iterator().next();
        Attribute a = e.getValue();
        Tensor t = switch (e.getKey()) {
            case "value" -> a.kind() == Attribute.Kind.TENSOR ? a.asTensor() : null;
            case "value_float" -> Tensor.scalar(a.asFloat());
            case "value_floats" -> {
                float[] v = a.asFloats();
                yield Tensor.ofFloats(new int[] {v.length}, v);
            }
            case "value_int" -> Tensor.ofLongs(new int[0], new long[] {a.asInt()});
            case "value_ints" -> {
                long[] v = a.asInts();
                yield Tensor.ofLongs(new int[] {v.length}, v);
            }
            default -> null;
        };
        return t == null ? null : new Tensor[] {t};
    }

    private static Tensor[] evaluate(Node node, Graph graph, OpRegistry registry, Map<String, Tensor> constants) {
        boolean anyInput = false;
        for (String in : node.inputs()) {
            if (in.isEmpty()) {
                continue;
            }
            if (!constants.containsKey(in)) {
                return null;
            }
            anyInput = true;
        }
        int opset = OpRegistry.opsetOf(graph, node);
        OpRegistry.Entry entry = registry.find(node.domain(), node.opType(), opset);
        if (!anyInput || entry == null) {
            return null;
        }
        Value[] inputs = new Value[node.inputs().size()];
        for (int i = 0; i < inputs.length; i++) {
            String in = node.input(i);
            inputs[i] = in.isEmpty() ? null : Value.of(constants.get(in));
        }
        NodeContext ctx = new NodeContext(node, opset, constants::get);
        Value[] out;
        try {
            Kernel kernel = entry.factory().create(ctx);
            out = kernel.run(inputs);
        } catch (ModelException e) {
            throw e;
        } catch (RuntimeException e) {
            throw ctx.error("cannot evaluate constant inputs: " + e);
        }
        Tensor[] result = new Tensor[node.outputs().size()];
        for (int i = 0; i < result.length; i++) {
            if (node.output(i).isEmpty()) {
                continue;
            }
            if (out == null || i >= out.length || out[i] == null || !out[i].hasData()) {
                return null;
            }
            result[i] = out[i].toTensor();
        }
        return result;
    }
}
