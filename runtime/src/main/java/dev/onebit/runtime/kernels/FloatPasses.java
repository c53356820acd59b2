package dev.onebit.runtime.kernels;

/**
 * Passes over float arrays that C2 does not vectorize by itself (gathers, or two arrays of one
 * type that it cannot prove apart), with a portable implementation in the default methods
 * and a Vector API one chosen by {@link Kernels#floatPasses()}. Every implementation gives
 * the same bits: the vector ones do lane for lane the scalar operations, in the same order.
 */
public interface FloatPasses {

    /** A short name for logs and benchmarks. */
    default String name() {
        return "scalar";
    }

    /**
     * Max over windows given by an index table: for {@code j < n},
     * {@code y[yOffset + j]} is {@code x[xOffset + index[j]]}, replaced in turn by each
     * {@code x[xOffset + index[k * n + j]]} ({@code 0 < k < taps}) that is strictly greater
     * (MaxPool's order: a NaN first tap stays, a later NaN is skipped, of +0.0 and -0.0 the
     * first stays).
     */
    default void windowMax(float[] x, int xOffset, int[] index, int taps, int n, float[] y, int yOffset) {
        windowMaxScalar(x, xOffset, index, taps, 0, n, y, yOffset);
    }

    /** The scalar {@link #windowMax} for {@code j} in {@code j0..n-1}, shared for tails. */
    static void windowMaxScalar(float[] x, int xOffset, int[] index, int taps, int j0, int n, float[] y, int yOffset) {
        for (int j = j0; j < n; j++) {
            float best = x[xOffset + index[j]];
            for (int k = 1; k < taps; k++) {
                float v = x[xOffset + index[k * n + j]];
                if (v > best) {
                    best = v;
                }
            }
            y[yOffset + j] = best;
        }
    }

    /**
     * Whether MaxPool should take its taps through {@link #deinterleave} and
     * {@link #shiftedMax} rather than {@link #windowMax}'s table: same bits either way, only
     * speed differs (the portable loops gain nothing from contiguous taps).
     */
    default boolean prefersShiftedMax() {
        return false;
    }

    /**
     * Max over shifted copies of a row, MaxPool's inner step on contiguous taps: for
     * {@code i < n}, {@code y[yOffset + i]} is {@code x[xOffset + off[0] + i]}, replaced in turn
     * by each {@code x[xOffset + off[k] + i]} ({@code 0 < k < off.length}) that is strictly
     * greater (the order of {@link #windowMax}). {@code y} must not overlap the taps read.
     */
    default void shiftedMax(float[] x, int xOffset, int[] off, float[] y, int yOffset, int n) {
        shiftedMaxScalar(x, xOffset, off, y, yOffset, 0, n);
    }

    /** The scalar {@link #shiftedMax} for {@code i} in {@code i0..n-1}. */
    static void shiftedMaxScalar(float[] x, int xOffset, int[] off, float[] y, int yOffset, int i0, int n) {
        int taps = off.length;
        for (int i = i0; i < n; i++) {
            int at = xOffset + i;
            float best = x[at + off[0]];
            for (int k = 1; k < taps; k++) {
                float v = x[at + off[k]];
                if (v > best) {
                    best = v;
                }
            }
            y[yOffset + i] = best;
        }
    }

    /**
     * One output row of a 2x2, stride 2 max pool whose windows lie inside the input: for
     * {@code c < n}, the maximum of {@code x[a + 2c], x[a + 2c + 1], x[b + 2c], x[b + 2c + 1]}
     * (rows a and b) into {@code y[yOffset + c]}, with the general pool's bits: the first tap,
     * then any strictly greater one, in that order (see {@link #pairMaxScalar}).
     */
    default void pairMax(float[] x, int a, int b, float[] y, int yOffset, int n) {
        pairMaxScalar(x, a, b, y, yOffset, 0, n);
    }

    /**
     * {@link #pairMax} for {@code rows} output rows of one plane: output row i from the input
     * rows starting at {@code a + i * 2 * w} and {@code w} after it, into
     * {@code y[yOffset + i * n]}. Reads only the plane's input rows, writes only its outputs.
     */
    default void pairMaxRows(float[] x, int a, int w, float[] y, int yOffset, int n, int rows) {
        for (int i = 0; i < rows; i++) {
            pairMax(x, a + 2 * i * w, a + 2 * i * w + w, y, yOffset + i * n, n);
        }
    }

    /**
     * The scalar {@link #pairMax} for {@code c} in {@code c0..n-1}, as a tournament that gives
     * the sequential scan's result: the first pair's winner m1 (a NaN first tap stays), the
     * second pair's m2 (a NaN first tap of that pair yields to the tap after it, as the scan
     * skips it), then m2 only if strictly greater than m1. Equal values keep the earlier one,
     * so of +0.0 and -0.0 the first stays.
     */
    static void pairMaxScalar(float[] x, int a, int b, float[] y, int yOffset, int c0, int n) {
        for (int c = c0; c < n; c++) {
            float x00 = x[a + 2 * c];
            float x01 = x[a + 2 * c + 1];
            float x10 = x[b + 2 * c];
            float x11 = x[b + 2 * c + 1];
            float m1 = x01 > x00 ? x01 : x00;
            float m2 = x11 > x10 || x10 != x10 ? x11 : x10;
            y[yOffset + c] = m2 > m1 ? m2 : m1;
        }
    }

