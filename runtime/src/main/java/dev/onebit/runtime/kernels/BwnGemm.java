package dev.onebit.runtime.kernels;

/**
 * The engine under {@link BwnDense}: products of real-valued rows with a bit-packed ±1
 * matrix by table lookup, with a portable implementation in the default methods and a
 * Vector API one ({@code VectorBwnGemm}) chosen by {@link Kernels#bwnGemm()}.
 *
 * <h2>The method</h2>
 * The inputs are taken in groups of four ({@code IN} padded with +0.0f to a multiple of 8,
 * {@link #groups}). For each row and group a <em>table</em> holds the 16 signed sums
 * <pre>   T[p] = ((s0 + s1) + s2) + s3,   s_t = (bit t of p set) ? -x[4g + t] : x[4g + t]</pre>
 * (left to right, each addition rounded to float; the negation flips the sign bit), one
 * for every pattern of four weights (bit 1 means -1, as everywhere in onebit). A column's
 * product with the row is then the sum of one table entry per group, in increasing group
 * order, starting from +0.0f: {@code dot = sum_g T_g[p_g]}, where {@code p_g} holds the
 * column's four weight bits of group {@code g}. That is one lookup and one addition per four
 * weights instead of four multiply-adds, and the weight is read as 1 bit per weight; a
 * vector lookup of 16 columns is one {@code vpermd} on AVX-512.
 *
 * <p>Every implementation computes exactly these operations in this order, so all give the
 * same bits.
 *
 * <h2>Layouts</h2>
 * <ul>
 *   <li>Tables ({@link #tables}): {@code t[tOffset + r * ldt + g * 16 + p]}.</li>
 *   <li>The packed weight ({@link #pack}): columns in <em>blocks</em> of 64; for block
 *       {@code b} and group pair {@code h} ({@code groups / 2} pairs) 64 bytes, one per column
 *       {@code j} of the block: byte {@code w[(b * pairs + h) * 64 + j]} holds column
 *       {@code b * 64 + j}'s pattern of group {@code 2h} in its low nibble and of group
 *       {@code 2h + 1} in its high nibble. Padded columns and inputs have weight bits 0.</li>
 * </ul>
 *
 * <p>Implementations are stateless and may be used from several threads at once.
 */
public interface BwnGemm {

    /** Columns per packed block. */
    int BLOCK = 64;

    /** Entries of a table: one per pattern of four weight bits. */
    int TABLE = 16;

    /** A short name for logs and benchmarks. */
    default String name() {
        return "scalar";
    }

    /** Groups of four inputs for {@code in} inputs: {@code in} padded to a multiple of 8, over 4. */
    static int groups(int in) {
        return Math.addExact(in, 7) / 8 * 2;
    }

    /**
     * Packs {@code cols} rows of {@code in} weight bits, column-major as a BIT tensor
     * {@code [cols, in]} holds them (bit {@code e % 8} of {@code bits[e / 8]},
     * {@code e = c * in + i}), into the block layout, {@code ceil(cols / 64)} blocks.
     */
    static byte[] pack(byte[] bits, int cols, int in) {
        int blocks = (cols + BLOCK - 1) / BLOCK;
        int pairs = groups(in) / 2;
        byte[] w = new byte[Math.multiplyExact(Math.multiplyExact(blocks, pairs), BLOCK)];
        for (int c = 0; c < cols; c++) {
            int at = (c / BLOCK) * pairs * BLOCK + c % BLOCK;
            long e = (long) c * in;
            for (int i = 0; i < in; i++, e++) {
                if ((bits[(int) (e >>> 3)] >>> (e & 7) & 1) != 0) {
                    // Input i is bit i % 4 of group i / 4, the low or high nibble of pair i / 8.
                    w[at + (i >>> 3) * BLOCK] |= (byte) (1 << (i & 7));
                }
            }
        }
        return w;
    }

    /**
     * Builds the tables of {@code rows} rows of {@code in} inputs
     * ({@code x[xOffset + r * ldx + i]}): {@link #groups}{@code (in)} tables of 16 entries per
     * row, at {@code t[tOffset + r * ldt + g * 16]}, as in the class description.
     */
    default void tables(float[] x, int xOffset, int ldx, int rows, int in, float[] t, int tOffset, int ldt) {
        tables(x, xOffset, ldx, 1, rows, in, t, tOffset, ldt);
    }

