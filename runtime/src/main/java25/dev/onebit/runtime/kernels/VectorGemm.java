package dev.onebit.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link FloatGemm} on the Vector API. The register tile is four vectors of rows (64 rows with
 * AVX-512; two vectors where only 16 vector registers exist) by six columns: 24 accumulators
 * updated with fused multiply-adds, fed per step of the dot product by four vector loads of
 * the packed {@code A} panel and six scalar broadcasts of {@code B}. Broadcasting {@code B}
 * is what lets it be read in place through offset tables instead of being packed. A short
 * last panel uses a one- or two-vector tile, leftover columns a one-column tile.
 *
 * <p>Long dot products are cut into blocks of at most {@value #KC} steps so that the slice of
 * the {@code A} panel and the rows of {@code B} a block reads stay in L2; partial sums wait in
 * a per-panel buffer laid out like the register tiles, and only the last block writes C.
 *
 * <p>Loaded reflectively by {@link Kernels} only when {@code jdk.incubator.vector} is present.
 */
public final class VectorGemm implements FloatGemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /** 24 accumulators need 32 vector registers; AVX2's 16 fit the 12 of a two-vector tile. */
    private static final int MAX_VECTORS = S.vectorBitSize() == 256 ? 2 : 4;
    private static final int P = MAX_VECTORS * V;
    private static final int J = 6;
    /** Longest dot product computed in one pass; longer ones are split into near-equal blocks. */
    private static final int KC = 768;

    /*
     * Transposing store for 16-lane vectors: six column vectors of a 16-row group become sixteen
     * rows of six floats in three rounds of two-vector permutes (pairs, then quads, then
     * octets), stored with masked vector stores instead of 96 scalar stores.
     */
    private static final boolean TRANSPOSE = V == 16;
    private static final FloatVector PAIR_LO = indices(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    private static final FloatVector PAIR_HI = indices(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    private static final FloatVector QUAD_LO = indices(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
    private static final FloatVector QUAD_HI = indices(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
    private static final FloatVector OCT_LO = indices(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    private static final FloatVector OCT_HI = indices(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    private static final VectorMask<Float> FIRST_ROW = mask(0);
    private static final VectorMask<Float> SECOND_ROW = mask(8);

    private static FloatVector indices(int... lanes) {
        if (!TRANSPOSE) {
            return null;
        }
        float[] f = new float[V];
        for (int i = 0; i < V; i++) {
            f[i] = lanes[i];
        }
        return FloatVector.fromArray(S, f, 0);
    }

    private static VectorMask<Float> mask(int first) {
        if (!TRANSPOSE) {
            return null;
        }
        boolean[] b = new boolean[V];
        for (int i = first; i < first + J; i++) {
            b[i] = true;
        }
        return VectorMask.fromArray(S, b, 0);
    }

    /** Creates the implementation; it holds no state. */
    public VectorGemm() {
    }

    @Override
    public int panelRows() {
        return P;
    }

    @Override
    public int lastPanelRows(int rows) {
        return rows <= V ? V : rows <= 2 * V ? 2 * V : P;
    }

    @Override
    public String name() {
        return "vector-" + V + "x" + MAX_VECTORS;
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
        float[] init = new float[P];
        float[] tile = new float[P * J];
        int blocks = Math.max(1, (k + KC - 1) / KC);
        float[] partial = blocks > 1 ? new float[n * P] : null;
        for (int p = 0; p < a.panels(); p++) {
            int m0 = p * P;
            int rows = Math.min(P, m - m0);
            int h = a.panelHeight(p);
            int aBase = a.panelStart(p);
            java.util.Arrays.fill(init, 0f);
            if (bias != null) {
                System.arraycopy(bias, biasOffset + m0, init, 0, rows);
            }
            int cBase = cOffset + m0 * cRowStride;
            for (int blk = 0; blk < blocks; blk++) {
                int k0 = (int) ((long) k * blk / blocks);
                int k1 = (int) ((long) k * (blk + 1) / blocks);
                boolean first = blk == 0;
                boolean last = blk == blocks - 1;
                // Block 0 starts from the bias (the same for every column), later ones from the partial sums.
                float[] from = first ? init : partial;
                float[] to = last ? tile : partial;
                int j0 = 0;
                for (; j0 + J <= n; j0 += J) {
                    int fo = first ? 0 : j0 * h;
                    int fs = first ? 0 : h;
                    int to0 = last ? 0 : j0 * h;
                    switch (h / V) {
                        case 4 -> VectorTiles.k4x6(ad, aBase, k0, k1, b, bBase, rowOffsets, colOffsets, j0, from, fo, fs, to, to0);
                        case 2 -> VectorTiles.k2x6(ad, aBase, k0, k1, b, bBase, rowOffsets, colOffsets, j0, from, fo, fs, to, to0);
                        default -> VectorTiles.k1x6(ad, aBase, k0, k1, b, bBase, rowOffsets, colOffsets, j0, from, fo, fs, to, to0);
                    }
                    if (last) {
                        store(tile, h, J, rows, accumulate, c, cBase + j0 * cColStride, cRowStride, cColStride);
                    }
                }
                for (; j0 < n; j0++) {
                    int bb = bBase + colOffsets[j0];
                    int fo = first ? 0 : j0 * h;
                    int to0 = last ? 0 : j0 * h;
                    switch (h / V) {
                        case 4 -> VectorTiles.k4x1(ad, aBase, k0, k1, b, bb, rowOffsets, from, fo, to, to0);
                        case 2 -> VectorTiles.k2x1(ad, aBase, k0, k1, b, bb, rowOffsets, from, fo, to, to0);
                        default -> VectorTiles.k1x1(ad, aBase, k0, k1, b, bb, rowOffsets, from, fo, to, to0);
                    }
                    if (last) {
                        store(tile, h, 1, rows, accumulate, c, cBase + j0 * cColStride, cRowStride, cColStride);
                    }
                }
            }
        }
    }

    /** Writes {@code cols} columns of a tile ({@code tile[j * h + r]}) into C. */
    private static void store(float[] tile, int h, int cols, int rows, boolean accumulate,
                              float[] c, int base, int rowStride, int colStride) {
        if (rowStride == 1 && rows == h) {
            for (int j = 0; j < cols; j++) {
                int ci = base + j * colStride;
                for (int v = 0; v < h; v += V) {
                    FloatVector t = FloatVector.fromArray(S, tile, j * h + v);
                    if (accumulate) {
                        t = t.add(FloatVector.fromArray(S, c, ci + v));
                    }
                    t.intoArray(c, ci + v);
                }
            }
            return;
        }
        if (TRANSPOSE && cols == J && colStride == 1 && !accumulate) {
            int full = rows & ~(V - 1);
            for (int g = 0; g < full; g += V) {
                storeTransposed(tile, h, g, c, base + g * rowStride, rowStride);
            }
            if (full == rows) {
                return;
            }
            storeScalar(tile, h, cols, full, rows, false, c, base, rowStride, colStride);
            return;
        }
        storeScalar(tile, h, cols, 0, rows, accumulate, c, base, rowStride, colStride);
    }

    /** Rows {@code r0..r1-1} of a tile, one float at a time. */
    private static void storeScalar(float[] tile, int h, int cols, int r0, int r1, boolean accumulate,
                                    float[] c, int base, int rowStride, int colStride) {
        for (int r = r0; r < r1; r++) {
            int rb = base + r * rowStride;
            if (accumulate) {
                for (int j = 0; j < cols; j++) {
                    c[rb + j * colStride] += tile[j * h + r];
                }
            } else {
                for (int j = 0; j < cols; j++) {
                    c[rb + j * colStride] = tile[j * h + r];
                }
            }
        }
    }

    /**
     * Sixteen rows (from {@code g}) of a six-column tile, as rows of six contiguous floats: eight
     * rows from the low lanes, eight from the high ones. (Two methods, because C1 cannot
     * allocate registers for one that does it all, and would then never hand it to C2.)
     */
    private static void storeTransposed(float[] tile, int h, int g, float[] c, int base, int rowStride) {
        storeEight(PAIR_LO, tile, h, g, c, base, rowStride);
        storeEight(PAIR_HI, tile, h, g, c, base + 8 * rowStride, rowStride);
    }

    private static void storeEight(FloatVector pair, float[] tile, int h, int g, float[] c, int base, int rowStride) {
        FloatVector x0 = FloatVector.fromArray(S, tile, g);
        FloatVector x1 = FloatVector.fromArray(S, tile, h + g);
        FloatVector x2 = FloatVector.fromArray(S, tile, 2 * h + g);
        FloatVector x3 = FloatVector.fromArray(S, tile, 3 * h + g);
        FloatVector x4 = FloatVector.fromArray(S, tile, 4 * h + g);
        FloatVector x5 = FloatVector.fromArray(S, tile, 5 * h + g);
        // column pairs 0-1, 2-3, 4-5 of eight rows; columns 6-7 do not exist
        FloatVector a0 = pair.selectFrom(x0, x1);
        FloatVector a2 = pair.selectFrom(x2, x3);
        FloatVector a4 = pair.selectFrom(x4, x5);
        // column quads 0-3 and 4-7 (4-5 real) of rows 0-3 and 4-7
        FloatVector b0 = QUAD_LO.selectFrom(a0, a2);
        FloatVector b1 = QUAD_HI.selectFrom(a0, a2);
        FloatVector b4 = QUAD_LO.selectFrom(a4, a4);
        FloatVector b5 = QUAD_HI.selectFrom(a4, a4);
        // whole rows, two per vector
        store2(OCT_LO.selectFrom(b0, b4), c, base, rowStride);
        store2(OCT_HI.selectFrom(b0, b4), c, base + 2 * rowStride, rowStride);
        store2(OCT_LO.selectFrom(b1, b5), c, base + 4 * rowStride, rowStride);
        store2(OCT_HI.selectFrom(b1, b5), c, base + 6 * rowStride, rowStride);
    }

    /** Lanes 0-5 to row {@code at}, lanes 8-13 to the next row. */
    private static void store2(FloatVector v, float[] c, int at, int rowStride) {
        v.intoArray(c, at, FIRST_ROW);
        v.intoArray(c, at + rowStride - 8, SECOND_ROW);
    }
}
