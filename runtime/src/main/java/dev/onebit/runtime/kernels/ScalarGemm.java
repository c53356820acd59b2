package dev.onebit.runtime.kernels;

/**
 * The portable {@link FloatGemm}: plain Java 17, no Vector API. Panels of 8 rows; the work is
 * done in 4-row by 4-column register tiles whose sixteen accumulators are locals, so each
 * loaded value of {@code A} and {@code B} feeds four multiply-adds from registers. Used when
 * the Vector API is not available (several times slower than {@code VectorGemm}).
 */
public final class ScalarGemm implements FloatGemm {
    private static final int P = 8;
    private static final int J = 4;

    /** Creates the implementation; it holds no state. */
    public ScalarGemm() {
    }

    @Override
    public int panelRows() {
        return P;
    }

    @Override
    public String name() {
        return "scalar";
    }

    /** Rows {@code r0..r0+3} of the tile: sixteen accumulators in locals, so they stay in registers. */
    private static void tile4x4(float[] a, int aBase, int k, float[] b, int bBase, int[] rowOffsets,
                                int c0, int c1, int c2, int c3, float[] acc, int r0) {
        float s00 = acc[r0], s10 = acc[r0 + 1], s20 = acc[r0 + 2], s30 = acc[r0 + 3];
        float s01 = acc[P + r0], s11 = acc[P + r0 + 1], s21 = acc[P + r0 + 2], s31 = acc[P + r0 + 3];
        float s02 = acc[2 * P + r0], s12 = acc[2 * P + r0 + 1], s22 = acc[2 * P + r0 + 2], s32 = acc[2 * P + r0 + 3];
        float s03 = acc[3 * P + r0], s13 = acc[3 * P + r0 + 1], s23 = acc[3 * P + r0 + 2], s33 = acc[3 * P + r0 + 3];
        for (int kk = 0; kk < k; kk++) {
            int ap = aBase + kk * P;
            int o = bBase + rowOffsets[kk];
            float a0 = a[ap];
            float a1 = a[ap + 1];
            float a2 = a[ap + 2];
            float a3 = a[ap + 3];
            float b0 = b[o + c0];
            float b1 = b[o + c1];
            float b2 = b[o + c2];
            float b3 = b[o + c3];
            s00 += a0 * b0;
            s10 += a1 * b0;
            s20 += a2 * b0;
            s30 += a3 * b0;
            s01 += a0 * b1;
            s11 += a1 * b1;
            s21 += a2 * b1;
            s31 += a3 * b1;
            s02 += a0 * b2;
            s12 += a1 * b2;
            s22 += a2 * b2;
            s32 += a3 * b2;
            s03 += a0 * b3;
            s13 += a1 * b3;
            s23 += a2 * b3;
            s33 += a3 * b3;
        }
        acc[r0] = s00;
        acc[r0 + 1] = s10;
        acc[r0 + 2] = s20;
        acc[r0 + 3] = s30;
        acc[P + r0] = s01;
        acc[P + r0 + 1] = s11;
        acc[P + r0 + 2] = s21;
        acc[P + r0 + 3] = s31;
        acc[2 * P + r0] = s02;
        acc[2 * P + r0 + 1] = s12;
        acc[2 * P + r0 + 2] = s22;
        acc[2 * P + r0 + 3] = s32;
        acc[3 * P + r0] = s03;
        acc[3 * P + r0 + 1] = s13;
        acc[3 * P + r0 + 2] = s23;
        acc[3 * P + r0 + 3] = s33;
    }

    @Override
    public void multiply(PackedMatrix a, int n, float[] b, int bBase, int[] rowOffsets, int[] colOffsets,
                         float[] bias, int biasOffset, boolean accumulate,
                         float[] c, int cOffset, int cRowStride, int cColStride) {
        if (a.panelRows() != P) {
            throw new IllegalArgumentException("matrix packed for " + a.panelRows() + "-row panels, need " + P);
        }
        int m = a.rows();
        int k = a.depth();
        float[] ad = a.data();
        float[] acc = new float[P * J];
        for (int p = 0; p * P < m; p++) {
            int m0 = p * P;
            int rows = Math.min(P, m - m0);
            int aBase = p * P * k;
            for (int j0 = 0; j0 < n; j0 += J) {
                int cols = Math.min(J, n - j0);
                for (int r = 0; r < P; r++) {
                    float init = bias != null && r < rows ? bias[biasOffset + m0 + r] : 0f;
                    for (int j = 0; j < J; j++) {
                        acc[j * P + r] = init;
                    }
                }
                // Missing columns repeat the last real one: harmless work, no bounds cases in the loop.
                int c0 = colOffsets[j0];
                int c1 = colOffsets[j0 + Math.min(1, cols - 1)];
                int c2 = colOffsets[j0 + Math.min(2, cols - 1)];
                int c3 = colOffsets[j0 + Math.min(3, cols - 1)];
                for (int r0 = 0; r0 < P; r0 += 4) {
                    tile4x4(ad, aBase + r0, k, b, bBase, rowOffsets, c0, c1, c2, c3, acc, r0);
                }
                for (int r = 0; r < rows; r++) {
                    int base = cOffset + (m0 + r) * cRowStride + j0 * cColStride;
                    for (int j = 0; j < cols; j++) {
                        int ci = base + j * cColStride;
                        c[ci] = accumulate ? c[ci] + acc[j * P + r] : acc[j * P + r];
                    }
                }
            }
        }
    }
}
