package dev.onebit.binarizer;

import dev.onebit.ir.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinaryWeightsTest {

    /** A real conv weight: VGG's features.10, [64, 64, 3, 3]. */
    private static float[] vggWeight() {
        return Samples.model("vgg").initializer("features.10.weight").toFloatArray();
    }

    @Test
    void bwnIsSignAndMeanAbsolutePerRow() {
        float[] w = {0.5f, -1f, 0f, 2f, /* row 2 */ -0.25f, -0.75f, 1f, 0f};
        BinaryPlanes p = BinaryWeights.bwn(w, 2);
        assertArrayEquals(new float[] {1, -1, 1, 1, -1, -1, 1, 1}, p.signs(), "sign(0) must be +1");
        assertArrayEquals(new float[] {3.5f / 4, 2f / 4}, p.alpha(), 1e-7f);
        assertArrayEquals(new float[] {0.875f, -0.875f, 0.875f, 0.875f, -0.5f, -0.5f, 0.5f, 0.5f}, p.effective(), 1e-7f);
    }

    @Test
    void bitsTensorFollowsBinaryOpsLayout() {
        float[] w = {0.5f, -1f, 0f, 2f, -0.25f, -0.75f, 1f, 0f};
        Tensor bits = BinaryWeights.bwn(w, 2).bits(new int[] {2, 4});
        assertArrayEquals(new int[] {1, 2, 4}, bits.shape());
        // bit 1 means -1: elements 1, 4, 5 are negative.
        assertEquals(0b00110010, bits.bytes().get(0) & 0xFF);
    }

    @Test
    void cbdErrorFallsWithPlanesAndEightPlanesAreNearlyExact() {
        float[] w = vggWeight();
        double previous = Double.POSITIVE_INFINITY;
        for (int k = 1; k <= 8; k++) {
            double e = BinaryWeights.cbd(w, 64, k, BinarizeOptions.DEFAULT_REFINE_ROUNDS).relativeError(w);
            assertTrue(e < previous, "K=" + k + " error " + e + " is not below K-1's " + previous);
            previous = e;
        }
        assertTrue(previous < 0.02, "K=8 relative error " + previous);
        double bwn = BinaryWeights.bwn(w, 64).relativeError(w);
        assertEquals(bwn, BinaryWeights.cbd(w, 64, 1, 3).relativeError(w), 1e-9, "K=1 CBD is BWN");
    }

    @Test
    void refinementNeverIncreasesTheError() {
        float[] w = vggWeight();
        for (int k = 1; k <= 16; k++) {
            int planes = (k + 1) / 2;
            BinaryPlanes p = k % 2 == 1 ? BinaryWeights.greedy(w, 64, planes) : BinaryWeights.uniform(w, 64, planes);
            double e = p.relativeError(w);
            double start = e;
            for (int round = 0; round < 6; round++) {
                p = BinaryWeights.refine(p, w);
                double next = p.relativeError(w);
                // Float32 rounding of the effective weight is the only slack allowed.
                assertTrue(next <= e * (1 + 1e-6), "K=" + planes + " round " + round + ": " + e + " -> " + next);
                e = next;
            }
            if (planes >= 2) {
                assertTrue(e < start * 0.999, "K=" + planes + ": refinement did not help (" + start + " -> " + e + ")");
            }
        }
    }

    @Test
    void cbdPlanesAreCanonical() {
        float[] w = vggWeight();
        BinaryPlanes p = BinaryWeights.cbd(w, 64, 4, 3);
        float[] a = p.alpha();
        for (int o = 0; o < 64; o++) {
            for (int k = 0; k < 4; k++) {
                assertTrue(a[k * 64 + o] >= 0, "alpha must be non-negative");
                if (k > 0) {
                    assertTrue(a[k * 64 + o] <= a[(k - 1) * 64 + o], "planes must be ordered by decreasing alpha");
                }
            }
        }
        for (float s : p.signs()) {
            assertTrue(s == 1f || s == -1f);
        }
    }

    @Test
    void leastSquaresRecoversExactCombinations() {
        // Weights that are exactly 0.8 B1 + 0.3 B2 + 0.1 B3 must be matched exactly by K = 3.
        Random r = new Random(7);
        int n = 200;
        float[] w = new float[n];
        for (int j = 0; j < n; j++) {
            w[j] = (r.nextBoolean() ? 0.8f : -0.8f) + (r.nextBoolean() ? 0.3f : -0.3f) + (r.nextBoolean() ? 0.1f : -0.1f);
        }
        BinaryPlanes p = BinaryWeights.cbd(w, 1, 3, 4);
        assertTrue(p.relativeError(w) < 1e-6, "error " + p.relativeError(w));
        assertArrayEquals(new float[] {0.8f, 0.3f, 0.1f}, p.alpha(), 1e-5f);
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> BinaryWeights.greedy(new float[6], 4, 1));
        assertThrows(IllegalArgumentException.class, () -> BinaryWeights.greedy(new float[6], 2, 9));
        assertThrows(IllegalArgumentException.class, () -> BinaryWeights.cbd(new float[6], 2, 2, -1));
    }
}
