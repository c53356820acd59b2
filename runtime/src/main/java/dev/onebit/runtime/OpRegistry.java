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
 * Which operators onebit can execute, for which opset versions, and the factory of each: the
 * default ONNX domain, and onebit's own binary operators in {@link #ONEBIT_DOMAIN}.
 */
public final class OpRegistry {

    /** One supported operator: its domain ("" for ONNX's), name, opset range, and factory. */
    public record Entry(String domain, String opType, int minOpset, int maxOpset, KernelFactory factory) {
        /** True when {@code opset} is within the range. */
        public boolean covers(int opset) {
            return opset >= minOpset && opset <= maxOpset;
        }
    }

    /** Lowest and highest default-domain opset onebit reads. */
    public static final int MIN_OPSET = 7;
    /** See {@link #MIN_OPSET}. */
    public static final int MAX_OPSET = 21;
    /** The domain of onebit's binary operators (see {@code dev.onebit.runtime.ops.BinaryOps}). */
    public static final String ONEBIT_DOMAIN = "dev.onebit";
    /** The version of {@link #ONEBIT_DOMAIN} this runtime implements. */
    public static final int ONEBIT_OPSET = 1;

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
     * Every operator onebit ships, with the binary layers always on their reference kernels
     * (never the XNOR ones; see {@code BinaryOps}): a second opinion on whole graphs.
     */
    public static OpRegistry reference() {
        OpRegistry r = new OpRegistry();
        Ops.registerAll(r, false);
        return r;
    }

    /**
     * Adds an operator for opsets {@code minOpset..maxOpset}; several entries may cover
     * disjoint ranges of one operator whose semantics changed between versions.
     */
    public void register(String opType, int minOpset, int maxOpset, KernelFactory factory) {
        register("", opType, minOpset, maxOpset, factory);
    }

    /** As {@link #register(String, int, int, KernelFactory)}, for an operator of another domain. */
    public void register(String domain, String opType, int minOpset, int maxOpset, KernelFactory factory) {
        String d = normalize(domain);
        entries.computeIfAbsent(key(d, opType), k -> new ArrayList<>())
                .add(new Entry(d, opType, minOpset, maxOpset, factory));
    }

    private static String normalize(String domain) {
        return domain.equals("ai.onnx") ? "" : domain;
    }

    private static String key(String domain, String opType) {
        return domain.isEmpty() ? opType : domain + "." + opType;
    }

    /** All entries, sorted by operator name. */
    public List<Entry> entries() {
        List<Entry> all = new ArrayList<>();
        entries.values().forEach(all::addAll);
        return Collections.unmodifiableList(all);
    }

    /** The entry for an operator at an opset, or null if unsupported. */
    public Entry find(String domain, String opType, int opset) {
        for (Entry e : entries.getOrDefault(key(normalize(domain), opType), List.of())) {
            if (e.covers(opset)) {
                return e;
            }
        }
        return null;
    }

    /** The opset of a node's domain in {@code graph} (the default domain's when not listed). */
    public static int opsetOf(Graph graph, Node node) {
        String d = normalize(node.domain());
        Integer v = graph.opsets().get(d);
        if (v != null) {
            return v;
        }
        return d.isEmpty() ? graph.opset() : -1;
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
