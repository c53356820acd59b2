package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Label-free calibration of a binarized graph against its float original: no labels, no
 * gradients, deterministic.
 *
 * <p>The binary layers, and the float Conv and Gemm layers downstream of them (the classifier,
 * normally; see {@link Site}), are visited in topological order. For each, the binarized graph (with
 * the earlier layers already calibrated) is run on the calibration images. Layers with
 * real-valued inputs (bwn, cbd) get the {@link SignRefit}: signs, alphas and bias refitted to
 * the float layer's output. Every other layer gets the <em>moment fit</em>: per output
 * channel a scale {@code a > 0} and shift {@code b} so that {@code a * y + b} has the
 * mean and standard deviation (over batch and spatial positions) of the float graph's value of
 * the same name. {@code a} is folded into alpha (every plane), {@code a * bias + b} into the
 * bias (created when absent). A channel whose float or binary output is constant keeps
 * {@code a = 1} and is only shifted.
 *
 * <p>Bi-Real layers are fitted at their shortcut's sum instead: with the binary branch
 * {@code Y = g * y} (g the slope of the BatchNormalization between conv and Add, or 1) and the
 * rest of the sum {@code X}, the variance of {@code a Y + X} is {@code a² Var Y + 2 a Cov(Y, X) +
 * Var X}; setting it to the float variance gives a quadratic in a, of which the largest positive
 * root is taken. Without a positive root, a is the positive minimizer of the variance when there
 * is one, else the plain ratio of standard deviations (as if there were no shortcut). b then
 * matches the mean.
 *
 * <p>The float graph runs once, keeping every needed value, and only per-channel moments are
 * cached (the values themselves would be hundreds of megabytes for a VGG); a refitted layer's
 * float output is recomputed per batch, for its sums only. The binarized graph
 * runs once per layer, only from that layer's inputs on (see {@link SiteRunner}). Batches run
 * in parallel; their moments are merged in batch order.
 */
public final class Calibration {
    /** Images per executor call unless told otherwise. */
    public static final int DEFAULT_BATCH = 100;

    private Calibration() {
    }

    /**
     * What {@link #run} did: the calibrated graph, and per layer whose signs were refitted
     * ({@link SignRefit}) the fraction of its signs that changed, in calibration order.
     */
    public record Result(Graph graph, Map<String, Double> refitSigns) {
    }

    /** Calibrates on {@code images} ({@code [N, ...]}, fed to the graphs' single input) in batches of {@value #DEFAULT_BATCH}, refitting signs. */
    public static Graph calibrate(Graph floatGraph, Graph binarized, Value images) {
        return calibrate(floatGraph, binarized, split(images, DEFAULT_BATCH));
    }

    /** {@link #run} with the sign refit on, returning the graph. */
    public static Graph calibrate(Graph floatGraph, Graph binarized, List<Value> batches) {
        return run(floatGraph, binarized, batches, true).graph();
    }

