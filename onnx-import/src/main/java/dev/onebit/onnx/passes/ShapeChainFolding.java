package dev.onebit.onnx.passes;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ShapeInference;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns computed Reshape targets into constants. PyTorch exports {@code x.view(x.size(0), -1)}
 * with a dynamic batch as {@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape}; the shape
 * is not constant, so constant folding cannot remove the chain, yet it only ever means "keep
 * the batch, flatten the rest".
 *
 * <p>The graph is evaluated at batch 1 and batch 2 ({@link ShapeInference#evaluate}). An element
 * of the target shape that is equal in both runs is constant; one that equals the Reshape
 * input's size on the same axis in both runs becomes {@code 0} ("copy that size"); at most one
 * other varying element becomes {@code -1} ("whatever is left"). The rewritten target is
 * accepted only if it yields the observed output shape in both runs. The chain then feeds
 * nothing and {@link DeadNodeElimination} drops it.
 */
public final class ShapeChainFolding {
    private ShapeChainFolding() {
    }

    /**
     * The graph with every foldable Reshape target replaced by an initializer; {@code graph}
     * itself if there was none, or if the graph cannot be evaluated (unsupported operators,
     * inputs of unknown shape).
     *
     * @throws dev.onebit.ir.ModelException if a node rejects its inputs' shapes
     */
    public static Graph apply(Graph graph) {
        boolean candidate = false;
        for (Node n : graph.nodes()) {
            candidate |= isComputedReshape(graph, n);
        }
        if (!candidate || !OpRegistry.standard().unsupported(graph).isEmpty()) {
            return graph;
        }
        ShapeInference.Evaluation ev = ShapeInference.evaluate(graph);
        if (ev == null) {
            return graph;
        }
        Set<String> names = allNames(graph);
        Graph.Builder b = graph.toBuilder();
        List<Node> nodes = new ArrayList<>(graph.nodes());
        boolean changed = false;
        for (int i = 0; i < nodes.size(); i++) {
            Node n = nodes.get(i);
            if (!isComputedReshape(graph, n)) {
                continue;
            }
            long[] target = constantTarget(n, ev.atBatch1(), ev.atBatch2());
            if (target == null) {
                continue;
            }
            String name = fresh(names, n.name() + "_shape");
            b.initializer(name, Tensor.ofLongs(new int[] {target.length}, target));
            List<String> inputs = new ArrayList<>(n.inputs());
            inputs.set(1, name);
            nodes.set(i, n.withInputs(inputs));
            changed = true;
        }
        return changed ? b.nodes(nodes).build() : graph;
    }

    private static boolean isComputedReshape(Graph graph, Node n) {
        return n.opType().equals("Reshape") && n.domain().isEmpty() && n.hasInput(1)
                && graph.initializer(n.input(1)) == null && n.attrInt("allowzero", 0) == 0;
    }

    /** The constant equivalent of the node's shape input, or null if there is none. */
    static long[] constantTarget(Node n, Map<String, Value> one, Map<String, Value> two) {
        Value s1 = one.get(n.input(1));
        Value s2 = two.get(n.input(1));
        Value x1 = one.get(n.input(0));
        Value x2 = two.get(n.input(0));
        Value y1 = one.get(n.output(0));
        Value y2 = two.get(n.output(0));
        if (s1 == null || s2 == null || x1 == null || x2 == null || y1 == null || y2 == null
                || s1.longs == null || s2.longs == null || s1.longs.length != s2.longs.length) {
            return null;
        }
        long[] a = s1.longs;
        long[] c = s2.longs;
        long[] target = new long[a.length];
        int free = -1;
        boolean fixedMinusOne = false;
        for (int i = 0; i < a.length; i++) {
            if (a[i] == c[i]) {
                target[i] = a[i];
                fixedMinusOne |= a[i] == -1;
            } else if (i < x1.rank() && a[i] == x1.shape[i] && c[i] == x2.shape[i]) {
                target[i] = 0;
            } else if (free < 0) {
                free = i;
                target[i] = -1;
            } else {
                return null;
            }
        }
        if (free >= 0 && fixedMinusOne) {
            return null;
        }
        if (!Arrays.equals(resolve(target, x1.shape), y1.shape) || !Arrays.equals(resolve(target, x2.shape), y2.shape)) {
            return null;
        }
        return target;
    }

    /** Reshape's rule for 0 and -1, or null if the target does not fit the input. */
    private static int[] resolve(long[] target, int[] in) {
        long total = 1;
        for (int d : in) {
            total *= d;
        }
        int[] out = new int[target.length];
        long known = 1;
        int free = -1;
        for (int i = 0; i < target.length; i++) {
            long t = target[i];
            if (t == 0) {
                if (i >= in.length) {
                    return null;
                }
                out[i] = in[i];
            } else if (t == -1) {
                free = i;
                continue;
            } else if (t < 0 || t > Integer.MAX_VALUE) {
                return null;
            } else {
                out[i] = (int) t;
            }
            known *= out[i];
        }
        if (free >= 0) {
            if (known == 0 || total % known != 0) {
                return null;
            }
            out[free] = (int) (total / known);
        }
        return out;
    }

    private static Set<String> allNames(Graph graph) {
        Set<String> names = new HashSet<>(graph.initializers().keySet());
        graph.inputs().forEach(v -> names.add(v.name()));
        for (Node n : graph.nodes()) {
            names.addAll(n.inputs());
            names.addAll(n.outputs());
        }
        return names;
    }

    private static String fresh(Set<String> names, String base) {
        String name = base;
        for (int k = 2; names.contains(name); k++) {
            name = base + "_" + k;
        }
        names.add(name);
        return name;
    }
}
