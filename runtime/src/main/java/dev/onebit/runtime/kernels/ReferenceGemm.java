package dev.onebit.runtime.kernels;

/**
 * The ONNX Gemm formula evaluated literally, for testing: {@code Y = alpha * op(A) * op(B) +
 * beta * C}, accumulated in double. Slow by design.
 */
public final class ReferenceGemm {
    private ReferenceGemm() {
    }

    /**
     * @param a {@code [m, k]}, or {@code [k, m]} when transA
     * @param b {@code [k, n]}, or {@code [n, k]} when transB
     * @param c null, or a matrix indexed through {@code cRowStride}/{@code cColStride} (0 to broadcast an axis)
     * @return {@code Y [m, n]}
     */
    public static float[] gemm(int m, int n, int k, float alpha, float[] a, boolean transA, float[] b, boolean transB,
                               float beta, float[] c, int cRowStride, int cColStride) {
        float[] y = new float[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = transA ? a[p * m + i] : a[i * k + p];
                    float bv = transB ? b[j * k + p] : b[p * n + j];
                    sum += (double) av * bv;
                }
                double v = alpha * sum;
                if (c != null) {
                    v += (double) beta * c[i * cRowStride + j * cColStride];
                }
                y[i * n + j] = (float) v;
            }
        }
        return y;
    }
}
