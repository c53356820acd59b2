package dev.onebit.runtime.kernels;

/**
 * XNOR-Net's activation scale K for a binary conv (onebit's {@code ActivationScale}): A = the
 * mean over channels of |x| at every pixel, then K = A box-filtered over the conv's window
 * (its kernel, strides, pads and dilations; padded taps count as 0, the divisor is the whole
 * window).
 *
 * <p>Computed as {@code K = (window sum of S) / (C * window size)} with S the channel sum of
 * |x| (in float, channel by channel), the window sums in double, divided once and rounded to
 * float. For 1-D and 2-D maps the window sums run separably, along each row first and then
 * down the columns, in loops over output columns that the compiler vectorizes; the same
 * value as a double sum of the taps in row-major order whenever the double sums are exact,
 * which they are for the few dozen positive floats of a window unless their magnitudes span
 * more than about 2^24. (ResNet-18's 56x56 scales took 33 us each as one running sum per
 * output with per-tap bounds checks.) 3-D maps use {@link Pooling#boxMean} on the mean.
 */
public final class ActivationScales {
    private ActivationScales() {
    }

    /**
     * K for input {@code x} of shape {@code [N, C, spatial...]}.
     *
     * @return {@code [N, 1, out spatial...]} as a flat array, N x {@code g.outCount()} values
     */
    public static float[] of(float[] x, int[] xShape, ConvGeometry g) {
        int n = xShape[0];
        int c = xShape[1];
        int plane = g.inCount();
        float[] a = new float[n * plane];
        FloatPasses passes = Kernels.floatPasses();
        for (int i = 0; i < n; i++) {
            int ch = 0;
            // Four channels per pass over the sums, added in channel order all the same.
            for (; ch + 4 <= c; ch += 4) {
                passes.addAbs4(x, (i * c + ch) * plane, plane, a, i * plane, plane);
            }
            for (; ch < c; ch++) {
                passes.addAbs(x, (i * c + ch) * plane, a, i * plane, plane);
            }
        }
        if (g.rank() > 2) {
            for (int p = 0; p < a.length; p++) {
                a[p] /= c;
            }
            int[] aShape = xShape.clone();
            aShape[1] = 1;
            return Pooling.boxMean(a, aShape, g);
        }
        return boxMean(a, n, c, g);
    }

    /**
     * The separable box mean of {@code n} planes of channel sums (1-D or 2-D geometry), divided
     * by {@code channels} times the window size at the end. The loops run along output
     * columns so that the compiler can vectorize them: per row, tap by tap over the columns
     * whose tap is inside; then per output row, input row by input row.
     */
    static float[] boxMean(float[] a, int n, int channels, ConvGeometry g) {
        boolean flat = g.rank() == 1;
        int h = flat ? 1 : g.in[0];
        int w = g.in[g.rank() - 1];
        int oh = flat ? 1 : g.out[0];
        int ow = g.out[g.rank() - 1];
        Taps rows = flat ? new Taps(1, 1, 0, 1, new int[] {0}, new int[] {1}) : Taps.of(g, 0);
        Taps cols = Taps.of(g, g.rank() - 1);
        // Per tap: the output columns whose tap is inside the row, lo..hi-1 (contiguous).
        int[] lo = new int[cols.kernel];
        int[] hi = new int[cols.kernel];
        for (int t = 0; t < cols.kernel; t++) {
            lo[t] = ow;
            for (int oc = 0; oc < ow; oc++) {
                if (t >= cols.t0[oc] && t < cols.t1[oc]) {
                    lo[t] = Math.min(lo[t], oc);
                    hi[t] = oc + 1;
                }
            }
        }
        // A conv's windows (no ceil mode) lie wholly inside the padded input: every divisor is
        // the whole window.
        double divisor = (double) channels * g.kernelCount();
        double[] rowSums = new double[h * ow];
        double[] acc = new double[ow];
        float[] y = new float[n * oh * ow];
        for (int img = 0; img < n; img++) {
            java.util.Arrays.fill(rowSums, 0);
            for (int r = 0; r < h; r++) {
                int rb = img * h * w + r * w;
                int sb = r * ow;
                for (int t = 0; t < cols.kernel; t++) {
                    // Column oc's tap t reads input column oc * stride - padBegin + t * dilation.
                    int shift = rb - cols.padBegin + t * cols.dilation;
                    if (cols.stride == 1) {
                        for (int oc = lo[t]; oc < hi[t]; oc++) {
                            rowSums[sb + oc] += a[shift + oc];
                        }
                    } else {
                        for (int oc = lo[t]; oc < hi[t]; oc++) {
                            rowSums[sb + oc] += a[shift + oc * cols.stride];
                        }
                    }
                }
            }
            for (int or = 0; or < oh; or++) {
                java.util.Arrays.fill(acc, 0);
                int row = rows.first(or);
                for (int t = rows.t0[or]; t < rows.t1[or]; t++, row += rows.dilation) {
                    int rb = row * ow;
                    for (int oc = 0; oc < ow; oc++) {
                        acc[oc] += rowSums[rb + oc];
                    }
                }
                int yb = (img * oh + or) * ow;
                for (int oc = 0; oc < ow; oc++) {
                    y[yb + oc] = (float) (acc[oc] / divisor);
                }
            }
        }
        return y;
    }

    /**
     * One axis of the window: for output o, taps {@code t0[o]..t1[o]-1} fall inside the input
     * (they are contiguous), the first of them at input coordinate {@link #first}.
     */
    private record Taps(int stride, int dilation, int padBegin, int kernel, int[] t0, int[] t1) {

        static Taps of(ConvGeometry g, int d) {
            int outs = g.out[d];
            int s = g.strides[d];
            int dl = g.dilations[d];
            int pb = g.padBegin[d];
            int k = g.kernel[d];
            int in = g.in[d];
            int[] t0 = new int[outs];
            int[] t1 = new int[outs];
            for (int o = 0; o < outs; o++) {
                int start = o * s - pb;
                t0[o] = ConvGeometry.firstTap(start, 0, dl, k);
                t1[o] = Math.max(t0[o], ConvGeometry.endTap(start, in, dl, k));
            }
            return new Taps(s, dl, pb, k, t0, t1);
        }

        /** Input coordinate of output o's first inside tap. */
        int first(int o) {
            return o * stride - padBegin + t0[o] * dilation;
        }
    }
}