    /**
     * As {@link #tables(float[], int, int, int, int, float[], int, int)} with input {@code i} of
     * row {@code r} at {@code x[xOffset + r * ldx + i * ldi]}: {@code ldi = H * W}, {@code ldx = 1}
     * reads the channels of one image row of an NCHW tensor, a row per pixel.
     */
    default void tables(float[] x, int xOffset, int ldx, int ldi, int rows, int in, float[] t, int tOffset, int ldt) {
        tablesScalar(x, xOffset, ldx, ldi, rows, in, 0, groups(in), t, tOffset, ldt);
    }

    /** The scalar {@link #tables} for groups {@code g0..g1-1}, shared by implementations for their tails. */
    static void tablesScalar(float[] x, int xOffset, int ldx, int ldi, int rows, int in, int g0, int g1, float[] t,
                             int tOffset, int ldt) {
        for (int r = 0; r < rows; r++) {
            int xr = xOffset + r * ldx;
            for (int g = g0; g < g1; g++) {
                int i = 4 * g;
                float x0 = i < in ? x[xr + i * ldi] : 0f;
                float x1 = i + 1 < in ? x[xr + (i + 1) * ldi] : 0f;
                float x2 = i + 2 < in ? x[xr + (i + 2) * ldi] : 0f;
                float x3 = i + 3 < in ? x[xr + (i + 3) * ldi] : 0f;
                int tg = tOffset + r * ldt + g * TABLE;
                for (int p = 0; p < TABLE; p++) {
                    float s0 = (p & 1) != 0 ? -x0 : x0;
                    float s1 = (p & 2) != 0 ? -x1 : x1;
                    float s2 = (p & 4) != 0 ? -x2 : x2;
                    float s3 = (p & 8) != 0 ? -x3 : x3;
                    t[tg + p] = s0 + s1 + s2 + s3;
                }
            }
        }
    }

    /**
     * The products of {@code rows} rows, given by their tables, with {@code blocks} blocks of
     * the packed weight. Each row reads {@code taps.length} tables ({@code {0}} for a fully
     * connected layer, one per tap for a convolution) of {@code groups} groups each, table
     * {@code k} at {@code t[tOffset + r * ldt + taps[k]]}. For {@code r < rows},
     * {@code b < blocks}, {@code j < 64}: {@code s[sOffset + r * lds + b * 64 + j] = } the sum,
     * tap after tap and within a tap in increasing {@code g}, from +0.0f, of
     * {@code t[tOffset + r * ldt + taps[k] + g * 16 + p]} where {@code p} is the nibble of
     * group {@code g} of tap {@code k} in byte
     * {@code w[wOffset + ((b * taps.length + k) * groups / 2 + g / 2) * 64 + j]}: the weight has
     * {@code taps.length * groups / 2} pairs per block, tap-major (as {@link #pack} lays out
     * inputs {@code k * 4 * groups + c}).
     */
    default void products(float[] t, int tOffset, int ldt, int rows, int groups, int[] taps, byte[] w, int wOffset,
                          int blocks, float[] s, int sOffset, int lds) {
        productsScalar(t, tOffset, ldt, 0, rows, groups, taps, w, wOffset, blocks, s, sOffset, lds);
    }

    /** The scalar {@link #products} for rows {@code r0..r1-1}, shared by implementations for their tails. */
    static void productsScalar(float[] t, int tOffset, int ldt, int r0, int r1, int groups, int[] taps, byte[] w,
                               int wOffset, int blocks, float[] s, int sOffset, int lds) {
        int pairs = groups / 2;
        int depth = taps.length * pairs;
        float[] acc = new float[BLOCK];
        for (int b = 0; b < blocks; b++) {
            int wb = wOffset + b * depth * BLOCK;
            for (int r = r0; r < r1; r++) {
                java.util.Arrays.fill(acc, 0f);
                int wh = wb;
                for (int tap : taps) {
                    int tr = tOffset + r * ldt + tap;
                    for (int h = 0; h < pairs; h++, wh += BLOCK) {
                        int lo = tr + 2 * h * TABLE;
                        int hi = lo + TABLE;
                        for (int j = 0; j < BLOCK; j++) {
                            int v = w[wh + j];
                            acc[j] = acc[j] + t[lo + (v & 15)] + t[hi + (v >>> 4 & 15)];
                        }
                    }
                }
                System.arraycopy(acc, 0, s, sOffset + r * lds + b * BLOCK, BLOCK);
            }
        }
    }
}
