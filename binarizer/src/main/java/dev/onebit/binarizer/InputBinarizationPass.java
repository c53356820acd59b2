package dev.onebit.binarizer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Pass {@value #NAME}: XNOR-Net's binary inputs. Every {@code BinaryConv} and
 * {@code BinaryMatMul} whose {@code method} is {@code xnor} or {@code bireal} reads sign(x)
 * instead of its input x. Zero padding stays inside BinaryConv, after the sign.
 *
 * <h2>Look-through rule</h2>
 * Taken literally, sign(x) is useless after a Relu: relu(z) &ge; 0, so sign(relu(z)) = +1
 * everywhere (sign(0) = +1). The pass therefore takes the sign of what the clamp clamps:
 * <ol>
 *   <li>x = Relu(z), or x = Clip(z) with min = 0 (and max absent or &gt; 0): the layer reads
 *       Binarize(z). The Relu stays for its other readers (it is dropped if it has none).</li>
 *   <li>x = P(v), where P is MaxPool or a pure re-arrangement (Reshape, Flatten, Transpose,
 *       Squeeze, Unsqueeze, Identity, Dropout), and a Relu/Clip as in 1 is reached from v
 *       through such ops only: the layer reads P'(signed(v)), a copy of P applied to the signed
 *       value, recursively. This is exact for the rearrangements (sign is elementwise) and for
 *       MaxPool because sign is monotone non-decreasing: max of signs = sign of the max (also
 *       under MaxPool's padding, which never wins). So Binarize moves below the MaxPool: the
 *       pool then runs on ±1 values, and sign(maxpool(z)) = maxpool(sign(z)).</li>
 *   <li>Otherwise (no clamp under x, including an AveragePool in the way, which does not commute
 *       with sign): the layer reads Binarize(x).</li>
 * </ol>
 * The result is a function of x alone, so layers reading the same x share it, and one
 * Binarize node serves every reader of the same value.
 *
 * <p>With {@code scaleActivations}, every such BinaryConv also gets XNOR-Net's activation scale
 * as input 4: {@code ActivationScale(x)} of its original real input x (the value the float
 * layer read, which has the conv's geometry) with the conv's kernel, strides, pads and
 * dilations. BinaryMatMul has no scale input and gets none.
 */
final class InputBinarizationPass {
    /** The pass's name. */
    static final String NAME = "binarize-inputs";

    /** Ops that only move values around: the sign of their output is their input's signs, moved. */
    static final Set<String> REARRANGE = Set.of("Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
            "Identity", "Dropout");
    private static final List<String> SCALE_ATTRIBUTES = List.of("kernel_shape", "strides", "pads", "dilations", "auto_pad");

    private final GraphEdit edit;
    private final Map<String, String> signOf = new HashMap<>();
    private final Map<String, String> signedOf = new HashMap<>();
    private final List<Node> added = new ArrayList<>();

    private InputBinarizationPass(Graph g) {
        this.edit = new GraphEdit(g);
    }

    /** Applies the pass; a graph without xnor or bireal layers is returned as it was (apart from pruning). */
    static Graph apply(Graph g, boolean scaleActivations) {
        InputBinarizationPass pass = new InputBinarizationPass(g);
        for (Node n : g.nodes()) {
            if (!BinaryOps.isBinaryLayer(n)) {
                continue;
            }
            Method m = Method.fromId(n.attrString("method", ""));
            if (m == null || !m.binarizesInputs()) {
                continue;
            }
            String x = n.input(0);
            List<String> inputs = new ArrayList<>(n.inputs());
            inputs.set(0, pass.signed(x));
            if (scaleActivations && n.opType().equals("BinaryConv")) {
                while (inputs.size() < 4) {
                    inputs.add("");
                }
                inputs.add(pass.scale(n, x));
            }
            pass.edit.replace(n.withInputs(inputs));
        }
        // New nodes go after the existing ones; Graph sorts them into place.
        pass.added.forEach(pass.edit.builder::node);
        return GraphEdit.prune(pass.edit.builder, g.outputs()).build();
    }

    /** The ±1 value standing for sign(v), by the look-through rule. */
    private String signed(String v) {
        String done = signedOf.get(v);
        if (done != null) {
            return done;
        }
        Node p = edit.producer(v);
        String result;
        if (p != null && clampsAtZero(p)) {
            result = sign(p.input(0));
        } else if (p != null && commutes(p) && p.output(0).equals(v) && reachesClamp(p.input(0))) {
            String inner = signed(p.input(0));
            String out = edit.fresh(v + "/sign");
            List<String> inputs = new ArrayList<>(p.inputs());
            inputs.set(0, inner);
            added.add(new Node(edit.fresh(p.name() + "/sign"), p.opType(), p.domain(), inputs, List.of(out),
                    p.attributes()));
            result = out;
        } else {
            result = sign(v);
        }
        signedOf.put(v, result);
        return result;
    }

    private boolean reachesClamp(String v) {
        Node p = edit.producer(v);
        while (p != null && commutes(p)) {
            p = edit.producer(p.input(0));
        }
        return p != null && clampsAtZero(p);
    }

    /** One shared Binarize node per value. */
    private String sign(String v) {
        return signOf.computeIfAbsent(v, k -> {
            String out = edit.fresh(k + "/sign");
            added.add(new Node(edit.fresh(k + "/Binarize"), "Binarize", OpRegistry.ONEBIT_DOMAIN, List.of(k),
                    List.of(out), Map.of()));
            return out;
        });
    }

    private String scale(Node conv, String x) {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        for (String key : SCALE_ATTRIBUTES) {
            Attribute a = conv.attr(key);
            if (a != null) {
                attrs.put(key, a);
            }
        }
        String out = edit.fresh(conv.name() + "/activation_scale");
        added.add(new Node(edit.fresh(conv.name() + "/ActivationScale"), "ActivationScale", OpRegistry.ONEBIT_DOMAIN,
                List.of(x), List.of(out), attrs));
        return out;
    }

    private static boolean commutes(Node p) {
        return p.domain().isEmpty() && (p.opType().equals("MaxPool") || REARRANGE.contains(p.opType()));
    }

    private boolean clampsAtZero(Node p) {
        return clampsAtZero(p, edit.source);
    }

    /**
     * Relu, or Clip with min exactly 0 and max absent or positive: its output's sign is always
     * +1, and its input's sign is what a binary layer reading it should take.
     */
    static boolean clampsAtZero(Node p, Graph g) {
        if (!p.domain().isEmpty()) {
            return false;
        }
        if (p.opType().equals("Relu")) {
            return true;
        }
        if (!p.opType().equals("Clip")) {
            return false;
        }
        Float min = bound(p, g, "min", 1);
        Float max = bound(p, g, "max", 2);
        return min != null && min == 0f && (max == null || max > 0f);
    }

    /** Clip's bound from the attribute (opset &lt; 11) or the constant input (11+); null when absent or not constant. */
    private static Float bound(Node clip, Graph g, String attr, int input) {
        Attribute a = clip.attr(attr);
        if (a != null) {
            return a.asFloat();
        }
        if (!clip.hasInput(input)) {
            return null;
        }
        Tensor t = g.initializer(clip.input(input));
        return t == null || t.size() != 1 ? null : t.toFloatArray()[0];
    }
}
