package dev.onebit.runtime.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * XNOR-Net's activation scale against its literal formula: the channel mean of |x|, then
 * ReferencePool's average with count_include_pad, over random conv geometries of rank 1 to 3.
 */
class ActivationScalesTest {
    private static final String[] AUTO_PAD = {"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

    @Test
    void separableBoxMeanIsTheWindowMean() {
        Random rnd = new Random(17);
        int done = 0;
        while (done < 300) {
            int rank = done % 10 == 9 ? 3 : 1 + rnd.nextInt(2);
            int[] in = new int[rank];
            int[] k = new int[rank];
            long[] s = new long[rank];
            long[] d = new long[rank];
            long[] pads = new long[2 * rank];
            for (int i = 0; i < rank; i++) {
                in[i] = 1 + rnd.nextInt(rank == 3 ? 5 : 15);
                k[i] = 1 + rnd.nextInt(rank == 3 ? 3 : 7);
                s[i] = 1 + rnd.nextInt(2);
                d[i] = 1 + (rnd.nextInt(4) == 0 ? 1 : 0);
                pads[i] = rnd.nextInt(k[i]);
                pads[rank + i] = rnd.nextInt(k[i]);
            }
            String autoPad = AUTO_PAD[rnd.nextInt(AUTO_PAD.length)];
            ConvGeometry g;
            try {
                g = ConvGeometry.of(in, k, s, d, pads, autoPad, false);
            } catch (IllegalArgumentException e) {
                continue;
            }
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
}
