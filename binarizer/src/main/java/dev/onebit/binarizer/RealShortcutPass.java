package dev.onebit.binarizer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.ShapeInference;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pass {@value #NAME}: Bi-Real Net's real-valued shortcut around every {@code BinaryConv} whose
 * {@code method} is {@code bireal}: {@code out = BN(BinaryConv(x)) + s(x)}, where x is the
 * conv's real input (this pass runs before {@link InputBinarizationPass}, which then replaces
 * the conv's own input by its sign).
 *
 * <h2>Where the Add goes</h2>
 * After the conv's BatchNormalization when the conv's output is read by exactly one node and
 * that is a BatchNormalization; right after the conv otherwise. The Add, named
 * {@code <layer>/shortcut_add}, writes the name of the value it extends (so every reader now
 * sees the sum); that value's producer writes {@code <name>/body} instead.
 *
 * <h2>The shortcut s(x) and its start values</h2>
 * No training happens here, so the new parameters start at values that make s as close to an
 * identity as the shapes allow, with nothing to fit:
 * <ul>
 *   <li>Same input and output shape: s(x) = x, no parameters.</li>
 *   <li>Conv stride S &gt; 1 on some axis: an {@code AveragePool} with kernel = stride = S
 *       (ceil_mode chosen so that its output has the conv's spatial size; padded positions are
 *       not counted), the parameter-free "identity" for a downsampled map.</li>
 *   <li>Different channel counts: a real 1x1 Conv without bias whose weight maps output channel
 *       o to input channel {@code o mod C_in} with weight 1 and is 0 elsewhere: each output
 *       channel copies one input channel, cycling when C_out &gt; C_in and dropping the surplus
 *       when C_out &lt; C_in. It is an identity on the first min(C_in, C_out) channels.</li>
 *   <li>Equal channel counts after pooling: no 1x1 conv (it would start as the identity).</li>
 *   <li>Shapes no pooling can reconcile (a conv without padding, an unknown shape): no
 *       shortcut; the layer's note says so.</li>
 * </ul>
 * Calibration later rescales the binary branch so that the sum has the float layer's channel
 * statistics.
 */
final class RealShortcutPass {
    /** The pass's name. */
    static final String NAME = "real-shortcuts";

    /** Suffix of the shortcut Add's node name, after the layer's name. */
    static final String ADD_SUFFIX = "/shortcut_add";

    /**
     * The rewritten graph and what was done per layer.
     *
     * @param graph the graph with shortcuts
     * @param notes per bireal layer name, a one-line description of its shortcut
     */
    record Outcome(Graph graph, Map<String, String> notes) {
    }

    private RealShortcutPass() {
    }

    /** Applies the pass to every bireal BinaryConv of {@code g}. */
    static Outcome apply(Graph g) {
        GraphEdit edit = new GraphEdit(g);
        ShapeInference.Evaluation ev = ShapeInference.evaluate(g);
        Map<String, Value> shapes = ev == null ? Map.of() : ev.atBatch1();
        Map<String, String> notes = new LinkedHashMap<>();
        for (Node conv : g.nodes()) {
            if (!conv.opType().equals("BinaryConv") || !BinaryOps.isBinaryLayer(conv)
                    || !Method.BIREAL.id().equals(conv.attrString("method", ""))) {
                continue;
            }
            Value x = shapes.get(conv.input(0));
            Value y = shapes.get(conv.output(0));
            if (x == null || y == null) {
                notes.put(conv.name(), "no real shortcut: shapes unknown");
                continue;
            }
            List<String> parts = new ArrayList<>();
            String s = shortcut(edit, conv, x.shape, y.shape, parts);
            if (s == null) {
                notes.put(conv.name(), "no real shortcut: " + Arrays.toString(x.shape) + " -> " + Arrays.toString(y.shape));
                continue;
            }
            Node join = conv;
            List<Node> readers = edit.consumers(conv.output(0));
            if (readers.size() == 1 && readers.get(0).opType().equals("BatchNormalization")
                    && readers.get(0).domain().isEmpty() && !edit.isGraphOutput(conv.output(0))) {
                join = readers.get(0);
            }
            String joined = join.output(0);
            String body = edit.fresh(joined + "/body");
            List<String> outs = new ArrayList<>(join.outputs());
            outs.set(0, body);
            edit.replace(GraphEdit.withOutputs(edit.current(join.name()), outs));
            edit.builder.node(Node.of(edit.exact(conv.name() + ADD_SUFFIX), "Add", List.of(body, s), List.of(joined),
                    Map.of()));
            notes.put(conv.name(), "real shortcut " + (parts.isEmpty() ? "identity" : String.join(" + ", parts))
                    + " added after " + join.opType());
        }
        return new Outcome(GraphEdit.prune(edit.builder, g.outputs()).build(), notes);
    }

    /** The shortcut's output value (nodes added to the builder), or null when the shapes cannot be matched. */
    private static String shortcut(GraphEdit edit, Node conv, int[] in, int[] out, List<String> parts) {
        String x = conv.input(0);
        if (Arrays.equals(in, out)) {
            return x;
        }
        if (in.length < 3 || in.length != out.length || in[0] != out[0]) {
            return null;
        }
        int spatial = in.length - 2;
        long[] strides = conv.attrInts("strides", null);
        long[] s = new long[spatial];
        boolean pool = false;
        for (int d = 0; d < spatial; d++) {
            s[d] = strides == null ? 1 : strides[d];
            pool |= s[d] > 1;
        }
        String cur = x;
        if (pool) {
            int ceil = ceilMode(in, out, s);
            if (ceil < 0) {
                return null;
            }
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            attrs.put("kernel_shape", Attribute.ofInts(s));
            attrs.put("strides", Attribute.ofInts(s));
            attrs.put("ceil_mode", Attribute.of((long) ceil));
            String pooled = edit.fresh(conv.name() + "/shortcut_pool_output");
            edit.builder.node(Node.of(edit.fresh(conv.name() + "/shortcut_pool"), "AveragePool", List.of(cur),
                    List.of(pooled), attrs));
            cur = pooled;
            parts.add("AveragePool " + Arrays.toString(s));
        } else {
            for (int d = 2; d < in.length; d++) {
                if (in[d] != out[d]) {
                    return null;
                }
            }
        }
        int cin = in[1];
        int cout = out[1];
        if (cin != cout) {
            int[] wShape = new int[in.length];
            Arrays.fill(wShape, 1);
            wShape[0] = cout;
            wShape[1] = cin;
            float[] w = new float[cout * cin];
            for (int o = 0; o < cout; o++) {
                w[o * cin + o % cin] = 1f;
            }
            String wName = edit.fresh(conv.name() + ".shortcut.weight");
            edit.builder.initializer(wName, Tensor.ofFloats(wShape, w));
            String mapped = edit.fresh(conv.name() + "/shortcut_conv_output");
            long[] ones = new long[spatial];
            Arrays.fill(ones, 1);
            edit.builder.node(Node.of(edit.fresh(conv.name() + "/shortcut_conv"), "Conv", List.of(cur, wName),
                    List.of(mapped), Map.of("kernel_shape", Attribute.ofInts(ones))));
            cur = mapped;
            parts.add("1x1 Conv " + cin + "->" + cout);
        }
        return cur;
    }

    /** 0 or 1 when AveragePool(kernel = stride = s) with that ceil_mode gives out's spatial size, else -1. */
    private static int ceilMode(int[] in, int[] out, long[] s) {
        for (int mode = 0; mode <= 1; mode++) {
            boolean ok = true;
            for (int d = 0; d < s.length; d++) {
                long n = in[d + 2];
                long size = mode == 0 ? Math.floorDiv(n - s[d], s[d]) + 1 : Math.floorDiv(n - s[d] + s[d] - 1, s[d]) + 1;
                ok &= n >= s[d] && size == out[d + 2];
            }
            if (ok) {
                return mode;
            }
        }
        return -1;
    }
}
