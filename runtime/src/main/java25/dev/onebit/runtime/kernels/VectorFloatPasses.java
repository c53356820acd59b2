package dev.onebit.runtime.kernels;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatPasses} on the Vector API: window maxima as one gather per tap for a vector of
 * outputs, or as one plain load per tap for shifted rows, even/odd splits by two-vector
 * selects, and the absolute-value sums lane for lane. Loaded reflectively by {@link Kernels}
 * only when {@code jdk.incubator.vector} is present.
 */
public final class VectorFloatPasses implements FloatPasses {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Half the preferred width, for rows too short for {@link #F} (at least 4 lanes, or null). */
    private static final VectorSpecies<Float> H = F.vectorBitSize() >= 256
            ? VectorSpecies.of(float.class, VectorShape.forBitSize(F.vectorBitSize() / 2)) : null;
    /** Lane indexes 0, 2, 4... and 1, 3, 5... into the concatenation of two vectors. */
    private static final FloatVector F_EVEN = FloatVector.fromArray(F, steps(F.length(), 0), 0);
    private static final FloatVector F_ODD = FloatVector.fromArray(F, steps(F.length(), 1), 0);
    private static final FloatVector H_EVEN = H == null ? null : FloatVector.fromArray(H, steps(H.length(), 0), 0);
    private static final FloatVector H_ODD = H == null ? null : FloatVector.fromArray(H, steps(H.length(), 1), 0);
    /** Four lanes, for the 7-wide rows of a pooled 14x14 map. */
    private static final VectorSpecies<Float> Q = FloatVector.SPECIES_128;
    private static final FloatVector Q_EVEN = FloatVector.fromArray(Q, steps(Q.length(), 0), 0);
    private static final FloatVector Q_ODD = FloatVector.fromArray(Q, steps(Q.length(), 1), 0);

