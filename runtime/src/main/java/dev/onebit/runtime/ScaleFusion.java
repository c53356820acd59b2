package dev.onebit.runtime;

import dev.onebit.ir.Node;
import dev.onebit.runtime.kernels.BinaryGemm;
import dev.onebit.runtime.kernels.Kernels;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads an activation once where an XNOR conv with activation scales needs two things of it.
 * For such a conv behind a Relu the converter writes
 * <pre>
 *   z -&gt; Binarize -&gt; (signs)                  the conv's input
 *   z -&gt; Relu -&gt; ActivationScale -&gt; (K)      the conv's scale, per conv reading z
 * </pre>
 * and run literally that reads z twice and the Relu's output once more (on ResNet-18 the three
 * cost about as much as K's whole share of a call). The executor runs them as one node of type
 * {@value #OP_TYPE} instead: z's signs packed and the channel sums of |Relu(z)| in one pass
 * ({@link BinaryGemm#packChannelsAndSums}), then each scale's window step from those sums
 * ({@link ScaleKernel#fromChannelSums}). The Relu is left out when nothing else reads it.
 * Every output has the bits the literal nodes give; the fused node takes the Binarize's
 * place in the signs plan ({@link SignPlan}), and needs z as floats.
 */
final class ScaleFusion {
    /** The type of the fused nodes in an executor's schedule (and its profile). */
    static final String OP_TYPE = "Binarize+ActivationScale";

    private ScaleFusion() {
    }

    /**
     * Fuses every Binarize (packing kernel) of a value z with the ActivationScales of Relu(z).
     *
     * @param nodes the scheduled nodes in execution order
     * @param kernels their kernels
     * @param graphOutputs the graph's output names, which are always computed
     */
    static Schedule apply(List<Node> nodes, List<Kernel> kernels, Set<String> graphOutputs) {
        Map<String, List<Integer>> readers = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).inputs()) {
                if (!in.isEmpty()) {
                    readers.computeIfAbsent(in, k -> new ArrayList<>()).add(i);
                }
            }
        }
        // The fused nodes and kernels by the index they take; the indices of the nodes left out.
        Map<Integer, Node> fusedNodes = new LinkedHashMap<>();
        Map<Integer, Kernel> fusedKernels = new HashMap<>();
        Set<Integer> removed = new HashSet<>();
        Set<String> dropped = new HashSet<>();
        for (int b = 0; b < nodes.size(); b++) {
            Node binarize = nodes.get(b);
            if (!isBinarize(binarize) || !(kernels.get(b) instanceof SignKernel signs)) {
                continue;
            }
            String z = binarize.input(0);
            for (int r : readers.getOrDefault(z, List.of())) {
                Node relu = nodes.get(r);
                if (!relu.domain().isEmpty() || !relu.opType().equals("Relu") || relu.outputs().size() != 1
                        || removed.contains(r)) {
                    continue;
                }
                List<Integer> scales = new ArrayList<>();
                List<Integer> reluReaders = readers.getOrDefault(relu.output(0), List.of());
                for (int s : reluReaders) {
                    Node n = nodes.get(s);
                    if (!removed.contains(s) && n.domain().equals(OpRegistry.ONEBIT_DOMAIN)
                            && n.opType().equals("ActivationScale")
                            && n.inputs().size() == 1 && n.outputs().size() == 1
                            && kernels.get(s) instanceof ScaleKernel) {
                        scales.add(s);
                    }
                }
                if (scales.isEmpty()) {
                    continue;
                }
                List<String> outputs = new ArrayList<>();
                outputs.add(binarize.output(0));
                List<ScaleKernel> scaleKernels = new ArrayList<>();
                int at = b;
                for (int s : scales) {
                    outputs.add(nodes.get(s).output(0));
                    scaleKernels.add((ScaleKernel) kernels.get(s));
                    removed.add(s);
                    at = Math.min(at, s);
                }
                removed.add(b);
                // At the earliest of the nodes it replaces: z is computed before all of them,
                // and each output's readers come after the node that computed it.
                fusedNodes.put(at, new Node(binarize.name(), OP_TYPE, OpRegistry.ONEBIT_DOMAIN, List.of(z), outputs,
                        Map.of()));
                fusedKernels.put(at, new Fused(signs, scaleKernels));
                if (removed.containsAll(reluReaders) && !graphOutputs.contains(relu.output(0))) {
                    removed.add(r);
                    dropped.add(relu.output(0));
                }
                break;
            }
        }
        List<Node> outNodes = new ArrayList<>();
        List<Kernel> outKernels = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            Node f = fusedNodes.get(i);
            if (f != null) {
                outNodes.add(f);
                outKernels.add(fusedKernels.get(i));
            }
            if (!removed.contains(i)) {
                outNodes.add(nodes.get(i));
                outKernels.add(kernels.get(i));
            }
        }
        return new Schedule(outNodes, outKernels, dropped);
    }

    private static boolean isBinarize(Node n) {
        return n.domain().equals(OpRegistry.ONEBIT_DOMAIN) && n.opType().equals("Binarize")
                && n.inputs().size() == 1 && n.outputs().size() == 1;
    }

    /** The fused kernel: outputs the Binarize's, then each scale's. */
    private static final class Fused implements SignKernel {
        private final SignKernel binarize;
        private final List<ScaleKernel> scales;

        Fused(SignKernel binarize, List<ScaleKernel> scales) {
            this.binarize = binarize;
            this.scales = List.copyOf(scales);
        }

        @Override
        public Value[] runSigns(Value[] inputs) {
            Value x = inputs[0];
            if (x == null || x.signs != null || !x.isFloat() || !x.hasData() || x.rank() < 3 || x.shape[0] == 0) {
                return run(inputs);
            }
            float[] sums = new float[x.shape[0] * PackedSigns.pixelsOf(x.shape)];
            PackedSigns s = PackedSigns.packWithSums(x.floats, x.shape, Kernels.binaryGemm(), sums);
            return outputs(Value.ofSigns(x.shape, s), sums, x.shape);
        }

        /** Floats for the signs: the literal nodes' work, for a Binarize whose readers want floats. */
        @Override
        public Value[] run(Value[] inputs) {
            Value x = inputs[0];
            if (x != null && x.signs != null) {
                x = x.unpacked();
                inputs = new Value[] {x};
            }
            Value signs = binarize.run(inputs)[0];
            if (x == null || !x.isFloat() || x.rank() < 3) {
                // The scales report what is wrong with their input.
                Value[] out = new Value[1 + scales.size()];
                out[0] = signs;
                for (int k = 0; k < scales.size(); k++) {
                    out[k + 1] = scales.get(k).run(inputs)[0];
                }
                return out;
            }
            int pixels = PackedSigns.pixelsOf(x.shape);
            float[] sums = new float[x.shape[0] * pixels];
            for (int i = 0; i < x.shape[0]; i++) {
                BinaryGemm.addReluSumsScalar(x.floats, i * x.shape[1] * pixels, x.shape[1], pixels, 0, pixels, sums,
                        i * pixels);
            }
            return outputs(signs, sums, x.shape);
        }

        private Value[] outputs(Value signs, float[] sums, int[] xShape) {
            Value[] out = new Value[1 + scales.size()];
            out[0] = signs;
            for (int k = 0; k < scales.size(); k++) {
                // Each scale may change its array of sums.
                float[] own = k == scales.size() - 1 ? sums : sums.clone();
                out[k + 1] = scales.get(k).fromChannelSums(own, xShape);
            }
            return out;
        }

        @Override
        public Value[] inferShapes(Value[] inputs) {
            Value[] out = new Value[1 + scales.size()];
            out[0] = binarize.inferShapes(inputs)[0];
            for (int k = 0; k < scales.size(); k++) {
                out[k + 1] = scales.get(k).inferShapes(inputs)[0];
            }
            return out;
        }
    }
}
