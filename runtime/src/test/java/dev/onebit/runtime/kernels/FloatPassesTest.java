package dev.onebit.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** The Vector API passes against the portable ones, bit for bit, special values and tails included. */
class FloatPassesTest {
    private static final float[] SPECIAL = {Float.NaN, -0f, 0f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 1f, -1f};

    private static float[] values(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            // Many ties and special values, where the order of the compares shows.
            x[i] = rnd.nextInt(4) == 0 ? SPECIAL[rnd.nextInt(SPECIAL.length)] : rnd.nextInt(5) - 2f;
        }
        return x;
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
        }
    }

    @Test
    void windowMaxAgreesBitForBit() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(7);
        for (int n : new int[] {1, 5, 16, 17, 49, 196, 333}) {
            for (int taps : new int[] {1, 2, 4, 9}) {
                float[] x = values(rnd, 3 * n + 10);
                int[] index = new int[taps * n];
                for (int i = 0; i < index.length; i++) {
                    index[i] = rnd.nextInt(3 * n + 8);
                }
                float[] ys = new float[n + 2];
                float[] yv = new float[n + 2];
                scalar.windowMax(x, 2, index, taps, n, ys, 2);
                vector.windowMax(x, 2, index, taps, n, yv, 2);
                assertSameBits(ys, yv, "n " + n + " taps " + taps);
            }
        }
    }

    @Test
    void addAbsAgreesBitForBit() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(8);
        for (int n : new int[] {0, 1, 15, 16, 33, 784}) {
            float[] x = new float[n + 1];
            float[] acc = new float[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian();
            }
            for (int i = 0; i < acc.length; i++) {
                acc[i] = rnd.nextFloat();
            }
            float[] as = acc.clone();
            float[] av = acc.clone();
            scalar.addAbs(x, 1, as, 3, n);
            vector.addAbs(x, 1, av, 3, n);
            assertSameBits(as, av, "n " + n);
        }
    }

    /** Four rows at once give four single calls' bits, on both engines. */
    @Test
    void addAbsOfFourRowsIsFourCalls() {
        Random rnd = new Random(9);
        FloatPasses vector = Kernels.vectorFloatPasses();
        FloatPasses scalar = Kernels.scalarFloatPasses();
        for (int n : new int[] {0, 1, 15, 16, 33, 784}) {
            int stride = n + 5;
            float[] x = new float[2 + 4 * stride];
            float[] acc = new float[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rnd.nextGaussian() * (rnd.nextBoolean() ? 1e-3f : 1e3f);
            }
            for (int i = 0; i < acc.length; i++) {
                acc[i] = rnd.nextFloat();
            }
            float[] expected = acc.clone();
            for (int k = 0; k < 4; k++) {
                scalar.addAbs(x, 2 + k * stride, expected, 3, n);
            }
            for (FloatPasses f : vector == null ? new FloatPasses[] {scalar} : new FloatPasses[] {scalar, vector}) {
                float[] got = acc.clone();
                f.addAbs4(x, 2, stride, got, 3, n);
                assertSameBits(expected, got, f.name() + " n " + n);
            }
        }
    }

    @Test
    void addDoublesAgreesBitForBit() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(10);
        for (int n : new int[] {0, 1, 7, 8, 9, 33, 3364}) {
            double[] x = new double[n + 4];
            double[] acc = new double[n + 3];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextInt(9) == 0 ? Double.NaN : Math.scalb(rnd.nextDouble(), rnd.nextInt(80) - 40);
            }
            for (int i = 0; i < acc.length; i++) {
                acc[i] = Math.scalb(rnd.nextDouble(), rnd.nextInt(80) - 40);
            }
            double[] as = acc.clone();
            double[] av = acc.clone();
            scalar.addDoubles(x, 4, as, 3, n);
            vector.addDoubles(x, 4, av, 3, n);
            for (int i = 0; i < as.length; i++) {
                assertEquals(Double.doubleToRawLongBits(as[i]), Double.doubleToRawLongBits(av[i]), "n " + n + " at " + i);
            }
        }
    }

    /** The sum of two rows, in place or not, vector against scalar (special values included). */
    @Test
    void addAgreesBitForBit() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(11);
        for (int n : new int[] {0, 1, 15, 16, 33, 784}) {
            float[] a = values(rnd, n + 2);
            float[] b = values(rnd, n + 5);
            float[] zs = new float[n + 1];
            float[] zv = new float[n + 1];
            scalar.add(a, 2, b, 5, zs, 1, n);
            vector.add(a, 2, b, 5, zv, 1, n);
            assertSameBits(zs, zv, "n " + n);
            float[] inPlace = a.clone();
            vector.add(inPlace, 2, b, 5, inPlace, 2, n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(zs[1 + i]), Float.floatToRawIntBits(inPlace[2 + i]), "in place " + i);
            }
        }
    }
}