    /**
     * Calibrates on the given batches, each a value for the graphs' single input. The result
     * depends only on the graphs and the batches (not on threads or timing).
     *
     * @param refitSigns refit the signs of bwn and cbd layers to the float layers' outputs ({@link SignRefit})
     *     before the moment fit of the other layers; false gives the moment fit everywhere
     * @return the calibrated graph ({@code binarized} itself when it has no binary layer)
     * @throws IllegalArgumentException if a graph has more than one input, there are no
     *     batches, or a binary layer's output has no counterpart of the same name and channel
     *     count in the float graph
     */
    public static Result run(Graph floatGraph, Graph binarized, List<Value> batches, boolean refitSigns) {
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("no calibration images");
        }
        for (Graph g : List.of(floatGraph, binarized)) {
            if (g.inputs().size() != 1) {
                throw new IllegalArgumentException("calibration needs graphs with one input, " + g.name() + " has "
                        + g.inputs().size());
            }
        }
        List<Site> sites = Site.find(binarized, floatGraph);
        if (sites.stream().noneMatch(s -> !s.floatLayer)) {
            return new Result(binarized, Map.of());
        }
        List<ChannelMoments> floatMoments = floatMoments(floatGraph, batches, sites);
        Graph current = binarized;
        SiteRunner runner = new SiteRunner(binarized, batches);
        Map<String, Double> flips = new LinkedHashMap<>();
        for (int i = 0; i < sites.size(); i++) {
            Site site = sites.get(i);
            ChannelMoments want = floatMoments.get(i);
            SignRefit refit = refitSigns ? SignRefit.of(current, site, floatGraph, batches) : null;
            ChannelMoments got = refit == null ? runner.run(current, site)
                    : runner.run(current, site, refit.input(), refit::add);
            if (want.channels != got.channels) {
                throw new IllegalArgumentException("value '" + site.target + "' has " + want.channels
                        + " channels in the float graph, " + got.channels + " in the binarized one");
            }
            if (refit != null) {
                current = refit.apply(current);
                flips.put(refit.layer(), refit.flippedFraction());
            } else {
                current = site.fold(current, site.fit(current, want, got));
            }
        }
        return new Result(current, flips);
    }

    /** Splits {@code [N, ...]} into batches of at most {@code size} along the first axis. */
    public static List<Value> split(Value images, int size) {
        if (size < 1 || images.rank() < 1) {
            throw new IllegalArgumentException("cannot split " + images + " into batches of " + size);
        }
        int n = images.shape[0];
        int per = n == 0 ? 0 : images.size() / n;
        List<Value> out = new ArrayList<>();
        for (int start = 0; start < n; start += size) {
            int count = Math.min(size, n - start);
            int[] shape = images.shape.clone();
            shape[0] = count;
            out.add(Value.ofFloats(shape, Arrays.copyOfRange(images.floats, start * per, (start + count) * per)));
        }
        return out;
    }

    /** Runs the float graph once over all batches and returns the channel moments at every site's target. */
    private static List<ChannelMoments> floatMoments(Graph g, List<Value> batches, List<Site> sites) {
        Set<String> needed = new HashSet<>();
        for (Site s : sites) {
            if (!produced(g, s.target)) {
                throw new IllegalArgumentException("value '" + s.target + "' of binary layer '" + s.node
                        + "' is not computed by the float graph " + g.name());
            }
            needed.add(s.target);
        }
        Executor ex = Executor.create(cut(g, needed));
        String input = g.inputs().get(0).name();
        List<List<ChannelMoments>> perBatch = IntStream.range(0, batches.size()).parallel().mapToObj(b -> {
            Map<String, Value> out = ex.run(Map.of(input, batches.get(b)), needed);
            List<ChannelMoments> ms = new ArrayList<>();
            for (Site s : sites) {
                Value y = out.get(s.target);
                ms.add(ChannelMoments.of(y, null, s.axis(y.rank())));
            }
            return ms;
        }).toList();
        List<ChannelMoments> total = perBatch.get(0);
        for (int b = 1; b < perBatch.size(); b++) {
            for (int i = 0; i < total.size(); i++) {
                total.get(i).add(perBatch.get(b).get(i));
            }
        }
        return total;
    }

    private static boolean produced(Graph g, String value) {
        for (Node n : g.nodes()) {
            if (n.outputs().contains(value)) {
                return true;
            }
        }
        return false;
    }

    /** The part of {@code g} that computes {@code values}, with them as its outputs. */
    static Graph cut(Graph g, Set<String> values) {
        Set<String> wanted = new HashSet<>(values);
        List<Node> nodes = g.nodes();
        boolean[] keep = new boolean[nodes.size()];
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            if (n.outputs().stream().anyMatch(wanted::contains)) {
                keep[i] = true;
                wanted.addAll(n.inputs());
            }
        }
        List<Node> kept = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (keep[i]) {
                kept.add(nodes.get(i));
            }
        }
        List<ValueInfo> outs = new ArrayList<>();
        for (String v : values) {
            outs.add(new ValueInfo(v, DataType.FLOAT, null));
        }
        Graph.Builder b = g.toBuilder().nodes(kept).outputs(outs);
        b.initializers().keySet().removeIf(k -> !wanted.contains(k));
        return b.build();
    }
}
