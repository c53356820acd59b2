package dev.onebit.binarizer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.OpRegistry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pass {@value #NAME}: replaces each given layer by a {@code BinaryConv} (Conv) or
 * {@code BinaryMatMul} (Gemm, MatMul) node of the same name, reading the same input and writing
 * the same output, with the layer's weight approximated by {@link BinaryWeights} (one plane for
 * BWN, XNOR and Bi-Real, K planes for CBD). The inputs stay as they are; XNOR's and Bi-Real's
 * other changes are separate passes. Float weights that no node reads any more are dropped.
 */
final class WeightBinarizationPass {
    /** The pass's name, as reports and logs call it. */
    static final String NAME = "binarize-weights";

    /** Conv attributes that BinaryConv shares. */
    static final List<String> CONV_ATTRIBUTES = List.of("group", "kernel_shape", "strides", "pads", "dilations", "auto_pad");

    /**
     * The rewritten graph and, per binarized node name, the planes that replaced its weight.
     *
     * @param graph the graph with binary layers
     * @param planes planes by node name
     */
    record Outcome(Graph graph, Map<String, BinaryPlanes> planes) {
    }

    private WeightBinarizationPass() {
    }

    /**
     * Applies the pass.
     *
     * @param layers layers of {@code g} to binarize (each must be supported)
     * @param method the method recorded in each node's {@code method} attribute
     * @param planes planes per weight (1 unless CBD)
     * @param rounds CBD refinement rounds
     */
    static Outcome apply(Graph g, List<Layer> layers, Method method, int planes, int rounds) {
        GraphEdit edit = new GraphEdit(g);
        edit.builder.opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET);
        Map<String, BinaryPlanes> made = new LinkedHashMap<>();
        for (Layer layer : layers) {
            if (layer.unsupported() != null) {
                throw new IllegalArgumentException(layer.node().describe() + " cannot be binarized: " + layer.unsupported());
            }
            BinaryPlanes p = method == Method.CBD
                    ? BinaryWeights.cbd(layer.weight(), layer.outputs(), planes, rounds)
                    : BinaryWeights.bwn(layer.weight(), layer.outputs());
            made.put(layer.node().name(), p);
            edit.replace(binaryNode(edit, layer, p, method));
        }
        Graph.Builder b = GraphEdit.prune(edit.builder, g.outputs());
        return new Outcome(b.build(), made);
    }

    private static Node binaryNode(GraphEdit edit, Layer layer, BinaryPlanes p, Method method) {
        Node n = layer.node();
        String bName = edit.fresh(n.name() + ".B");
        String alphaName = edit.fresh(n.name() + ".alpha");
        edit.builder.initializer(bName, p.bits(layer.weightShape()));
        edit.builder.initializer(alphaName, p.alphaTensor());
        List<String> inputs = new ArrayList<>(List.of(layer.input(), bName, alphaName));
        if (layer.bias() != null) {
            String biasName = edit.fresh(n.name() + ".bias");
            edit.builder.initializer(biasName, Tensor.ofFloats(new int[] {layer.outputs()}, layer.bias()));
            inputs.add(biasName);
        }
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        String op;
        if (n.opType().equals("Conv")) {
            op = "BinaryConv";
            for (String key : CONV_ATTRIBUTES) {
                Attribute a = n.attr(key);
                if (a != null) {
                    attrs.put(key, a);
                }
            }
            // Spelled out, because ActivationScale (XNOR's scale) needs it and cannot see the weight.
            int[] ws = layer.weightShape();
            long[] kernel = Arrays.stream(Arrays.copyOfRange(ws, 2, ws.length)).asLongStream().toArray();
            attrs.put("kernel_shape", Attribute.ofInts(kernel));
        } else {
            op = "BinaryMatMul";
        }
        attrs.put("method", Attribute.of(method.id()));
        return new Node(n.name(), op, OpRegistry.ONEBIT_DOMAIN, inputs, List.of(layer.output()), attrs);
    }
}
