package dev.onebit.runtime.kernels;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Float comparison for kernels whose summation order differs from the reference's, and the
 * Gaussian test data the runtime's tests draw.
 */
public final class Close {
    private Close() {
    }

    /**
     * Fails unless {@code |actual - expected| <= rtol * magnitude + 1e-6} everywhere, where
     * {@code magnitude} is the same computation on absolute values (the sum of |products|).
     */
    static void check(String what, float[] expected, float[] actual, float[] magnitude, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        for (int i = 0; i < expected.length; i++) {
            double tol = rtol * (magnitude == null ? Math.abs(expected[i]) : magnitude[i]) + 1e-6;
            if (!(Math.abs(actual[i] - expected[i]) <= tol)) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }

    static float[] abs(float[] v) {
        if (v == null) {
            return null;
        }
        float[] o = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = Math.abs(v[i]);
        }
        return o;
    }

    /** {@code n} values drawn from a standard normal distribution, in draw order. */
    public static float[] random(java.util.Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }
}
