package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.ValueInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph being rewritten by a pass: a builder over a copy of the graph plus the name
 * bookkeeping every pass needs (fresh names that collide with no node or value) and the final
 * clean-up (dead nodes and unused initializers dropped).
 */
final class GraphEdit {
    final Graph source;
    final Graph.Builder builder;
    private final Set<String> taken = new HashSet<>();
    private final Map<String, Node> producer = new HashMap<>();
    private final Map<String, List<Node>> consumers = new HashMap<>();

    GraphEdit(Graph source) {
        this.source = source;
        this.builder = source.toBuilder();
        for (ValueInfo v : source.inputs()) {
            taken.add(v.name());
        }
        taken.addAll(source.initializers().keySet());
        taken.addAll(source.valueInfo().keySet());
        for (Node n : source.nodes()) {
            taken.add(n.name());
            taken.addAll(n.outputs());
            for (String out : n.outputs()) {
                producer.put(out, n);
            }
            for (String in : n.inputs()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
    }

    /** The node of the source graph producing {@code value}, or null. */
    Node producer(String value) {
        return producer.get(value);
    }

    /** The source graph's nodes reading {@code value} (a node reading it twice is listed twice). */
    List<Node> consumers(String value) {
        return consumers.getOrDefault(value, List.of());
    }

    /** True when {@code value} is a graph output of the source graph. */
    boolean isGraphOutput(String value) {
        for (ValueInfo o : source.outputs()) {
            if (o.name().equals(value)) {
                return true;
            }
        }
        return false;
    }

    /** {@code base} if no node or value has that name yet, else {@code base_2}, {@code base_3}, ...; reserved. */
    String fresh(String base) {
        String name = base;
        for (int i = 2; taken.contains(name); i++) {
            name = base + "_" + i;
        }
        taken.add(name);
        return name;
    }

    /** Reserves an exact name; fails if a node or value already has it. */
    String exact(String name) {
        if (!taken.add(name)) {
            throw new IllegalStateException("name '" + name + "' is already taken in graph " + source.name());
        }
        return name;
    }

    /** Replaces the node named like {@code n} in the builder by {@code n}. */
    void replace(Node n) {
        List<Node> nodes = builder.nodes();
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).name().equals(n.name())) {
                nodes.set(i, n);
                return;
            }
        }
        throw new IllegalStateException("no node named '" + n.name() + "'");
    }

    /** The builder's current node of that name. */
    Node current(String nodeName) {
        for (Node n : builder.nodes()) {
            if (n.name().equals(nodeName)) {
                return n;
            }
        }
        throw new IllegalStateException("no node named '" + nodeName + "'");
    }

    /** A copy of {@code n} writing {@code outputs} instead of its own. */
    static Node withOutputs(Node n, List<String> outputs) {
        return new Node(n.name(), n.opType(), n.domain(), n.inputs(), outputs, n.attributes());
    }

    /**
     * Drops nodes none of whose outputs is read (by a node or as a graph output), repeatedly,
     * then initializers no node reads.
     */
    static Graph.Builder prune(Graph.Builder b, List<ValueInfo> outputs) {
        Set<String> graphOutputs = new HashSet<>();
        outputs.forEach(o -> graphOutputs.add(o.name()));
        List<Node> nodes = new ArrayList<>(b.nodes());
        boolean changed = true;
        while (changed) {
            Set<String> read = new HashSet<>(graphOutputs);
            for (Node n : nodes) {
                read.addAll(n.inputs());
            }
            changed = nodes.removeIf(n -> n.outputs().stream().noneMatch(read::contains));
        }
        b.nodes(nodes);
        Set<String> read = new HashSet<>(graphOutputs);
        for (Node n : nodes) {
            read.addAll(n.inputs());
        }
        b.initializers().keySet().removeIf(k -> !read.contains(k));
        return b;
    }
}
