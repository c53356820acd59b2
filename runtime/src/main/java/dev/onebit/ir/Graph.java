package dev.onebit.ir;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An immutable computation graph: the IR every part of onebit shares. The importer builds it,
 * binarization passes rewrite it into new graphs, the runtime executes it.
 *
 * <p>Construction checks it: every node input is a graph input, an initializer or an earlier
 * node's output; no value is produced twice; nodes are kept in a topological order (a graph
 * given out of order is sorted, a cycle is an error); graph outputs exist.
 */
public final class Graph {
    private final String name;
    private final Map<String, Integer> opsets;
    private final List<ValueInfo> inputs;
    private final List<ValueInfo> outputs;
    private final Map<String, Tensor> initializers;
    private final List<Node> nodes;
    private final Map<String, ValueInfo> valueInfo;
    private final Map<String, String> metadata;

    private Graph(Builder b) {
        this.name = b.name;
        this.opsets = Collections.unmodifiableMap(new LinkedHashMap<>(b.opsets));
        this.inputs = List.copyOf(b.inputs);
        this.outputs = List.copyOf(b.outputs);
        this.initializers = Collections.unmodifiableMap(new LinkedHashMap<>(b.initializers));
        this.valueInfo = Collections.unmodifiableMap(new LinkedHashMap<>(b.valueInfo));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
        this.nodes = List.copyOf(sortAndCheck(b.nodes));
    }

