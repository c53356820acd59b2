package dev.onebit.runtime;

import dev.onebit.ir.Node;
import dev.onebit.runtime.kernels.ConvGeometry;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides where a graph's ±1 activations stay bit-packed ({@link PackedSigns}) from one binary
 * layer to the next, so that XNOR layers feed each other without a float tensor in between:
 * <pre>
 *   BinaryConv -&gt; Binarize -&gt; [MaxPool] -&gt; [Flatten | Reshape] -&gt; BinaryConv | BinaryMatMul
 * </pre>
 * A node <em>emits signs</em> ({@link SignKernel#runSigns} instead of {@link Kernel#run}) when
 * that cannot change what its consumers compute:
 * <ul>
 *   <li>a Binarize, MaxPool, Flatten or Reshape (their output is ±1 exactly when their input is)
 *       when every consumer takes packed signs: a binary layer, a Binarize, or another such
 *       node that emits signs itself; also a Binarize fused with activation scales
 *       ({@link ScaleFusion}, output 0), which as a consumer wants floats;</li>
 *   <li>a binary layer, whose output is real-valued, only when all its consumers are Binarize
 *       nodes: they keep nothing but the sign.</li>
 * </ul>
 * Graph outputs are never packed. Whatever arrives packed at a kernel that is not a
 * {@link SignKernel}, or at another input than the first, is unpacked by the executor, so a
 * plan can only make a run faster, never different.
 */
final class SignPlan {
    private SignPlan() {
    }

    /** How a node takes part in a plan. */
    private enum Role { BINARIZE, SCALED_BINARIZE, LAYER, PASS, NONE }

    private static Role role(Node n, Kernel k) {
        if (!(k instanceof SignKernel)) {
            return Role.NONE;
        }
        if (n.domain().equals(OpRegistry.ONEBIT_DOMAIN)) {
            return switch (n.opType()) {
                case "Binarize" -> Role.BINARIZE;
                // Emits as a Binarize does, but reads floats: its scales need magnitudes.
                case ScaleFusion.OP_TYPE -> Role.SCALED_BINARIZE;
                case "BinaryConv", "BinaryMatMul", AddFusion.OP_TYPE -> Role.LAYER;
                default -> Role.NONE;
            };
        }
        return Role.PASS;
    }

    /**
     * The plan: true for the nodes that should emit signs.
     *
     * @param nodes the nodes in execution order
     * @param kernels their kernels, pass-through ones already {@link #wrap wrapped}
     * @param outputs the graph's output names
     */
    static boolean[] emitters(List<Node> nodes, List<Kernel> kernels, Set<String> outputs) {
        Map<String, List<int[]>> uses = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            List<String> in = nodes.get(i).inputs();
            for (int k = 0; k < in.size(); k++) {
                if (!in.get(k).isEmpty()) {
                    uses.computeIfAbsent(in.get(k), x -> new ArrayList<>()).add(new int[] {i, k});
                }
            }
        }
        boolean[] emit = new boolean[nodes.size()];
        // Backwards, so that every consumer's decision is made before its producer's.
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            Role role = role(node, kernels.get(i));
            if (role == Role.NONE || node.outputs().isEmpty() || node.output(0).isEmpty()
                    || outputs.contains(node.output(0))
                    || role != Role.SCALED_BINARIZE && node.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
                continue;
            }
            List<int[]> consumers = uses.get(node.output(0));
            if (consumers == null) {
                continue;
            }
            boolean ok = true;
            for (int[] use : consumers) {
                Role r = role(nodes.get(use[0]), kernels.get(use[0]));
                ok &= use[1] == 0 && (role == Role.LAYER
                        ? r == Role.BINARIZE
                        : r == Role.BINARIZE || r == Role.LAYER || r == Role.PASS && emit[use[0]]);
            }
            emit[i] = ok;
        }
        // Forwards: a MaxPool, Flatten or Reshape has packed signs to pass on only when its
        // input arrives packed (a float input would just run the float kernel).
        Map<String, Integer> producer = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            for (String out : nodes.get(i).outputs()) {
                producer.put(out, i);
            }
            Node node = nodes.get(i);
            if (emit[i] && role(node, kernels.get(i)) == Role.PASS) {
                Integer from = producer.get(node.input(0));
                emit[i] = from != null && emit[from];
            }
        }
        return emit;
    }

    /**
     * The kernel of a MaxPool (without indices), Flatten or Reshape wrapped so that it also takes
     * packed signs; any other kernel as it is.
     */
    static Kernel wrap(Node node, Kernel kernel) {
        if (!node.domain().isEmpty() && !node.domain().equals("ai.onnx")) {
            return kernel;
        }
        return switch (node.opType()) {
            case "Flatten", "Reshape" -> new Reshaped(kernel);
            case "MaxPool" -> {
                boolean indices = node.outputs().size() > 1 && !node.output(1).isEmpty();
                yield !indices && kernel instanceof PoolWindow pool ? new MaxPooled(pool) : kernel;
            }
            default -> kernel;
        };
    }

    /** The output shape the float kernel gives for input 0's shape (its other inputs as they are). */
    private static int[] shapeFor(Kernel kernel, Value[] inputs) {
        Value[] probe = inputs.clone();
        probe[0] = Value.shapeOnly(inputs[0].shape);
        return kernel.inferShapes(probe)[0].shape;
    }

    /** A wrapped float kernel: floats in, its own result; packed signs in, unpacked first. */
    private abstract static class PassThrough implements SignKernel {
        final Kernel kernel;

        PassThrough(Kernel kernel) {
            this.kernel = kernel;
        }

        @Override
        public Value[] run(Value[] inputs) {
            return kernel.run(unpack(inputs));
        }

        @Override
        public Value[] inferShapes(Value[] inputs) {
            return kernel.inferShapes(inputs);
        }
    }

    /** Flatten and Reshape keep the element order, so packed signs pass with a new shape. */
    private static final class Reshaped extends PassThrough {
        Reshaped(Kernel kernel) {
            super(kernel);
        }

        @Override
        public Value[] runSigns(Value[] inputs) {
            Value x = inputs[0];
            if (x == null || x.signs == null) {
                return kernel.run(inputs);
            }
            int[] shape = shapeFor(kernel, inputs);
            // Packed signs are [images][...]: a reshape that moves the batch axis needs floats.
            if (shape.length == 0 || shape[0] != x.signs.images) {
                return kernel.run(unpack(inputs));
            }
            return new Value[] {Value.ofSigns(shape, x.signs)};
        }
    }

    /** MaxPool of ±1 values as an AND of packed words ({@link PackedSigns#maxPool}). */
    private static final class MaxPooled extends PassThrough {
        private final PoolWindow pool;
        /** The window taps of the last input shape seen. */
        private volatile Windows windows;

        private record Windows(int[] shape, ConvGeometry g, int[][] taps) {
        }

        MaxPooled(PoolWindow pool) {
            super(pool);
            this.pool = pool;
        }

        @Override
        public Value[] runSigns(Value[] inputs) {
            Value x = inputs[0];
            if (x == null || x.signs == null || x.rank() < 3 || !x.signs.isChannelLayoutOf(x.shape)) {
                return kernel.run(unpack(inputs));
            }
            Windows w = windows;
            if (w == null || !Arrays.equals(w.shape(), x.shape)) {
                ConvGeometry g = pool.window(x.shape);
                w = new Windows(x.shape.clone(), g, PackedSigns.windowTaps(g));
                windows = w;
            }
            PackedSigns pooled = x.signs.maxPool(w.g(), w.taps());
            if (pooled == null) {
                return kernel.run(unpack(inputs));
            }
            int[] shape = x.shape.clone();
            System.arraycopy(w.g().out, 0, shape, 2, w.g().rank());
            return new Value[] {Value.ofSigns(shape, pooled)};
        }
    }

    /** The inputs with any packed value unpacked. */
    static Value[] unpack(Value[] inputs) {
        Value[] out = inputs;
        for (int k = 0; k < inputs.length; k++) {
            if (inputs[k] != null && inputs[k].signs != null) {
                if (out == inputs) {
                    out = inputs.clone();
                }
                out[k] = inputs[k].unpacked();
            }
        }
        return out;
    }
}
