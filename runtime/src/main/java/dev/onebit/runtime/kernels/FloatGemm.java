package dev.onebit.runtime.kernels;

/**
 * A float32 matrix product {@code C[m][j] (+)= bias[m] + sum_k A[m][k] * B[k][j]}, the engine
 * under Conv, Gemm and MatMul.
 *
 * <p>{@code A} is packed once ({@link #pack}) into panels of {@link #panelRows()} rows, so a
 * constant weight matrix costs its layout change only when a kernel is created. {@code B} is
 * not copied: it is read in place through two offset tables, {@code B[k][j] = b[bBase +
 * rowOffsets[k] + colOffsets[j]]}, which lets a convolution address its (padded) input as an
 * implicit im2col matrix and lets any transposition of a plain matrix cost nothing.
 * {@code C} is written through a row and a column stride, so either orientation of the output
 * can be produced directly.
 *
 * <p>Implementations are stateless and may be used from several threads at once.
 */
public interface FloatGemm {

    /** Rows of {@code A} per packed panel; {@code m} is padded with zero rows up to a multiple of it. */
    int panelRows();

    /**
     * Height of the last panel when {@code rows} (at most {@link #panelRows()}) rows are left
     * for it; implementations with narrower kernels return less than a full panel.
     */
    default int lastPanelRows(int rows) {
        return panelRows();
    }

    /** A short name for logs and benchmarks, such as {@code "vector-16"}. */
    String name();

    /**
     * Packs {@code scale * A} where {@code A[m][k] = a[offset + m * rowStride + k * colStride]}.
     * Any transposition of a row-major matrix is a choice of strides.
     */
    default PackedMatrix pack(float[] a, int offset, int rowStride, int colStride, int m, int k, float scale) {
        int left = m - (m - 1) / panelRows() * panelRows();
        return PackedMatrix.pack(a, offset, rowStride, colStride, m, k, scale, panelRows(), m == 0 ? panelRows() : lastPanelRows(left));
    }

    /**
     * Multiplies a packed {@code A} by {@code B} into {@code C}.
     *
     * @param a packed left operand ({@code m} rows, {@code k} columns), made by this implementation's
     *     {@link #pack}
     * @param n columns of {@code B} and {@code C}
     * @param b storage of {@code B}
     * @param bBase added to every index into {@code b}
     * @param rowOffsets {@code k} offsets, one per row of {@code B}
     * @param colOffsets at least {@code n} offsets, one per column of {@code B}
     * @param bias {@code m} values added to each column of the result, from {@code biasOffset}; null for none
     * @param biasOffset index in {@code bias} of row 0's value
     * @param accumulate add to the existing contents of {@code C} instead of overwriting them
     * @param c storage of {@code C}
     * @param cOffset index of {@code C[0][0]}
     * @param cRowStride distance between {@code C[i][j]} and {@code C[i+1][j]}
     * @param cColStride distance between {@code C[i][j]} and {@code C[i][j+1]}
     */
    void multiply(PackedMatrix a, int n, float[] b, int bBase, int[] rowOffsets, int[] colOffsets,
                  float[] bias, int biasOffset, boolean accumulate,
                  float[] c, int cOffset, int cRowStride, int cColStride);

    /**
     * Plain row-major product {@code C = A * B} ({@code m x k} times {@code k x n}) with both
     * operands packed or addressed per call; a convenience for tests and small one-off products.
     */
    default void multiply(int m, int n, int k, float[] a, int aOffset, float[] b, int bOffset, float[] c, int cOffset) {
        PackedMatrix pa = pack(a, aOffset, k, 1, m, k, 1f);
        multiply(pa, n, b, bOffset, Offsets.strided(k, n), Offsets.strided(n, 1), null, 0, false, c, cOffset, n, 1);
    }
}
