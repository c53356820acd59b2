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
