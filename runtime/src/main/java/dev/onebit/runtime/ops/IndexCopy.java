package dev.onebit.runtime.ops;

import dev.onebit.runtime.Value;

/**
 * The data movement behind Transpose, Slice, Pad and Gather: every output element is read from
 * a source offset that is a sum of one term per output dimension, looked up in a per-dimension
 * table. A table entry of {@link #OUTSIDE} marks a coordinate with no source (padding).
 */
final class IndexCopy {
    /** Table entry for "no source element"; negative enough that any sum with it stays negative. */
    static final long OUTSIDE = Long.MIN_VALUE / 64;

    private IndexCopy() {
    }

    /** The table {@code (start + c * step) * stride} for {@code c < size}. */
    static long[] linear(int size, long start, long step, long stride) {
        long[] t = new long[size];
        for (int c = 0; c < size; c++) {
            t[c] = (start + c * step) * stride;
        }
        return t;
    }

    /** Row-major element strides of a shape. */
    static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int step = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = step;
            step *= shape[d];
        }
        return s;
    }

    /**
     * A new value of {@code src}'s type and shape {@code out} whose element at coordinate c reads
     * {@code src} at offset {@code sum_d tables[d][c[d]]}, or {@code pad} where that sum is negative.
     * A shape-only source gives a shape-only result.
     */
    static Value copy(Value src, int[] out, long[][] tables, double pad) {
        if (!src.hasData()) {
            return Value.shapeOnly(out);
        }
        Value dst = OpUtil.allocate(src, out);
        int n = dst.size();
        if (n == 0) {
            return dst;
        }
        int rank = out.length;
        if (rank == 0) {
            if (src.isFloat()) {
                dst.floats[0] = src.floats[0];
            } else {
                dst.longs[0] = src.longs[0];
            }
            return dst;
        }
        int last = rank - 1;
        int width = out[last];
        long[] inner = tables[last];
        int[] pos = new int[rank];
        float[] sf = src.floats;
        float[] df = dst.floats;
        long[] sl = src.longs;
        long[] dl = dst.longs;
        float padF = (float) pad;
        long padL = (long) pad;
        for (int o = 0; o < n; o += width) {
            long base = 0;
            for (int d = 0; d < last; d++) {
                base += tables[d][pos[d]];
            }
            if (df != null) {
                for (int c = 0; c < width; c++) {
                    long s = base + inner[c];
                    df[o + c] = s < 0 ? padF : sf[(int) s];
                }
            } else {
                for (int c = 0; c < width; c++) {
                    long s = base + inner[c];
                    dl[o + c] = s < 0 ? padL : sl[(int) s];
                }
            }
            for (int d = last - 1; d >= 0; d--) {
                if (++pos[d] < out[d]) {
                    break;
                }
                pos[d] = 0;
            }
        }
        return dst;
    }
}
