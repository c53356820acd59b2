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
 * down the columns, in long loops over a zero-padded copy of the plane that the compiler
 * vectorizes ({@link #boxMean}); the same
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
        return fromSums(a, n, c, g);
    }

    /**
     * K from the channel sums of |x| ({@code n} images of {@code g.inCount()} pixels, as
     * {@link #of} computes them): what {@link #of} returns for an x with those sums and
     * {@code channels} channels. The array of sums may be changed.
     */
    public static float[] fromSums(float[] a, int n, int channels, ConvGeometry g) {
        if (g.rank() > 2) {
            for (int p = 0; p < a.length; p++) {
                a[p] /= channels;
            }
            int[] aShape = new int[g.rank() + 2];
            aShape[0] = n;
            aShape[1] = 1;
            System.arraycopy(g.in, 0, aShape, 2, g.rank());
            return Pooling.boxMean(a, aShape, g);
        }
        return boxMean(a, n, channels, g);
    }

    /**
     * The separable box mean of {@code n} planes of channel sums (1-D or 2-D geometry), divided
     * by {@code channels} times the window size at the end. Each plane is copied into a
     * zero-padded plane just large enough for every window, so that both passes run as long
     * loops over the flat padded plane that the compiler vectorizes (row by row, a 28- or
     * 56-wide row mostly ran in the scalar remainder of its vector loop: 3.4 us for one 28x28
     * plane, 1.7 us now): first every stride-1 window sum along the rows, then those sums down
     * the columns, then the divide; the strided outputs are picked at the end. Padded taps add
     * +0.0, which leaves the non-negative sums (or NaN) as they were, so the bits are those of
     * summing each window's inside taps, row sums in double, in row-major order.
     */
    static float[] boxMean(float[] a, int n, int channels, ConvGeometry g) {
        boolean flat = g.rank() == 1;
        int last = g.rank() - 1;
        int h = flat ? 1 : g.in[0];
        int w = g.in[last];
        int oh = flat ? 1 : g.out[0];
        int ow = g.out[last];
        int kh = flat ? 1 : g.kernel[0];
        int kw = g.kernel[last];
        int sh = flat ? 1 : g.strides[0];
        int sw = g.strides[last];
        int dh = flat ? 1 : g.dilations[0];
        int dw = g.dilations[last];
        int ph = flat ? 0 : g.padBegin[0];
        int pw = g.padBegin[last];
        // A conv's windows (no ceil mode) lie wholly inside the padded input: every divisor is
        // the whole window.
        double divisor = (double) channels * g.kernelCount();
        // Every element is written below.
        float[] y = dev.onebit.runtime.Buffers.floats(n * oh * ow);
        if (oh == 0 || ow == 0) {
            return y;
        }
        int hp = (oh - 1) * sh + (kh - 1) * dh + 1;
        int wp = (ow - 1) * sw + (kw - 1) * dw + 1;
        // Padded rows i = input row i - ph; columns j = input column j - pw.
        int c0 = Math.max(0, pw);
        int c1 = Math.min(wp, w + pw);
        Scratch scratch = SCRATCH.get().fit(hp * wp);
        FloatPasses passes = Kernels.floatPasses();
        float[] padded = scratch.padded;
        double[] rowSums = scratch.rowSums;
        double[] sums = scratch.sums;
        float[] scaled = scratch.scaled;
        // Flat index q = i * wp + j: rowSums[q] sums the window of kw taps starting at q, which
        // stays in row i for every j <= (ow - 1) * sw; sums[q] the kh row sums below it.
        int rowEnd = hp * wp - (kw - 1) * dw;
        int colEnd = ((oh - 1) * sh + 1) * wp;
        for (int img = 0; img < n; img++) {
            int ab = img * h * w;
            java.util.Arrays.fill(padded, 0, hp * wp, 0f);
            for (int i = Math.max(0, ph); i < Math.min(hp, h + ph); i++) {
                if (c0 < c1) {
                    System.arraycopy(a, ab + (i - ph) * w + c0 - pw, padded, i * wp + c0, c1 - c0);
                }
            }
            java.util.Arrays.fill(rowSums, 0, hp * wp, 0.0);
            for (int t = 0; t < kw; t++) {
                int shift = t * dw;
                for (int q = 0; q < rowEnd; q++) {
                    rowSums[q] += padded[q + shift];
                }
            }
            java.util.Arrays.fill(sums, 0, colEnd, 0.0);
            for (int t = 0; t < kh; t++) {
                passes.addDoubles(rowSums, t * dh * wp, sums, 0, colEnd);
            }
            int yb = img * oh * ow;
            if (sh == 1 && sw == 1) {
                for (int q = 0; q < colEnd; q++) {
                    scaled[q] = (float) (sums[q] / divisor);
                }
                for (int or = 0; or < oh; or++) {
                    System.arraycopy(scaled, or * wp, y, yb + or * ow, ow);
                }
            } else {
                for (int or = 0; or < oh; or++) {
                    int q0 = or * sh * wp;
                    for (int oc = 0; oc < ow; oc++) {
                        y[yb + or * ow + oc] = (float) (sums[q0 + oc * sw] / divisor);
                    }
                }
            }
        }
        return y;
    }

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /**
     * Per-thread planes of {@link #boxMean}, grown on demand: allocated per call, ResNet-18's
     * 56x56 scales spent more time zeroing fresh arrays than summing them.
     */
    private static final class Scratch {
        float[] padded = new float[0];
        double[] rowSums = new double[0];
        double[] sums = new double[0];
        float[] scaled = new float[0];

        Scratch fit(int n) {
            if (padded.length < n) {
                padded = new float[n];
                rowSums = new double[n];
                sums = new double[n];
                scaled = new float[n];
            }
            return this;
        }
    }
}
