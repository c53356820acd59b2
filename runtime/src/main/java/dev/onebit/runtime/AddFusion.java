package dev.onebit.runtime;

import dev.onebit.ir.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs a layer and the Add that is its only reader as one node, the layer's kernel adding the
 * other operand in its own output step ({@link ResidualKernel#runPlus}): a ResNet block's
 * second conv plus its shortcut, every Bi-Real conv plus its identity. Run literally, the Add
 * reads the layer's whole output back and writes a third tensor. The fused node, of type
 * {@value #OP_TYPE}, sits at the Add's place (both operands are ready there), reads the
 * layer's inputs and then the other operand, and gives the Add's output with the Add's bits;
 * where the kernel cannot (an input that is not ±1, operands of other shapes) it runs the
 * layer and the Add's own kernel.
 */
final class AddFusion {
    /** The type of the fused nodes in an executor's schedule (and its profile). */
    static final String OP_TYPE = "BinaryConv+Add";

    private AddFusion() {
    }

    /**
     * Fuses every Add whose operand is the only use of a layer with a {@link ResidualKernel}.
     *
     * @param nodes the scheduled nodes in execution order
     * @param kernels their kernels
     * @param graphOutputs the graph's output names, which are always computed
     * @return the new schedule; {@code dropped} holds the layers' outputs, no longer computed
     */
    static Schedule apply(List<Node> nodes, List<Kernel> kernels, Set<String> graphOutputs) {
        Map<String, Integer> producer = new HashMap<>();
        Map<String, Integer> uses = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String out : nodes.get(i).outputs()) {
                producer.put(out, i);
            }
            for (String in : nodes.get(i).inputs()) {
                uses.merge(in, 1, Integer::sum);
            }
        }
        Map<Integer, Integer> layerOfAdd = new HashMap<>();
        Set<Integer> fusedLayers = new HashSet<>();
        Set<String> dropped = new HashSet<>();
        for (int a = 0; a < nodes.size(); a++) {
            Node add = nodes.get(a);
            if (!add.domain().isEmpty() || !add.opType().equals("Add") || add.inputs().size() != 2
                    || add.outputs().size() != 1 || add.input(0).equals(add.input(1))) {
                continue;
            }
            for (int k = 0; k < 2; k++) {
                Integer l = producer.get(add.input(k));
                if (l == null || fusedLayers.contains(l) || !(kernels.get(l) instanceof ResidualKernel)
                        || nodes.get(l).outputs().size() != 1 || uses.get(add.input(k)) != 1
                        || graphOutputs.contains(add.input(k))) {
                    continue;
                }
                layerOfAdd.put(a, l);
                fusedLayers.add(l);
                dropped.add(add.input(k));
                break;
            }
        }
        List<Node> outNodes = new ArrayList<>();
        List<Kernel> outKernels = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (fusedLayers.contains(i)) {
                continue;
            }
            Integer l = layerOfAdd.get(i);
            if (l == null) {
                outNodes.add(nodes.get(i));
                outKernels.add(kernels.get(i));
                continue;
            }
            Node add = nodes.get(i);
            Node layer = nodes.get(l);
            boolean layerFirst = add.input(0).equals(layer.output(0));
            List<String> inputs = new ArrayList<>(layer.inputs());
            inputs.add(add.input(layerFirst ? 1 : 0));
            outNodes.add(new Node(layer.name(), OP_TYPE, OpRegistry.ONEBIT_DOMAIN, inputs, add.outputs(), Map.of()));
            outKernels.add(new Fused((ResidualKernel) kernels.get(l), kernels.get(i), layerFirst));
        }
        return new Schedule(outNodes, outKernels, dropped);
    }

    /** The fused kernel: the layer's inputs, then the Add's other operand. */
    private static final class Fused implements SignKernel {
        private final ResidualKernel layer;
        private final Kernel add;
        private final boolean layerFirst;

        Fused(ResidualKernel layer, Kernel add, boolean layerFirst) {
            this.layer = layer;
            this.add = add;
            this.layerFirst = layerFirst;
        }

        /** Output 0 is the Add's, never signs: floats are always an answer (see SignKernel). */
        @Override
        public Value[] runSigns(Value[] inputs) {
            return run(inputs);
        }

        @Override
        public Value[] run(Value[] inputs) {
            Value[] layerInputs = java.util.Arrays.copyOf(inputs, inputs.length - 1);
            Value other = inputs[inputs.length - 1];
            Value sum = layer.runPlus(layerInputs, other, !layerFirst);
            if (sum != null) {
                return new Value[] {sum};
            }
            Value y = layer.run(layerInputs)[0];
            return add.run(SignPlan.unpack(layerFirst ? new Value[] {y, other} : new Value[] {other, y}));
        }

        @Override
        public Value[] inferShapes(Value[] inputs) {
            Value y = layer.inferShapes(java.util.Arrays.copyOf(inputs, inputs.length - 1))[0];
            Value other = inputs[inputs.length - 1];
            return add.inferShapes(layerFirst ? new Value[] {y, other} : new Value[] {other, y});
        }
    }
}