    private List<Node> sortAndCheck(List<Node> given) {
        Map<String, Node> producer = new HashMap<>();
        Set<String> sources = new HashSet<>();
        Set<String> nodeNames = new HashSet<>();
        for (ValueInfo in : inputs) {
            if (!sources.add(in.name())) {
                throw new ModelException("graph input '" + in.name() + "' is declared twice");
            }
        }
        sources.addAll(initializers.keySet());
        for (Node n : given) {
            if (!nodeNames.add(n.name())) {
                throw new ModelException("two nodes are named '" + n.name() + "'");
            }
            for (String out : n.outputs()) {
                if (out.isEmpty()) {
                    continue;
                }
                if (sources.contains(out)) {
                    throw new ModelException(n.describe() + " writes '" + out + "', which is a graph input or initializer");
                }
                Node other = producer.put(out, n);
                if (other != null) {
                    throw new ModelException("value '" + out + "' is produced twice, by " + other.describe()
                            + " and " + n.describe());
                }
            }
        }
        // Kahn's algorithm, stable: among ready nodes the earliest given goes first, so a graph
        // that is already sorted keeps its order.
        Map<Node, Integer> pending = new HashMap<>();
        Map<String, List<Node>> consumers = new HashMap<>();
        for (Node n : given) {
            int count = 0;
            for (String in : n.inputs()) {
                if (in.isEmpty() || sources.contains(in)) {
                    continue;
                }
                if (!producer.containsKey(in)) {
                    throw new ModelException(n.describe() + " reads '" + in
                            + "', which no node, input or initializer provides");
                }
                count++;
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
            pending.put(n, count);
        }
        Map<Node, Integer> position = new HashMap<>();
        for (int i = 0; i < given.size(); i++) {
            position.put(given.get(i), i);
        }
        java.util.PriorityQueue<Node> ready = new java.util.PriorityQueue<>(
                (a, c) -> Integer.compare(position.get(a), position.get(c)));
        for (Node n : given) {
            if (pending.get(n) == 0) {
                ready.add(n);
            }
        }
        List<Node> order = new ArrayList<>(given.size());
        while (!ready.isEmpty()) {
            Node n = ready.poll();
            order.add(n);
            for (String out : n.outputs()) {
                for (Node c : consumers.getOrDefault(out, List.of())) {
                    int left = pending.merge(c, -1, Integer::sum);
                    if (left == 0) {
                        ready.add(c);
                    }
                }
            }
        }
        if (order.size() != given.size()) {
            ArrayDeque<String> stuck = new ArrayDeque<>();
            for (Node n : given) {
                if (pending.get(n) > 0 && stuck.size() < 5) {
                    stuck.add(n.name());
                }
            }
            throw new ModelException("the graph has a cycle through nodes " + String.join(", ", stuck));
        }
        for (ValueInfo out : outputs) {
            if (!producer.containsKey(out.name()) && !sources.contains(out.name())) {
                throw new ModelException("graph output '" + out.name() + "' is not produced by any node");
            }
        }
        return order;
    }

    /** Graph name. */
    public String name() {
        return name;
    }

    /** Operator set version per domain ({@code ""} is the default ONNX domain). */
    public Map<String, Integer> opsets() {
        return opsets;
    }

    /** Opset version of the default ONNX domain. */
    public int opset() {
        return opsets.getOrDefault("", opsets.getOrDefault("ai.onnx", 1));
    }

    /** Inputs the caller feeds (initializers are not among them). */
    public List<ValueInfo> inputs() {
        return inputs;
    }

    /** Outputs the graph produces. */
    public List<ValueInfo> outputs() {
        return outputs;
    }

    /** Constant tensors by value name. */
    public Map<String, Tensor> initializers() {
        return initializers;
    }

    /** The initializer of that name, or null. */
    public Tensor initializer(String valueName) {
        return initializers.get(valueName);
    }

    /** Nodes in topological order. */
    public List<Node> nodes() {
        return nodes;
    }

    /** Type and shape of values, where known (inputs, outputs and inferred intermediates). */
    public Map<String, ValueInfo> valueInfo() {
        return valueInfo;
    }

    /** Free-form metadata (producer, source file, ...). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The node producing {@code value}, or null for inputs and initializers. */
    public Node producer(String value) {
        for (Node n : nodes) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }

    /** Nodes that read {@code value}, in order. */
    public List<Node> consumers(String value) {
        List<Node> out = new ArrayList<>();
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                out.add(n);
            }
        }
        return out;
    }

    /** A builder holding a copy of this graph, for passes that derive a new graph from it. */
    public Builder toBuilder() {
        Builder b = new Builder(name);
        b.opsets.putAll(opsets);
        b.inputs.addAll(inputs);
        b.outputs.addAll(outputs);
        b.initializers.putAll(initializers);
        b.nodes.addAll(nodes);
        b.valueInfo.putAll(valueInfo);
        b.metadata.putAll(metadata);
        return b;
    }

    /** A new, empty builder. */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Mutable assembly of a {@link Graph}; {@link #build()} checks it. Not thread-safe. */
    public static final class Builder {
        private String name;
        private final Map<String, Integer> opsets = new LinkedHashMap<>();
        private final List<ValueInfo> inputs = new ArrayList<>();
        private final List<ValueInfo> outputs = new ArrayList<>();
        private final Map<String, Tensor> initializers = new LinkedHashMap<>();
        private final List<Node> nodes = new ArrayList<>();
        private final Map<String, ValueInfo> valueInfo = new LinkedHashMap<>();
        private final Map<String, String> metadata = new LinkedHashMap<>();

        private Builder(String name) {
            this.name = name == null ? "" : name;
        }

        /** Sets the graph name. */
        public Builder name(String n) {
            this.name = n;
            return this;
        }

        /** Sets the opset version of a domain. */
        public Builder opset(String domain, int version) {
            opsets.put(domain, version);
            return this;
        }

        /** Drops a domain's opset import (after a pass removed that domain's last node). */
        public Builder removeOpset(String domain) {
            opsets.remove(domain);
            return this;
        }

        /** Adds a graph input. */
        public Builder input(ValueInfo v) {
            inputs.add(v);
            return this;
        }

        /** Adds a graph output. */
        public Builder output(ValueInfo v) {
            outputs.add(v);
            return this;
        }

        /** Replaces the graph outputs. */
        public Builder outputs(List<ValueInfo> v) {
            outputs.clear();
            outputs.addAll(v);
            return this;
        }

        /** Replaces the graph inputs. */
        public Builder inputs(List<ValueInfo> v) {
            inputs.clear();
            inputs.addAll(v);
            return this;
        }

        /** Adds or replaces an initializer. */
        public Builder initializer(String valueName, Tensor t) {
            initializers.put(valueName, t);
            return this;
        }

        /** Removes an initializer. */
        public Builder removeInitializer(String valueName) {
            initializers.remove(valueName);
            return this;
        }

        /** Appends a node. */
        public Builder node(Node n) {
            nodes.add(n);
            return this;
        }

        /** Replaces all nodes. */
        public Builder nodes(List<Node> n) {
            nodes.clear();
            nodes.addAll(n);
            return this;
        }

        /** The nodes added so far (live view, for passes that edit in place). */
        public List<Node> nodes() {
            return nodes;
        }

        /** The initializers added so far (live view). */
        public Map<String, Tensor> initializers() {
            return initializers;
        }

        /** Records type and shape of a value. */
        public Builder valueInfo(ValueInfo v) {
            valueInfo.put(v.name(), v);
            return this;
        }

        /** Forgets all recorded value infos but those of inputs and outputs. */
        public Builder clearValueInfo() {
            valueInfo.clear();
            return this;
        }

        /** Adds metadata. */
        public Builder metadata(String key, String value) {
            metadata.put(key, value);
            return this;
        }

        /**
         * The checked graph.
         *
         * @throws ModelException if the graph is invalid
         */
        public Graph build() {
            return new Graph(this);
        }
    }
}
