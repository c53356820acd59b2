package dev.onebit.runtime.ops;

import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.Value;

import java.util.Arrays;

/** Input checks shared by the float kernels of ConvOps, MatMulOps and PoolOps. */
final class FloatArgs {
    private FloatArgs() {
    }

    /** Input {@code i} as a float value with data; fails naming the node when it is absent or not float. */
    static Value floatInput(NodeContext ctx, Value[] inputs, int i, String what) {
        Value v = i < inputs.length ? inputs[i] : null;
        if (v == null) {
            throw ctx.error("input " + what + " is missing");
        }
        if (!v.isFloat()) {
            throw ctx.error("input " + what + " must be float, got " + v.type);
        }
        return v;
    }

    /** Input {@code i} when it is given, else null; fails when it is not float. */
    static Value optionalFloat(NodeContext ctx, Value[] inputs, int i, String what) {
        if (i >= inputs.length || inputs[i] == null) {
            return null;
        }
        return floatInput(ctx, inputs, i, what);
    }

    /** Fails unless the value has at least {@code min} dimensions. */
    static void requireRank(NodeContext ctx, Value v, int min, String what) {
        if (v.rank() < min) {
            throw ctx.error(what + " must have rank >= " + min + ", has shape " + Arrays.toString(v.shape));
        }
    }

    /** The INTS attribute as ints, or null when absent. */
    static int[] intsOrNull(NodeContext ctx, String key) {
        long[] v = ctx.node().attrInts(key, null);
        if (v == null) {
            return null;
        }
        int[] o = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            if (v[i] < 0 || v[i] > Integer.MAX_VALUE) {
                throw ctx.error(key + " value " + v[i] + " is out of range");
            }
            o[i] = (int) v[i];
        }
        return o;
    }
}
