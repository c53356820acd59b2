package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.Value;

import java.util.Arrays;

/** Small helpers shared by the element-wise, shape and normalization kernels. */
final class OpUtil {
    private OpUtil() {
    }

    /**
     * A kernel whose {@link #run} already copes with shape-only FLOAT inputs (it returns
     * shape-only outputs for them), so shape inference can call it directly instead of
     * evaluating on zeros.
     */
    interface ShapeAware extends Kernel {
        @Override
        default Value[] inferShapes(Value[] inputs) {
            return run(inputs);
        }
    }

    /**
     * The error for a node, built without keeping the whole {@link dev.onebit.runtime.NodeContext}
     * alive: kernels capture only their node, since the context references every constant of the graph.
     */
    static ModelException error(Node node, String message) {
        return new ModelException(node.describe() + ": " + message);
    }

    /** {@code axis} made non-negative for a tensor of rank {@code rank}; the allowed range is {@code [-rank, rank)}. */
    static int axis(Node node, long axis, int rank) {
        if (axis < -rank || axis >= rank) {
            throw error(node, "axis " + axis + " is out of range for rank " + rank);
        }
        return (int) (axis < 0 ? axis + rank : axis);
    }

    /** Axes normalized for {@code rank}, checked for duplicates. */
    static int[] axes(Node node, long[] axes, int rank) {
        int[] out = new int[axes.length];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < axes.length; i++) {
            out[i] = axis(node, axes[i], rank);
            if (seen[out[i]]) {
                throw error(node, "axis " + axes[i] + " is given twice in " + Arrays.toString(axes));
            }
            seen[out[i]] = true;
        }
        return out;
    }

    /** The elements of an integer value (such as a shape or axes input) as longs. */
    static long[] longs(Node node, Value v, String what) {
        if (v == null) {
            throw error(node, what + " input is missing");
        }
        if (v.isFloat()) {
            throw error(node, what + " input must be an integer tensor, got " + v.type);
        }
        return v.longs;
    }

    /** Product of {@code shape[from..to)}. */
    static int product(int[] shape, int from, int to) {
        long n = 1;
        for (int d = from; d < to; d++) {
            n *= shape[d];
        }
        return Math.toIntExact(n);
    }

    /** Converts an int64 dimension to int, failing clearly on absurd sizes. */
    static int dim(Node node, long size) {
        if (size < 0 || size > Integer.MAX_VALUE) {
            throw error(node, "dimension " + size + " is out of range");
        }
        return (int) size;
    }

    /** The value wrapped to the range of an integer element type, as a C cast would. */
    static long narrow(DataType type, long v) {
        return switch (type) {
            case INT32 -> (int) v;
            case INT8 -> (byte) v;
            case UINT8 -> v & 0xFF;
            case BOOL -> v != 0 ? 1 : 0;
            default -> v;
        };
    }

    /** A value of the same type and data as {@code v} under another shape (data shared, not copied). */
    static Value reshaped(Value v, int[] shape) {
        if (!v.hasData()) {
            return Value.shapeOnly(shape);
        }
        return v.isFloat() ? Value.ofFloats(shape, v.floats) : Value.ofLongs(v.type, shape, v.longs);
    }

    /** An empty array of the right kind for a value of {@code like}'s type. */
    static Value allocate(Value like, int[] shape) {
        return like.isFloat() ? Value.zeros(shape) : Value.ofLongs(like.type, shape, new long[Value.count(shape)]);
    }

    /** The array holding a value's data (float[] or long[]), for System.arraycopy. */
    static Object data(Value v) {
        return v.isFloat() ? v.floats : v.longs;
    }
}
