package dev.onebit.runtime.kernels;

/**
 * The left operand of a {@link FloatGemm}, repacked so that the micro-kernel reads it strictly
 * sequentially: panel {@code p} holds rows {@code p*P .. p*P+h-1} ({@code P} =
 * {@link #panelRows()}, {@code h} = {@link #panelHeight(int)}, which is {@code P} except
 * possibly for a shorter last panel), and within a panel column {@code k} is {@code h}
 * consecutive floats. Rows past {@link #rows()} are zero. Immutable once built.
 */
public final class PackedMatrix {
    private final float[] data;
    private final int rows;
    private final int depth;
    private final int panelRows;
    private final int lastHeight;

    private PackedMatrix(float[] data, int rows, int depth, int panelRows, int lastHeight) {
        this.data = data;
        this.rows = rows;
        this.depth = depth;
        this.panelRows = panelRows;
        this.lastHeight = lastHeight;
    }

    /**
     * Packs {@code scale * A}, {@code A[i][k] = a[offset + i * rowStride + k * colStride]}.
     *
     * @param panelRows rows per panel, the implementation's vector tile height
     * @param lastHeight height of the last panel ({@code >=} the rows left for it, {@code <= panelRows})
     */
    public static PackedMatrix pack(float[] a, int offset, int rowStride, int colStride, int m, int k,
                                    float scale, int panelRows, int lastHeight) {
        if (m < 0 || k < 0 || panelRows <= 0) {
            throw new IllegalArgumentException("bad matrix size " + m + "x" + k);
        }
        int panels = (m + panelRows - 1) / panelRows;
        int left = m - (panels - 1) * panelRows;
        if (panels > 0 && (lastHeight < left || lastHeight > panelRows)) {
            throw new IllegalArgumentException("last panel height " + lastHeight + " for " + left + " rows");
        }
        int padded = panels == 0 ? 0 : (panels - 1) * panelRows + lastHeight;
        float[] d = new float[Math.multiplyExact(padded, Math.max(k, 1))];
        for (int p = 0; p < panels; p++) {
            int h = p == panels - 1 ? lastHeight : panelRows;
            int base = p * panelRows * k;
            int rowsHere = Math.min(panelRows, m - p * panelRows);
            for (int r = 0; r < rowsHere; r++) {
                int src = offset + (p * panelRows + r) * rowStride;
                int dst = base + r;
                for (int kk = 0; kk < k; kk++) {
                    d[dst + kk * h] = scale * a[src + kk * colStride];
                }
            }
        }
        return new PackedMatrix(d, m, k, panelRows, panels == 0 ? panelRows : lastHeight);
    }

    /** The packed floats. */
    public float[] data() {
        return data;
    }

    /** Logical rows ({@code m}). */
    public int rows() {
        return rows;
    }

    /** Columns ({@code k}), the length of the dot products. */
    public int depth() {
        return depth;
    }

    /** Rows per panel. */
    public int panelRows() {
        return panelRows;
    }

    /** Height of panel {@code p}: {@link #panelRows()} except possibly for the last panel. */
    public int panelHeight(int p) {
        return p == panels() - 1 ? lastHeight : panelRows;
    }

    /** Index in {@link #data()} of panel {@code p}'s first float. */
    public int panelStart(int p) {
        return p * panelRows * depth;
    }

    /** Number of panels. */
    public int panels() {
        return (rows + panelRows - 1) / panelRows;
    }
}
