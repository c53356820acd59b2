package dev.onebit.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatPasses} on the Vector API: window maxima as one gather per tap for a vector of
 * outputs, and the absolute-value sums lane for lane. Loaded reflectively by {@link Kernels}
 * only when {@code jdk.incubator.vector} is present.
 */
public final class VectorFloatPasses implements FloatPasses {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Creates the implementation; it holds no state. */
    public VectorFloatPasses() {
    }

    @Override
    public String name() {
        return "vector-" + F.length();
    }

    @Override
    public void windowMax(float[] x, int xOffset, int[] index, int taps, int n, float[] y, int yOffset) {
        int fl = F.length();
        int end = F.loopBound(n);
        int j = 0;
        for (; j < end; j += fl) {
            FloatVector best = FloatVector.fromArray(F, x, xOffset, index, j);
            for (int k = 1; k < taps; k++) {
                FloatVector v = FloatVector.fromArray(F, x, xOffset, index, k * n + j);
                // GT is false when either side is NaN: the scalar "if (v > best)" lane for lane.
                best = best.blend(v, v.compare(VectorOperators.GT, best));
            }
            best.intoArray(y, yOffset + j);
        }
        FloatPasses.windowMaxScalar(x, xOffset, index, taps, j, n, y, yOffset);
    }

    /**
     * Four outputs at a time: each tap's shifted row is loaded once for the four, and the sums
     * stay in registers until all taps are done. Rows shorter than a vector go scalar.
     */
    @Override
    public void tapSums(float[] x, int xOffset, int[] off, float[] w, int m, float[] bias, float[] y, int yOffset,
                        int yStride, int n) {
        int fl = F.length();
        if (n < fl) {
            FloatPasses.tapSumsScalar(x, xOffset, off, w, 0, m, bias, y, yOffset, yStride, 0, n);
            return;
        }
        int taps = off.length;
        int o = 0;
        // The last vector of a row ends at n and overlaps the one before: its lanes recompute
        // the same sums, which keeps every load and store whole (no masks, no scalar tail).
        int last = n - fl;
        for (; o + 4 <= m; o += 4) {
            int y0 = yOffset + o * yStride;
            for (int i0 = 0; i0 < n; i0 += fl) {
                int i = Math.min(i0, last);
                FloatVector a0 = FloatVector.broadcast(F, bias == null ? 0f : bias[o]);
                FloatVector a1 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 1]);
                FloatVector a2 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 2]);
                FloatVector a3 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 3]);
                for (int t = 0; t < taps; t++) {
                    FloatVector v = FloatVector.fromArray(F, x, xOffset + off[t] + i);
                    a0 = v.fma(FloatVector.broadcast(F, w[o * taps + t]), a0);
                    a1 = v.fma(FloatVector.broadcast(F, w[(o + 1) * taps + t]), a1);
                    a2 = v.fma(FloatVector.broadcast(F, w[(o + 2) * taps + t]), a2);
                    a3 = v.fma(FloatVector.broadcast(F, w[(o + 3) * taps + t]), a3);
                }
                a0.intoArray(y, y0 + i);
                a1.intoArray(y, y0 + yStride + i);
                a2.intoArray(y, y0 + 2 * yStride + i);
                a3.intoArray(y, y0 + 3 * yStride + i);
            }
        }
        for (; o < m; o++) {
            for (int i0 = 0; i0 < n; i0 += fl) {
                int i = Math.min(i0, last);
                FloatVector a = FloatVector.broadcast(F, bias == null ? 0f : bias[o]);
                for (int t = 0; t < taps; t++) {
                    a = FloatVector.fromArray(F, x, xOffset + off[t] + i).fma(FloatVector.broadcast(F, w[o * taps + t]), a);
                }
                a.intoArray(y, yOffset + o * yStride + i);
            }
        }
    }

    @Override
    public void addAbs(float[] x, int offset, float[] acc, int accOffset, int n) {
        int fl = F.length();
        int end = F.loopBound(n);
        int i = 0;
        for (; i < end; i += fl) {
            FloatVector a = FloatVector.fromArray(F, acc, accOffset + i);
            a.add(FloatVector.fromArray(F, x, offset + i).abs()).intoArray(acc, accOffset + i);
        }
        FloatPasses.addAbsScalar(x, offset, acc, accOffset, i, n);
    }
}
