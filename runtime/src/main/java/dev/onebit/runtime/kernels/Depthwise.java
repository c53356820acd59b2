package dev.onebit.runtime.kernels;

import java.util.Arrays;

/**
 * Convolution with one input channel per group (depthwise, possibly with a channel
 * multiplier). A GEMM would see one-row matrices here, so instead each output row accumulates
 * {@code weight * input row} once per kernel tap; with stride 1 the inner loop is a contiguous
 * multiply-add that the JIT vectorizes.
 */
final class Depthwise {
    private Depthwise() {
    }

    /**
     * One image.
     *
     * @param xp padded input, {@code c} planes of {@code plane} floats from {@code xBase}
     * @param taps offset of each kernel tap in a padded plane
     * @param w weights {@code [c * mult, 1, taps...]}
     * @param mult output channels per input channel
     * @param bias per output channel, or null
     * @param y output {@code [c * mult, out...]} from {@code yBase}, zero on entry
     */
    static void run(float[] xp, int xBase, int c, int plane, ConvGeometry g, int[] pstride, int[] taps,
                    float[] w, int mult, float[] bias, float[] y, int yBase) {
        int r = g.rank();
        int m = c * mult;
        int opos = g.outCount();
        int last = g.out[r - 1];
        int sLast = g.strides[r - 1];
        int rows = opos / last;
        int[] rowBase = new int[rows];
        int[] idx = new int[r];
        for (int row = 0; row < rows; row++) {
            int o = 0;
            for (int d = 0; d < r - 1; d++) {
                o += idx[d] * g.strides[d] * pstride[d];
            }
            rowBase[row] = o;
            idx[r - 1] = last - 1;
            Convolution.increment(idx, g.out);
        }
        int kc = taps.length;
        for (int oc = 0; oc < m; oc++) {
            int src = xBase + oc / mult * plane;
            int dst = yBase + oc * opos;
            // Every element is set here first: y may be a recycled array holding stale values.
            Arrays.fill(y, dst, dst + opos, bias != null ? bias[oc] : 0f);
            int wb = oc * kc;
            for (int row = 0; row < rows; row++) {
                int yo = dst + row * last;
                int xo = src + rowBase[row];
                for (int t = 0; t < kc; t++) {
                    float wv = w[wb + t];
                    int xi = xo + taps[t];
                    if (sLast == 1) {
                        for (int j = 0; j < last; j++) {
                            y[yo + j] += wv * xp[xi + j];
                        }
                    } else {
                        for (int j = 0; j < last; j++) {
                            y[yo + j] += wv * xp[xi + j * sLast];
                        }
                    }
                }
            }
        }
    }
}
