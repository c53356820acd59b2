package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ShapeInference;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns a float graph into a binary one: finds the layers, applies the keep-float policy, then
 * runs the passes the method needs, in this order:
 * <ol>
 *   <li>{@value WeightBinarizationPass#NAME} (every method): binary weights;</li>
 *   <li>{@value RealShortcutPass#NAME} (bireal): real shortcuts around binary convs;</li>
 *   <li>{@value InputBinarizationPass#NAME} (xnor, bireal): binary inputs.</li>
 * </ol>
 * The result declares opset {@code dev.onebit} 1 and has fresh value infos (shape inference
 * is run on it). Binarization is deterministic and needs no data; {@link Calibration} then fits
 * the binary layers to the float network's statistics.
 */
public final class Binarizer {
    private Binarizer() {
    }

    /**
     * Binarizes a float graph.
     *
     * @throws IllegalArgumentException if the policy names a node that is not a layer of the graph
     * @throws dev.onebit.ir.ModelException if the graph cannot be run (shape inference fails)
     */
    public static BinarizeResult binarize(Graph floatGraph, BinarizeOptions opts) {
        List<Layer> layers = Layer.find(floatGraph);
        Set<String> layerNames = new HashSet<>();
        layers.forEach(l -> layerNames.add(l.node().name()));
        Set<String> unknown = new TreeSet<>(opts.keepFloat().names());
        unknown.removeAll(layerNames);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("keep-float names no Conv, Gemm or MatMul node: " + String.join(", ", unknown));
        }
        Set<String> first = new HashSet<>();
        Set<String> last = new HashSet<>();
        endLayers(floatGraph, first, last);

        Map<String, String> reasons = new LinkedHashMap<>();
        List<Layer> chosen = new ArrayList<>();
        for (Layer l : layers) {
            String name = l.node().name();
            String reason = l.unsupported() != null ? l.unsupported()
                    : opts.keepFloat().reason(name, first.contains(name), last.contains(name));
            if (reason == null) {
                chosen.add(l);
            } else {
                reasons.put(name, reason);
            }
        }

        Method method = opts.method();
        WeightBinarizationPass.Outcome weights = WeightBinarizationPass.apply(floatGraph, chosen, method,
                opts.planes(), opts.refineRounds());
        Graph g = weights.graph();
        Map<String, String> notes = Map.of();
        if (method == Method.BIREAL) {
            RealShortcutPass.Outcome s = RealShortcutPass.apply(g);
            g = s.graph();
            notes = s.notes();
        }
        if (method.binarizesInputs()) {
            g = PoolBeforeClampPass.apply(g, opts.scaleActivations());
            g = InputBinarizationPass.apply(g, opts.scaleActivations());
        }
        Graph.Builder b = g.toBuilder().clearValueInfo()
                .opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET)
                .metadata("onebit.binarizer.method", method.id());
        if (method == Method.CBD) {
            b.metadata("onebit.binarizer.planes", Integer.toString(opts.planes()));
        }
        Graph out = ShapeInference.infer(b.build());

        List<LayerReport> reports = new ArrayList<>();
        for (Layer l : layers) {
            String name = l.node().name();
            BinaryPlanes p = weights.planes().get(name);
            if (p == null) {
                reports.add(new LayerReport(name, l.node().opType(), "float", reasons.get(name), floatParams(floatGraph, l),
                        32, 0, null));
            } else {
                double bits = p.planes() + 32.0 * p.planes() / Math.max(1, p.perOutput());
                reports.add(new LayerReport(name, l.node().opType(), method.id(), null, l.params(), bits,
                        p.relativeError(l.weight()), notes.get(name)));
            }
        }
        return new BinarizeResult(out, reports);
    }

    private static long floatParams(Graph g, Layer l) {
        if (l.weight() != null) {
            return l.params();
        }
        Tensor w = g.initializer(l.node().input(1));
        return w == null ? 0 : w.size();
    }

    /**
     * Fills {@code first} with the layers no other layer is upstream of, and {@code last} with
     * those no other layer is downstream of. Only data paths count: weights are initializers.
     */
    static void endLayers(Graph g, Set<String> first, Set<String> last) {
        Map<String, Boolean> layerUpstream = new HashMap<>();
        for (Node n : g.nodes()) {
            boolean up = false;
            for (String in : n.inputs()) {
                up |= layerUpstream.getOrDefault(in, false);
            }
            boolean isLayer = Layer.isLayerOp(n);
            if (isLayer && !up) {
                first.add(n.name());
            }
            for (String out : n.outputs()) {
                layerUpstream.put(out, up || isLayer);
            }
        }
        Map<String, List<Node>> readers = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                readers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        Map<Node, Boolean> layerDownstream = new HashMap<>();
        List<Node> nodes = g.nodes();
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node n = nodes.get(i);
            boolean down = false;
            for (String out : n.outputs()) {
                for (Node r : readers.getOrDefault(out, List.of())) {
                    down |= Layer.isLayerOp(r) || layerDownstream.getOrDefault(r, false);
                }
            }
            layerDownstream.put(n, down);
            if (Layer.isLayerOp(n) && !down) {
                last.add(n.name());
            }
        }
    }
}
