package dev.onebit.runtime.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * XNOR-Net's activation scale against its literal formula: the channel mean of |x|, then
 * ReferencePool's average with count_include_pad, over random conv geometries of rank 1 to 3.
 */
class ActivationScalesTest {
    private static final String[] AUTO_PAD = {"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

    /**
     * A random conv geometry of the given rank (sizes 1..maxIn, kernels 1..maxKernel, strides
     * 1..maxStride, dilation 2 one time in four, pads below the kernel, any auto_pad), or null
     * when the draw does not make one.
     */
    private static ConvGeometry randomGeometry(Random rnd, int rank, int maxIn, int maxKernel, int maxStride) {
        int[] in = new int[rank];
        int[] k = new int[rank];
        long[] s = new long[rank];
        long[] d = new long[rank];
        long[] pads = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
            in[i] = 1 + rnd.nextInt(maxIn);
            k[i] = 1 + rnd.nextInt(maxKernel);
            s[i] = 1 + rnd.nextInt(maxStride);
            d[i] = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
            pads[i] = rnd.nextInt(k[i]);
            pads[rank + i] = rnd.nextInt(k[i]);
        }
        try {
            return ConvGeometry.of(in, k, s, d, pads, AUTO_PAD[rnd.nextInt(AUTO_PAD.length)], false);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    @Test
    void separableBoxMeanIsTheWindowMean() {
        Random rnd = new Random(17);
        int done = 0;
        while (done < 300) {
            int rank = done % 10 == 9 ? 3 : 1 + rnd.nextInt(2);
            ConvGeometry g = randomGeometry(rnd, rank, rank == 3 ? 5 : 15, rank == 3 ? 3 : 7, 2);
            if (g == null) {
                continue;
            }
            int[] in = g.in;
            int n = 1 + rnd.nextInt(2);
            int c = 1 + rnd.nextInt(5);
            int plane = g.inCount();
            int[] xShape = new int[rank + 2];
            xShape[0] = n;
            xShape[1] = c;
            System.arraycopy(in, 0, xShape, 2, rank);
            float[] x = Close.random(rnd, n * c * plane);

            float[] a = new float[n * plane];
            for (int i = 0; i < n; i++) {
                for (int p = 0; p < plane; p++) {
                    float sum = 0f;
                    for (int ch = 0; ch < c; ch++) {
                        sum += Math.abs(x[(i * c + ch) * plane + p]);
                    }
                    a[i * plane + p] = sum / c;
                }
            }
            int[] aShape = xShape.clone();
            aShape[1] = 1;
            float[] expected = ReferencePool.pool(a, aShape, g, false, true, null);
            float[] got = ActivationScales.of(x, xShape, g);
            assertEquals(expected.length, got.length);
            for (int i = 0; i < got.length; i++) {
                // The literal formula rounds the channel mean to float before the window sum; K
                // divides once at the end: equal to float rounding.
                assertEquals(expected[i], got[i], 2 * Math.ulp(expected[i]), "trial " + done + " " + g + " at " + i);
            }
            done++;
        }
    }

    /**
     * The box filter's own order of operations, written out per output: each in-range row's
     * sum of its in-range taps in double, those row sums added in order, one divide. The fast
     * filter (zero-padded plane, flat passes) must give exactly these bits; the sums range
     * over 2^60 so that the double sums are not exact and their order shows.
     */
    @Test
    void boxMeanHasTheBitsOfInOrderWindowSums() {
        Random rnd = new Random(23);
        int done = 0;
        while (done < 400) {
            ConvGeometry g = randomGeometry(rnd, 1 + rnd.nextInt(2), 40, 7, 3);
            if (g == null) {
                continue;
            }
            int n = 1 + rnd.nextInt(3);
            int channels = 1 + rnd.nextInt(300);
            float[] a = new float[n * g.inCount()];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) Math.scalb(Math.abs(rnd.nextGaussian()), rnd.nextInt(60) - 30);
            }
            float[] expected = inOrderBoxMean(a, n, channels, g);
            float[] got = ActivationScales.boxMean(a.clone(), n, channels, g);
            assertEquals(expected.length, got.length);
            for (int i = 0; i < got.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(got[i]),
                        "trial " + done + " " + g + " at " + i);
            }
            // A second call on the same thread reuses its scratch planes: still the same.
            assertArrayEquals(expected, ActivationScales.boxMean(a.clone(), n, channels, g), "again, " + g);
            done++;
        }
    }

    private static float[] inOrderBoxMean(float[] a, int n, int channels, ConvGeometry g) {
        boolean flat = g.rank() == 1;
        int last = g.rank() - 1;
        int h = flat ? 1 : g.in[0];
        int w = g.in[last];
        int oh = flat ? 1 : g.out[0];
        int ow = g.out[last];
        float[] y = new float[n * oh * ow];
        double divisor = (double) channels * g.kernelCount();
        for (int img = 0; img < n; img++) {
            for (int or = 0; or < oh; or++) {
                for (int oc = 0; oc < ow; oc++) {
                    double acc = 0;
                    for (int th = 0; th < (flat ? 1 : g.kernel[0]); th++) {
                        int row = flat ? 0 : or * g.strides[0] - g.padBegin[0] + th * g.dilations[0];
                        if (row < 0 || row >= h) {
                            continue;
                        }
                        double rowSum = 0;
                        for (int tw = 0; tw < g.kernel[last]; tw++) {
                            int col = oc * g.strides[last] - g.padBegin[last] + tw * g.dilations[last];
                            if (col >= 0 && col < w) {
                                rowSum += a[(img * h + row) * w + col];
                            }
                        }
                        acc += rowSum;
                    }
                    y[(img * oh + or) * ow + oc] = (float) (acc / divisor);
                }
            }
        }
        return y;
    }

    /** K from channel sums computed elsewhere is K from the input itself. */
    @Test
    void fromSumsIsTheScaleOfTheInputWithThoseSums() {
        Random rnd = new Random(29);
        int[] xShape = {2, 37, 9, 11};
        ConvGeometry g = ConvGeometry.of(new int[] {9, 11}, new int[] {3, 3}, new long[] {2, 1}, null,
                new long[] {1, 0, 1, 2}, "NOTSET", false);
        float[] x = Close.random(rnd, 2 * 37 * 99);
        float[] sums = new float[2 * 99];
        for (int i = 0; i < 2; i++) {
            for (int c = 0; c < 37; c++) {
                for (int p = 0; p < 99; p++) {
                    sums[i * 99 + p] += Math.abs(x[(i * 37 + c) * 99 + p]);
                }
            }
        }
        assertArrayEquals(ActivationScales.of(x, xShape, g), ActivationScales.fromSums(sums, 2, 37, g));
    }
}
