package dev.onebit.runtime;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.runtime.ops.Ops;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which operators onebit can execute, for which opset versions, and the factory of each.
 * Only the default ONNX domain is supported.
 */
public final class OpRegistry {

    /** One supported operator: its name, the opset range, and its factory. */
    public record Entry(String opType, int minOpset, int maxOpset, KernelFactory factory) {
        /** True when {@code opset} is within the range. */
        public boolean covers(int opset) {
            return opset >= minOpset && opset <= maxOpset;
        }
    }

    /** Lowest and highest default-domain opset onebit reads. */
    public static final int MIN_OPSET = 7;
    /** See {@link #MIN_OPSET}. */
    public static final int MAX_OPSET = 21;

    private static final OpRegistry STANDARD = buildStandard();

    private final Map<String, List<Entry>> entries = new TreeMap<>();

    private OpRegistry() {
    }

    private static OpRegistry buildStandard() {
        OpRegistry r = new OpRegistry();
        Ops.registerAll(r);
        return r;
    }

    /** The registry of every operator onebit ships. */
    public static OpRegistry standard() {
        return STANDARD;
    }

    /**
     * Adds an operator for opsets {@code minOpset..maxOpset}; several entries may cover
     * disjoint ranges of one operator whose semantics changed between versions.
     */
    public void register(String opType, int minOpset, int maxOpset, KernelFactory factory) {
        entries.computeIfAbsent(opType, k -> new ArrayList<>()).add(new Entry(opType, minOpset, maxOpset, factory));
    }

    /** All entries, sorted by operator name. */
    public List<Entry> entries() {
        List<Entry> all = new ArrayList<>();
        entries.values().forEach(all::addAll);
        return Collections.unmodifiableList(all);
    }

    /** The entry for an operator at an opset, or null if unsupported. */
    public Entry find(String domain, String opType, int opset) {
        if (!(domain.isEmpty() || domain.equals("ai.onnx"))) {
            return null;
        }
        for (Entry e : entries.getOrDefault(opType, List.of())) {
            if (e.covers(opset)) {
                return e;
            }
        }
        return null;
    }

    /** The opset of a node's domain in {@code graph} (the default domain's when not listed). */
    public static int opsetOf(Graph graph, Node node) {
        String d = node.domain().equals("ai.onnx") ? "" : node.domain();
        Integer v = graph.opsets().get(d);
        return v != null ? v : graph.opset();
    }

    /** Every node of the graph that this registry cannot execute, in graph order. */
    public List<Node> unsupported(Graph graph) {
        List<Node> out = new ArrayList<>();
        for (Node n : graph.nodes()) {
            if (find(n.domain(), n.opType(), opsetOf(graph, n)) == null) {
                out.add(n);
            }
        }
        return out;
    }
}
