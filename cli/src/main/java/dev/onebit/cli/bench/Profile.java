package dev.onebit.cli.bench;

import dev.onebit.ir.Node;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where one call's time goes: every scheduled node of a graph timed separately
 * ({@link Executor#runProfiled}) over many calls, summed per node and per operator type.
 * The per-node clock adds a little to every node, so the total is a bit above the latency
 * measured without it; the shares are what it is for.
 *
 * @param nodes per node: name, operator, milliseconds per call
 * @param totalMs the sum over nodes, per call
 * @param packed how many nodes pass their output on bit-packed
 */
public record Profile(List<NodeTime> nodes, double totalMs, int packed) {

    /** One node's share. */
    public record NodeTime(String name, String op, double ms) {
    }

    /**
     * Profiles {@code calls} calls after {@code warmup} untimed ones.
     *
     * @param input the graph's one input
     */
    public static Profile of(Executor ex, String inputName, Value input, int warmup, int calls) {
        Map<String, Value> in = Map.of(inputName, input);
        List<Node> scheduled = ex.scheduledNodes();
        long[] nanos = new long[scheduled.size()];
        // Warm up on the profiled path itself: compiled for unprofiled runs only, the executor's
        // loop would be recompiled in the middle of the timed calls.
        long start = System.nanoTime();
        for (int i = 0; i < warmup || System.nanoTime() - start < 2_000_000_000L; i++) {
            ex.runProfiled(in, nanos);
        }
        java.util.Arrays.fill(nanos, 0);
        for (int i = 0; i < calls; i++) {
            ex.runProfiled(in, nanos);
        }
        List<NodeTime> l = new ArrayList<>();
        double total = 0;
        for (int i = 0; i < nanos.length; i++) {
            Node n = scheduled.get(i);
            String op = n.domain().equals(OpRegistry.ONEBIT_DOMAIN) || n.domain().isEmpty() ? n.opType()
                    : n.domain() + ":" + n.opType();
            double ms = nanos[i] / 1e6 / calls;
            l.add(new NodeTime(n.name(), op, ms));
            total += ms;
        }
        return new Profile(l, total, ex.packedOutputNodes().size());
    }

    /** Milliseconds per call by operator type, largest first. */
    public Map<String, Double> byOp() {
        Map<String, Double> m = new LinkedHashMap<>();
        nodes.stream().sorted(Comparator.comparingDouble(NodeTime::ms).reversed())
                .forEach(n -> m.merge(n.op(), n.ms(), Double::sum));
        List<Map.Entry<String, Double>> e = new ArrayList<>(m.entrySet());
        e.sort(Map.Entry.<String, Double>comparingByValue().reversed());
        Map<String, Double> sorted = new LinkedHashMap<>();
        e.forEach(x -> sorted.put(x.getKey(), x.getValue()));
        return sorted;
    }

    /** The {@code top} slowest nodes. */
    public List<NodeTime> slowest(int top) {
        return nodes.stream().sorted(Comparator.comparingDouble(NodeTime::ms).reversed()).limit(top).toList();
    }

    /** The two tables, as text. */
    public void print(PrintWriter out, int top) {
        out.printf("profile: %.3f ms per call over %d nodes (%d pass their output on bit-packed)%n", totalMs,
                nodes.size(), packed);
        out.printf("  %-22s %9s %7s%n", "op", "ms", "share");
        for (Map.Entry<String, Double> e : byOp().entrySet()) {
            out.printf("  %-22s %9.4f %6.1f%%%n", e.getKey(), e.getValue(), 100 * e.getValue() / totalMs);
        }
        out.printf("  %-46s %-16s %9s %7s%n", "slowest nodes", "op", "ms", "share");
        for (NodeTime n : slowest(top)) {
            String name = n.name().length() > 46 ? "..." + n.name().substring(n.name().length() - 43) : n.name();
            out.printf("  %-46s %-16s %9.4f %6.1f%%%n", name, n.op(), n.ms(), 100 * n.ms() / totalMs);
        }
    }
}