    private static float[] steps(int n, int first) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = first + 2 * i;
        }
        return a;
    }

    /** Creates the implementation; it holds no state. */
    public VectorFloatPasses() {
    }

    @Override
    public String name() {
        return "vector-" + F.length();
    }

    /** True: one gather per tap costs far more than a plain load and a share of an even/odd split. */
    @Override
    public boolean prefersShiftedMax() {
        return true;
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
     * Four vectors of outputs per step (then two, then one), their taps loaded contiguously, so
     * that several chains of compares are in flight; then single vectors, the last ending at n and overlapping the one
     * before: its lanes recompute the same maxima (y does not overlap x).
     */
    @Override
    public void shiftedMax(float[] x, int xOffset, int[] off, float[] y, int yOffset, int n) {
        int fl = F.length();
        if (n < fl) {
            FloatPasses.shiftedMaxScalar(x, xOffset, off, y, yOffset, 0, n);
            return;
        }
        int taps = off.length;
        int i = 0;
        for (; i + 4 * fl <= n; i += 4 * fl) {
            int at = xOffset + i;
            FloatVector b0 = FloatVector.fromArray(F, x, at + off[0]);
            FloatVector b1 = FloatVector.fromArray(F, x, at + fl + off[0]);
            FloatVector b2 = FloatVector.fromArray(F, x, at + 2 * fl + off[0]);
            FloatVector b3 = FloatVector.fromArray(F, x, at + 3 * fl + off[0]);
            for (int k = 1; k < taps; k++) {
                int a = at + off[k];
                FloatVector v0 = FloatVector.fromArray(F, x, a);
                FloatVector v1 = FloatVector.fromArray(F, x, a + fl);
                FloatVector v2 = FloatVector.fromArray(F, x, a + 2 * fl);
                FloatVector v3 = FloatVector.fromArray(F, x, a + 3 * fl);
                b0 = b0.blend(v0, v0.compare(VectorOperators.GT, b0));
                b1 = b1.blend(v1, v1.compare(VectorOperators.GT, b1));
                b2 = b2.blend(v2, v2.compare(VectorOperators.GT, b2));
                b3 = b3.blend(v3, v3.compare(VectorOperators.GT, b3));
            }
            b0.intoArray(y, yOffset + i);
            b1.intoArray(y, yOffset + i + fl);
            b2.intoArray(y, yOffset + i + 2 * fl);
            b3.intoArray(y, yOffset + i + 3 * fl);
        }
        for (; i + 2 * fl <= n; i += 2 * fl) {
            int at = xOffset + i;
            FloatVector b0 = FloatVector.fromArray(F, x, at + off[0]);
            FloatVector b1 = FloatVector.fromArray(F, x, at + fl + off[0]);
            for (int k = 1; k < taps; k++) {
                FloatVector v0 = FloatVector.fromArray(F, x, at + off[k]);
                FloatVector v1 = FloatVector.fromArray(F, x, at + fl + off[k]);
                // GT is false when either side is NaN: the scalar "if (v > best)" lane for lane.
                b0 = b0.blend(v0, v0.compare(VectorOperators.GT, b0));
                b1 = b1.blend(v1, v1.compare(VectorOperators.GT, b1));
            }
            b0.intoArray(y, yOffset + i);
            b1.intoArray(y, yOffset + i + fl);
        }
        for (; i < n; i += fl) {
            int j = Math.min(i, n - fl);
            int at = xOffset + j;
            FloatVector best = FloatVector.fromArray(F, x, at + off[0]);
            for (int k = 1; k < taps; k++) {
                FloatVector v = FloatVector.fromArray(F, x, at + off[k]);
                best = best.blend(v, v.compare(VectorOperators.GT, best));
            }
            best.intoArray(y, yOffset + j);
        }
    }

    /**
     * Two vectors in, their even and their odd lanes out, by two-vector selects; the last step
     * ends at the last pair and overlaps the one before (the same copies again). Rows shorter
     * than two vectors take the half width, then scalar.
     */
    @Override
    public void deinterleave(float[] x, int xOffset, int n, float[] y, int evenOffset, int oddOffset) {
        if (n >= 2 * F.length()) {
            deinterleaveF(x, xOffset, n, y, evenOffset, oddOffset);
        } else if (H != null && n >= 2 * H.length()) {
            deinterleaveH(x, xOffset, n, y, evenOffset, oddOffset);
        } else {
            FloatPasses.deinterleaveScalar(x, xOffset, 0, n, y, evenOffset, oddOffset);
        }
    }

    private static void deinterleaveF(float[] x, int xOffset, int n, float[] y, int evenOffset, int oddOffset) {
        int fl = F.length();
        int last = (n - 2 * fl) / 2;
        for (int i0 = 0; i0 <= last + fl - 1; i0 += fl) {
            int i = Math.min(i0, last);
            FloatVector a = FloatVector.fromArray(F, x, xOffset + 2 * i);
            FloatVector b = FloatVector.fromArray(F, x, xOffset + 2 * i + fl);
            F_EVEN.selectFrom(a, b).intoArray(y, evenOffset + i);
            F_ODD.selectFrom(a, b).intoArray(y, oddOffset + i);
        }
        if ((n & 1) != 0) {
            y[evenOffset + n / 2] = x[xOffset + n - 1];
        }
    }

    private static void deinterleaveH(float[] x, int xOffset, int n, float[] y, int evenOffset, int oddOffset) {
        int fl = H.length();
        int last = (n - 2 * fl) / 2;
        for (int i0 = 0; i0 <= last + fl - 1; i0 += fl) {
            int i = Math.min(i0, last);
            FloatVector a = FloatVector.fromArray(H, x, xOffset + 2 * i);
            FloatVector b = FloatVector.fromArray(H, x, xOffset + 2 * i + fl);
            H_EVEN.selectFrom(a, b).intoArray(y, evenOffset + i);
            H_ODD.selectFrom(a, b).intoArray(y, oddOffset + i);
        }
        if ((n & 1) != 0) {
            y[evenOffset + n / 2] = x[xOffset + n - 1];
        }
    }

    /**
     * A vector of outputs per step from two vectors of each row split into even and odd lanes,
     * the scalar tournament lane for lane; the last step ends at the last output and overlaps
     * the one before. Rows shorter than a vector take the half width, then four lanes, then
     * scalar. One copy per species: with the species as a parameter of one shared method C2
     * did not intrinsify the vector operations (vgg's 32@28 pool: 6 -> 107 us).
     */
    @Override
    public void pairMax(float[] x, int a, int b, float[] y, int yOffset, int n) {
        if (n >= F.length()) {
            pairMaxF(x, a, b, y, yOffset, n);
        } else if (H != null && n >= H.length()) {
            pairMaxH(x, a, b, y, yOffset, n);
        } else if (n >= Q.length() && F.length() > Q.length()) {
            pairMaxQ(x, a, b, y, yOffset, n);
        } else {
            FloatPasses.pairMaxScalar(x, a, b, y, yOffset, 0, n);
        }
    }

    /**
     * Rows of 4 to 8 outputs (vgg's 64@14 pool: 7) take one half-width step each instead of
     * two overlapping quarter-width ones: every row but the plane's last writes its step's
     * spare lanes into the next row's first outputs, which that row then writes over, and
     * reads at most 16 floats from its input rows' start, still inside the plane.
     */
    @Override
    public void pairMaxRows(float[] x, int a, int w, float[] y, int yOffset, int n, int rows) {
        if (H == null || n > H.length() || n < 4 || rows < 2) {
            FloatPasses.super.pairMaxRows(x, a, w, y, yOffset, n, rows);
            return;
        }
        for (int i = 0; i < rows - 1; i++) {
            int top = a + 2 * i * w;
            // A row of exactly H.length() outputs: pairMaxH's single step, spare lanes included.
            pairMaxH(x, top, top + w, y, yOffset + i * n, H.length());
        }
        int last = a + 2 * (rows - 1) * w;
        pairMax(x, last, last + w, y, yOffset + (rows - 1) * n, n);
    }

    private static void pairMaxQ(float[] x, int a, int b, float[] y, int yOffset, int n) {
        int fl = Q.length();
        int last = n - fl;
        for (int c0 = 0; c0 <= last + fl - 1; c0 += fl) {
            int c = Math.min(c0, last);
            FloatVector a0 = FloatVector.fromArray(Q, x, a + 2 * c);
            FloatVector a1 = FloatVector.fromArray(Q, x, a + 2 * c + fl);
            FloatVector b0 = FloatVector.fromArray(Q, x, b + 2 * c);
            FloatVector b1 = FloatVector.fromArray(Q, x, b + 2 * c + fl);
            FloatVector x00 = Q_EVEN.selectFrom(a0, a1);
            FloatVector x01 = Q_ODD.selectFrom(a0, a1);
            FloatVector x10 = Q_EVEN.selectFrom(b0, b1);
            FloatVector x11 = Q_ODD.selectFrom(b0, b1);
            FloatVector m1 = x00.blend(x01, x01.compare(VectorOperators.GT, x00));
            FloatVector m2 = x10.blend(x11, x11.compare(VectorOperators.GT, x10).or(x10.test(VectorOperators.IS_NAN)));
            m1.blend(m2, m2.compare(VectorOperators.GT, m1)).intoArray(y, yOffset + c);
        }
    }

    private static void pairMaxF(float[] x, int a, int b, float[] y, int yOffset, int n) {
        int fl = F.length();
        int last = n - fl;
        for (int c0 = 0; c0 <= last + fl - 1; c0 += fl) {
            int c = Math.min(c0, last);
            FloatVector a0 = FloatVector.fromArray(F, x, a + 2 * c);
            FloatVector a1 = FloatVector.fromArray(F, x, a + 2 * c + fl);
            FloatVector b0 = FloatVector.fromArray(F, x, b + 2 * c);
            FloatVector b1 = FloatVector.fromArray(F, x, b + 2 * c + fl);
            FloatVector x00 = F_EVEN.selectFrom(a0, a1);
            FloatVector x01 = F_ODD.selectFrom(a0, a1);
            FloatVector x10 = F_EVEN.selectFrom(b0, b1);
            FloatVector x11 = F_ODD.selectFrom(b0, b1);
            FloatVector m1 = x00.blend(x01, x01.compare(VectorOperators.GT, x00));
            FloatVector m2 = x10.blend(x11, x11.compare(VectorOperators.GT, x10).or(x10.test(VectorOperators.IS_NAN)));
            m1.blend(m2, m2.compare(VectorOperators.GT, m1)).intoArray(y, yOffset + c);
        }
    }

    private static void pairMaxH(float[] x, int a, int b, float[] y, int yOffset, int n) {
        int fl = H.length();
        int last = n - fl;
        for (int c0 = 0; c0 <= last + fl - 1; c0 += fl) {
            int c = Math.min(c0, last);
            FloatVector a0 = FloatVector.fromArray(H, x, a + 2 * c);
            FloatVector a1 = FloatVector.fromArray(H, x, a + 2 * c + fl);
            FloatVector b0 = FloatVector.fromArray(H, x, b + 2 * c);
            FloatVector b1 = FloatVector.fromArray(H, x, b + 2 * c + fl);
            FloatVector x00 = H_EVEN.selectFrom(a0, a1);
            FloatVector x01 = H_ODD.selectFrom(a0, a1);
            FloatVector x10 = H_EVEN.selectFrom(b0, b1);
            FloatVector x11 = H_ODD.selectFrom(b0, b1);
            FloatVector m1 = x00.blend(x01, x01.compare(VectorOperators.GT, x00));
            FloatVector m2 = x10.blend(x11, x11.compare(VectorOperators.GT, x10).or(x10.test(VectorOperators.IS_NAN)));
            m1.blend(m2, m2.compare(VectorOperators.GT, m1)).intoArray(y, yOffset + c);
        }
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
            // Two vectors of the row at a time: eight independent sums, not four, so the FMAs'
            // latency does not bound the loop (vgg's first conv, rows of 28: 10.1 -> 9.4 us).
            for (int i0 = 0; i0 < n; i0 += 2 * fl) {
                int i = Math.min(i0, last);
                int k = Math.min(i0 + fl, last);
                FloatVector a0 = FloatVector.broadcast(F, bias == null ? 0f : bias[o]);
                FloatVector a1 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 1]);
                FloatVector a2 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 2]);
                FloatVector a3 = FloatVector.broadcast(F, bias == null ? 0f : bias[o + 3]);
                FloatVector b0 = a0;
                FloatVector b1 = a1;
                FloatVector b2 = a2;
                FloatVector b3 = a3;
                for (int t = 0; t < taps; t++) {
                    FloatVector v = FloatVector.fromArray(F, x, xOffset + off[t] + i);
                    FloatVector u = FloatVector.fromArray(F, x, xOffset + off[t] + k);
                    FloatVector w0 = FloatVector.broadcast(F, w[o * taps + t]);
                    FloatVector w1 = FloatVector.broadcast(F, w[(o + 1) * taps + t]);
                    FloatVector w2 = FloatVector.broadcast(F, w[(o + 2) * taps + t]);
                    FloatVector w3 = FloatVector.broadcast(F, w[(o + 3) * taps + t]);
                    a0 = v.fma(w0, a0);
                    a1 = v.fma(w1, a1);
                    a2 = v.fma(w2, a2);
                    a3 = v.fma(w3, a3);
                    b0 = u.fma(w0, b0);
                    b1 = u.fma(w1, b1);
                    b2 = u.fma(w2, b2);
                    b3 = u.fma(w3, b3);
                }
                a0.intoArray(y, y0 + i);
                a1.intoArray(y, y0 + yStride + i);
                a2.intoArray(y, y0 + 2 * yStride + i);
                a3.intoArray(y, y0 + 3 * yStride + i);
                b0.intoArray(y, y0 + k);
                b1.intoArray(y, y0 + yStride + k);
                b2.intoArray(y, y0 + 2 * yStride + k);
                b3.intoArray(y, y0 + 3 * yStride + k);
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
    public void addAbs4(float[] x, int offset, int stride, float[] acc, int accOffset, int n) {
        int fl = F.length();
        int end = F.loopBound(n);
        int i = 0;
        for (; i < end; i += fl) {
            int at = offset + i;
            FloatVector a = FloatVector.fromArray(F, acc, accOffset + i);
            a.add(FloatVector.fromArray(F, x, at).abs())
                    .add(FloatVector.fromArray(F, x, at + stride).abs())
                    .add(FloatVector.fromArray(F, x, at + 2 * stride).abs())
                    .add(FloatVector.fromArray(F, x, at + 3 * stride).abs())
                    .intoArray(acc, accOffset + i);
        }
        FloatPasses.addAbs4Scalar(x, offset, stride, acc, accOffset, i, n);
    }

    @Override
    public void add(float[] a, int aOffset, float[] b, int bOffset, float[] z, int zOffset, int n) {
        int fl = F.length();
        int end = F.loopBound(n);
        int i = 0;
        for (; i < end; i += fl) {
            FloatVector.fromArray(F, a, aOffset + i).add(FloatVector.fromArray(F, b, bOffset + i))
                    .intoArray(z, zOffset + i);
        }
        FloatPasses.addScalar(a, aOffset, b, bOffset, z, zOffset, i, n);
    }

    @Override
    public void addDoubles(double[] x, int xOffset, double[] acc, int accOffset, int n) {
        int dl = D.length();
        int end = D.loopBound(n);
        int i = 0;
        for (; i < end; i += dl) {
            DoubleVector.fromArray(D, acc, accOffset + i).add(DoubleVector.fromArray(D, x, xOffset + i))
                    .intoArray(acc, accOffset + i);
        }
        FloatPasses.addDoublesScalar(x, xOffset, acc, accOffset, i, n);
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