    /**
     * Even and odd elements apart: {@code y[evenOffset + i] = x[xOffset + 2 * i]} for
     * {@code i < (n + 1) / 2} and {@code y[oddOffset + i] = x[xOffset + 2 * i + 1]} for
     * {@code i < n / 2}. Copies only, so every implementation gives the same bits; the two
     * destinations must not overlap each other or the source.
     */
    default void deinterleave(float[] x, int xOffset, int n, float[] y, int evenOffset, int oddOffset) {
        deinterleaveScalar(x, xOffset, 0, n, y, evenOffset, oddOffset);
    }

    /** The scalar {@link #deinterleave} from element {@code i0} (even) on. */
    static void deinterleaveScalar(float[] x, int xOffset, int i0, int n, float[] y, int evenOffset, int oddOffset) {
        int i = i0 / 2;
        for (; 2 * i + 1 < n; i++) {
            y[evenOffset + i] = x[xOffset + 2 * i];
            y[oddOffset + i] = x[xOffset + 2 * i + 1];
        }
        if (2 * i < n) {
            y[evenOffset + i] = x[xOffset + 2 * i];
        }
    }

    /**
     * Sums over shifted copies of a row, the inner step of a shallow convolution: for every
     * {@code o < m} and {@code i < n},
     * {@code y[yOffset + o * yStride + i] = bias[o] + sum_t w[o * taps + t] * x[xOffset + off[t] + i]}
     * with {@code taps = off.length}, accumulated in tap order by fused multiply-adds
     * ({@link Math#fma}), so every implementation gives these bits. {@code bias} null means 0.
     */
    default void tapSums(float[] x, int xOffset, int[] off, float[] w, int m, float[] bias, float[] y, int yOffset,
                         int yStride, int n) {
        tapSumsScalar(x, xOffset, off, w, 0, m, bias, y, yOffset, yStride, 0, n);
    }

    /** The scalar {@link #tapSums} for outputs {@code o0..o1-1} and {@code i} in {@code i0..n-1}. */
    static void tapSumsScalar(float[] x, int xOffset, int[] off, float[] w, int o0, int o1, float[] bias, float[] y,
                              int yOffset, int yStride, int i0, int n) {
        int taps = off.length;
        for (int o = o0; o < o1; o++) {
            float b = bias == null ? 0f : bias[o];
            for (int i = i0; i < n; i++) {
                float v = b;
                for (int t = 0; t < taps; t++) {
                    v = Math.fma(w[o * taps + t], x[xOffset + off[t] + i], v);
                }
                y[yOffset + o * yStride + i] = v;
            }
        }
    }

    /** {@code acc[accOffset + i] += Math.abs(x[offset + i])} for {@code i < n}. */
    default void addAbs(float[] x, int offset, float[] acc, int accOffset, int n) {
        addAbsScalar(x, offset, acc, accOffset, 0, n);
    }

    /**
     * {@link #addAbs} of four rows {@code stride} apart, added in row order:
     * {@code acc += |x0|}, then {@code |x1|}, {@code |x2|}, {@code |x3|}, each rounded, so the
     * same bits as four calls; the accumulator is read and written once for the four.
     */
    default void addAbs4(float[] x, int offset, int stride, float[] acc, int accOffset, int n) {
        addAbs4Scalar(x, offset, stride, acc, accOffset, 0, n);
    }

    /** The scalar {@link #addAbs4} for {@code i} in {@code i0..n-1}. */
    static void addAbs4Scalar(float[] x, int offset, int stride, float[] acc, int accOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            int at = offset + i;
            acc[accOffset + i] = acc[accOffset + i] + Math.abs(x[at]) + Math.abs(x[at + stride])
                    + Math.abs(x[at + 2 * stride]) + Math.abs(x[at + 3 * stride]);
        }
    }

    /**
     * {@code acc[accOffset + i] += x[xOffset + i]} in double for {@code i < n}: one tap of a
     * box filter's window sums ({@link ActivationScales}). Each add is rounded on its own, so
     * every implementation gives the same bits. (Written as a plain loop inside the filter,
     * C2 ran it unvectorized, as it must when the two arrays might be one.)
     */
    default void addDoubles(double[] x, int xOffset, double[] acc, int accOffset, int n) {
        addDoublesScalar(x, xOffset, acc, accOffset, 0, n);
    }

    /**
     * {@code z[zOffset + i] = a[aOffset + i] + b[bOffset + i]} for {@code i < n}, as ONNX Add
     * computes it; z may be a or b at the same offset (an in-place sum).
     */
    default void add(float[] a, int aOffset, float[] b, int bOffset, float[] z, int zOffset, int n) {
        addScalar(a, aOffset, b, bOffset, z, zOffset, 0, n);
    }

    /** The scalar {@link #add} for {@code i} in {@code i0..n-1}. */
    static void addScalar(float[] a, int aOffset, float[] b, int bOffset, float[] z, int zOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            z[zOffset + i] = a[aOffset + i] + b[bOffset + i];
        }
    }

    /** The scalar {@link #addDoubles} for {@code i} in {@code i0..n-1}. */
    static void addDoublesScalar(double[] x, int xOffset, double[] acc, int accOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            acc[accOffset + i] += x[xOffset + i];
        }
    }

    /** The scalar {@link #addAbs} for {@code i} in {@code i0..n-1}, shared for tails. */
    static void addAbsScalar(float[] x, int offset, float[] acc, int accOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            acc[accOffset + i] += Math.abs(x[offset + i]);
        }
    }
}
