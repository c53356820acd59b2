package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ObjIntConsumer;
import java.util.stream.IntStream;

/**
 * Runs the binarized graph for calibration one layer at a time, from that layer on: values
 * upstream of the current layer do not change any more once the earlier layers are calibrated,
 * so they are kept per batch and each run starts from them.
 *
 * <p>A node is <em>settled</em> once it has run and is not downstream of a layer still to be
 * calibrated. The cache holds, per batch, the outputs of settled nodes (and the graph input)
 * that some unsettled node still reads: the frontier. A run for layer L computes L's output
 * from the frontier; afterwards the nodes it ran that are not downstream of L become settled,
 * and the outputs of L and its downstream nodes are dropped (L's parameters are about to
 * change). Every node thus runs about twice instead of once per later layer, and the frontier
 * is one or two activations per batch for the chains and residual blocks of CNNs.
 */
final class SiteRunner {
    private final List<Map<String, Value>> cache = new ArrayList<>();
    private final Set<String> settled = new HashSet<>();
    private final boolean itemByItem;

    SiteRunner(Graph g, List<Value> batches) {
        String input = g.inputs().get(0).name();
        for (Value b : batches) {
            Map<String, Value> m = new HashMap<>();
            m.put(input, b);
            cache.add(m);
        }
        Shape s = g.inputs().get(0).shape();
        // A graph made for batch 1 may bake that batch into a Reshape; keep feeding it item by item.
        itemByItem = s != null && s.rank() > 0 && s.dim(0).isFixed() && s.dim(0).size() == 1;
    }

    /**
     * Runs {@code g} (the current graph, layer {@code site} not yet refitted) from the frontier
     * and returns the channel moments of the site's output, paired with its target when the
     * two differ. Then advances the frontier past everything upstream of the site.
     */
    ChannelMoments run(Graph g, Site site) {
        return run(g, site, null, null);
    }

    /**
     * As {@link #run(Graph, Site)}, and hands each batch's value of {@code extra} (a value
     * upstream of the site) with the batch's index to {@code sink}, from several threads at once.
     */
    ChannelMoments run(Graph g, Site site, String extra, ObjIntConsumer<Value> sink) {
        Set<String> targets = new LinkedHashSet<>();
        targets.add(site.output);
        targets.add(site.target);
        Set<String> cached = new HashSet<>(cache.get(0).keySet());
        boolean extraComputed = extra != null && !cached.contains(extra);
        if (extraComputed) {
            targets.add(extra);
        }
        List<Node> sub = nodesFor(g, targets, cached);
        Set<String> downstream = downstreamOf(sub, site.node);
        Set<String> nowSettled = new HashSet<>(settled);
        for (Node n : sub) {
            if (!downstream.contains(n.name())) {
                nowSettled.add(n.name());
            }
        }
        Set<String> readLater = new HashSet<>();
        for (Node n : g.nodes()) {
            if (!nowSettled.contains(n.name())) {
                readLater.addAll(n.inputs());
            }
        }
        Set<String> keep = new HashSet<>();
        for (Node n : sub) {
            if (nowSettled.contains(n.name())) {
                for (String out : n.outputs()) {
                    if (readLater.contains(out)) {
                        keep.add(out);
                    }
                }
            }
        }
        Set<String> keepAlso = new HashSet<>(keep);
        keepAlso.addAll(targets);
        Graph part = subgraph(g, sub, cached, targets);
        Executor ex = Executor.create(part);
        List<ChannelMoments> perBatch = IntStream.range(0, cache.size()).parallel().mapToObj(b -> {
            Map<String, Value> mine = cache.get(b);
            Map<String, Value> in = new LinkedHashMap<>();
            for (ValueInfo v : part.inputs()) {
                in.put(v.name(), mine.get(v.name()));
            }
            Map<String, Value> out = ex.run(in, keepAlso);
            Value y = out.get(site.output);
            Value s = site.target.equals(site.output) ? null : out.get(site.target);
            if (sink != null) {
                sink.accept(extraComputed ? out.get(extra) : mine.get(extra), b);
            }
            for (String k : keep) {
                mine.put(k, out.get(k));
            }
            mine.keySet().removeIf(k -> !readLater.contains(k));
            return ChannelMoments.of(y, s, site.axis(y.rank()));
        }).toList();
        settled.clear();
        settled.addAll(nowSettled);
        ChannelMoments total = perBatch.get(0);
        for (int b = 1; b < perBatch.size(); b++) {
            total.add(perBatch.get(b));
        }
        return total;
    }

    /** The nodes that compute {@code targets} from {@code available} values and constants, in graph order. */
    private static List<Node> nodesFor(Graph g, Set<String> targets, Set<String> available) {
        Set<String> wanted = new HashSet<>(targets);
        List<Node> nodes = g.nodes();
        boolean[] use = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().anyMatch(o -> wanted.contains(o) && !available.contains(o))) {
                use[i] = true;
                wanted.addAll(n.inputs());
            }
        }
        List<Node> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (use[i]) {
                out.add(nodes.get(i));
            }
        }
        return out;
    }

    /** Names of the nodes in {@code sub} that read, directly or not, an output of node {@code root} (root included). */
    private static Set<String> downstreamOf(List<Node> sub, String root) {
        Set<String> names = new HashSet<>();
        Set<String> values = new HashSet<>();
        for (Node n : sub) {
            if (n.name().equals(root) || n.inputs().stream().anyMatch(values::contains)) {
                names.add(n.name());
                values.addAll(n.outputs());
            }
        }
        return names;
    }

    /** {@code nodes} as a graph whose inputs are the cached values they read. */
    private Graph subgraph(Graph g, List<Node> nodes, Set<String> cached, Set<String> targets) {
        Set<String> read = new HashSet<>();
        for (Node n : nodes) {
            read.addAll(n.inputs());
        }
        List<ValueInfo> inputs = new ArrayList<>();
        for (String v : cached) {
            if (read.contains(v)) {
                inputs.add(new ValueInfo(v, DataType.FLOAT, shapeOf(v)));
            }
        }
        inputs.sort((a, b) -> a.name().compareTo(b.name()));
        List<ValueInfo> outputs = new ArrayList<>();
        for (String t : targets) {
            outputs.add(new ValueInfo(t, DataType.FLOAT, null));
        }
        Graph.Builder b = g.toBuilder().inputs(inputs).nodes(nodes).outputs(outputs).clearValueInfo();
        b.initializers().keySet().removeIf(k -> !read.contains(k));
        return b.build();
    }

    /** The declared shape of a cached value: batch fixed at 1 for an item-by-item graph (so it is split), else unknown. */
    private Shape shapeOf(String v) {
        if (!itemByItem) {
            return null;
        }
        Value first = cache.get(0).get(v);
        List<Dim> dims = new ArrayList<>();
        dims.add(Dim.of(1));
        for (int d = 1; d < first.rank(); d++) {
            dims.add(Dim.of(first.shape[d]));
        }
        return Shape.of(dims);
    }
}
