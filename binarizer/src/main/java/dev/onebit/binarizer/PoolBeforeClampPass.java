package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.List;
import java.util.Set;

/**
 * Pass {@value #NAME}: {@code MaxPool(Relu(z))} becomes {@code Relu(MaxPool(z))}, before the
 * inputs are binarized. The two are equal (a clamp is monotone and max commutes with it), but
 * the second clamps a quarter of the values (a 2x2 or 3x3/2 pool), and it gives
 * {@link InputBinarizationPass}'s look-through a real pooled value to take the sign of:
 * {@code Binarize(MaxPool(z))} at the pooled size, instead of {@code Binarize(z)} at full size
 * followed by a pool of signs. That pays only where the pooled real value is computed anyway:
 * when something besides binary layers reads the pool (a residual shortcut), or, with
 * activation scales, when a BinaryConv reads it (XNOR-Net's K is computed from the real
 * value). A pool read only by binary layers that keep nothing but its sign (any binary layer
 * without activation scales; a BinaryMatMul, which has no scale, with them) stays after the
 * clamp: a float pool there would exist only to be binarized, where a pool of packed signs
 * costs a small fraction of it.
 *
 * <p>Only where it is exact and of use: the clamp is one the look-through rule sees through
 * ({@link InputBinarizationPass#clampsAtZero}: Relu, or Clip with min 0 and max absent or
 * positive), has the pool as its only reader and is not a graph output; the pool has no
 * indices output, no dilation, and pads smaller than its window, so no window lies wholly in
 * the padding (there the pool gives -inf, which a later clamp would turn into 0).
 */
final class PoolBeforeClampPass {
    /** The pass's name. */
    static final String NAME = "pool-before-clamp";

    private PoolBeforeClampPass() {
    }

    /**
     * Applies the pass.
     *
     * @param scaleActivations whether {@link InputBinarizationPass} will give binary convs
     *     activation scales, which read the real value of their input
     */
    static Graph apply(Graph g, boolean scaleActivations) {
        GraphEdit edit = new GraphEdit(g);
        boolean changed = false;
        for (Node pool : g.nodes()) {
            if (!pool.domain().isEmpty() || !pool.opType().equals("MaxPool") || !exactPool(pool)) {
                continue;
            }
            Node clamp = edit.producer(pool.input(0));
            if (clamp == null || !InputBinarizationPass.clampsAtZero(clamp, g) || edit.isGraphOutput(clamp.output(0))
                    || edit.consumers(clamp.output(0)).size() != 1) {
                continue;
            }
            if (!readAsReal(edit, pool.output(0), scaleActivations)) {
                continue;
            }
            String pooled = edit.fresh(pool.output(0) + "/before_clamp");
            List<String> poolInputs = new java.util.ArrayList<>(pool.inputs());
            poolInputs.set(0, clamp.input(0));
            edit.replace(GraphEdit.withOutputs(pool.withInputs(poolInputs), List.of(pooled)));
            List<String> clampInputs = new java.util.ArrayList<>(clamp.inputs());
            clampInputs.set(0, pooled);
            edit.replace(GraphEdit.withOutputs(clamp.withInputs(clampInputs), List.of(pool.output(0))));
            changed = true;
        }
        return changed ? GraphEdit.prune(edit.builder, g.outputs()).build() : g;
    }

    private static boolean exactPool(Node pool) {
        if (pool.outputs().size() > 1 && !pool.output(1).isEmpty()) {
            return false;
        }
        if (!pool.attrString("auto_pad", "NOTSET").equals("NOTSET")) {
            return false;
        }
        long[] kernel = pool.attrInts("kernel_shape", null);
        long[] pads = pool.attrInts("pads", null);
        long[] dilations = pool.attrInts("dilations", null);
        if (kernel == null) {
            return false;
        }
        if (dilations != null) {
            for (long d : dilations) {
                if (d != 1) {
                    return false;
                }
            }
        }
        if (pads != null) {
            for (int i = 0; i < pads.length; i++) {
                if (pads[i] >= kernel[i % kernel.length]) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * True when a reader of v uses its real value: anything but a binary layer that binarizes
     * its input and, with activation scales, is not a BinaryConv (whose scale reads v).
     */
    private static boolean readAsReal(GraphEdit edit, String v, boolean scaleActivations) {
        if (edit.isGraphOutput(v)) {
            return true;
        }
        for (Node c : edit.consumers(v)) {
            boolean signOnlyReader = BinaryOps.isBinaryLayer(c) && c.input(0).equals(v)
                    && BINARIZING.contains(c.attrString("method", ""))
                    && !(scaleActivations && c.opType().equals("BinaryConv"));
            boolean rearrangeOfSigns = c.domain().isEmpty() && InputBinarizationPass.REARRANGE.contains(c.opType())
                    && !readAsReal(edit, c.output(0), scaleActivations);
            if (!signOnlyReader && !rearrangeOfSigns) {
                return true;
            }
        }
        return false;
    }

    private static final Set<String> BINARIZING = Set.of(Method.XNOR.id(), Method.BIREAL.id());
}
