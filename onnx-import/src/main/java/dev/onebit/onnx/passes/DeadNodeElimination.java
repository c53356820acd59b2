package dev.onebit.onnx.passes;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.ValueInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Removes nodes none of whose outputs reach a graph output, then initializers and value infos
 * of values that no longer exist or are no longer read. Graph inputs stay, even unused ones:
 * they are the model's calling convention.
 */
public final class DeadNodeElimination {
    private DeadNodeElimination() {
    }

    /** The graph without dead nodes and unused initializers; {@code graph} itself if none. */
    public static Graph apply(Graph graph) {
        Set<String> live = new HashSet<>();
        for (ValueInfo out : graph.outputs()) {
            live.add(out.name());
        }
        List<Node> kept = new ArrayList<>();
        List<Node> nodes = graph.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (Collections.disjoint(n.outputs(), live)) {
                continue;
            }
            kept.add(n);
            for (String in : n.inputs()) {
                if (!in.isEmpty()) {
                    live.add(in);
                }
            }
        }
        Collections.reverse(kept);
        Set<String> deadInitializers = new HashSet<>(graph.initializers().keySet());
        deadInitializers.removeAll(live);
        if (kept.size() == nodes.size() && deadInitializers.isEmpty()) {
            return graph;
        }
        Set<String> existing = new HashSet<>(live);
        for (Node n : kept) {
            existing.addAll(n.outputs());
        }
        for (ValueInfo in : graph.inputs()) {
            existing.add(in.name());
        }
        Graph.Builder b = graph.toBuilder().nodes(kept);
        deadInitializers.forEach(b::removeInitializer);
        b.clearValueInfo();
        for (Map.Entry<String, ValueInfo> e : graph.valueInfo().entrySet()) {
            if (existing.contains(e.getKey())) {
                b.valueInfo(e.getValue());
            }
        }
        return b.build();
    }
}
