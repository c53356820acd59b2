package dev.onebit.runtime.kernels;

/**
 * The engine under the XNOR kernels ({@link BinaryConvolution}, {@link BinaryDense}): sign
 * packing of float activations and a popcount "matrix product" of bit-packed ±1 matrices.
 *
 * <p>Bits follow onebit's convention (bit 1 means -1, sign(0) = +1). For two ±1 vectors of
 * {@code n} elements packed into words whose unused high bits are 0 in both, the dot product
 * is {@code n - 2 * popcount(a XOR b)} summed over the words: a mismatch is a product of -1,
 * and a zero tail bit matches a zero tail bit, so the tail adds nothing to the popcount.
 *
 * <p>The product {@link #popcounts} reads {@code A} row-major and unpacked (its words are
 * broadcast) and {@code B} packed in panels of {@link #panelColumns()} columns (loaded as
 * vectors). Callers lay out {@code B} with {@link #panelColumns()} themselves; for a
 * convolution that is an im2col of the packed activations, for a fully connected layer the
 * packed weight.
 *
 * <p>Implementations are stateless and may be used from several threads at once. All of them
 * give identical results: everything here is integer arithmetic.
 */
public interface BinaryGemm {

    /** Columns of {@code B} per packed panel. */
    int panelColumns();

    /** A short name for logs and benchmarks. */
    String name();

    /**
     * Computes {@code c[cOffset + i * ldc + j] = sum_r bitCount(A[i][r] ^ B[r][j])} for
     * {@code i < rows} and every column {@code j < columns}, where
     * {@code A[i][r] = a[aOffset + i * depth + r]} and
     * {@code B[r][j] = b[bOffset + (j / P) * depth * P + r * P + j % P]} with {@code P =}
     * {@link #panelColumns()}: {@code ceil(columns / P)} panels. Columns of the last panel past
     * {@code columns} may be computed too (from whatever its words hold), so {@code ldc} must
     * leave room up to the end of that panel; an implementation skips them where it can.
     */
    void popcounts(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int columns,
                   int[] c, int cOffset, int ldc);

    /**
     * Columns of {@code B} that {@link #popcountsInPlace} reads from one start: that many
     * consecutive words. A divisor of {@link #panelColumns()} (a vector engine's vector length).
     */
    int groupColumns();

    /**
     * {@link #popcounts} with {@code B} read where it lies instead of from panels:
     * {@code B[r][j] = b[bOffset + starts[startsOffset + j / G] + rowOffsets[r] + j % G]} with
     * {@code G =} {@link #groupColumns()}. Each group of G columns is G consecutive words from
     * its own start, and every row of B lies at the same offset from row 0 in every group: a
     * convolution of stride 1 reads its zero-padded packed input so, with no im2col (a group's
     * start is the pixel under its first position, a row's offset is its tap's). The columns
     * are taken in panels of {@link #panelColumns()}; as with {@link #popcounts}, columns of
     * the last panel past {@code columns} may be computed and stored, so {@code ldc} and
     * {@code starts} must cover that panel.
     *
     * <p>Kept apart from {@link #popcounts}, whose panel rows lie a fixed stride apart: the JIT
     * then checks array bounds once per loop instead of at every load (through this method a
     * 256->256 layer at 14x14 ran 6% slower).
     */
    void popcountsInPlace(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int[] starts,
                          int startsOffset, int[] rowOffsets, int columns, int[] c, int cOffset, int ldc);

    /**
     * Packs the signs of {@code count} contiguous floats: bit {@code k % 64} of
     * {@code out[outOffset + k / 64]} is set when {@code x[offset + k] < 0}. Every word is
     * written; bits past {@code count} are 0.
     *
     * @return true when every value was exactly -1 or +1 (so the bits represent it exactly)
     */
    boolean packSigns(float[] x, int offset, int count, long[] out, int outOffset);

    /**
     * Packs {@code channels} planes of {@code plane} floats ({@code x[offset + c * plane + p]})
     * across channels: bit {@code c % 64} of {@code out[outOffset + (c / 64) * outStride + p]}
     * is set when the value is negative. Words {@code p < plane} of every block are written
     * (unused channel bits 0); the rest of the stride is not touched.
     *
     * @return true when every value was exactly -1 or +1
     */
    boolean packChannels(float[] x, int offset, int channels, int plane, long[] out, int outOffset, int outStride);

    /**
     * {@link #packChannels}, and in the same pass over x the channel sums of XNOR-Net's
     * activation scale taken of a Relu's output: {@code sums[sumOffset + p] += |max(v, 0)|}
     * for the value v of channel 0, then channel 1, and so on, each add rounded to float.
     * Those are the bits of {@link ActivationScales}' sums over {@code Relu(x)} (Relu is
     * {@code Math.max(v, 0f)}), so that a Binarize of x and the activation scale of Relu(x)
     * can share one read of x.
     */
    default void packChannelsAndSums(float[] x, int offset, int channels, int plane, long[] out, int outOffset,
                                     int outStride, float[] sums, int sumOffset) {
        packChannels(x, offset, channels, plane, out, outOffset, outStride);
        addReluSumsScalar(x, offset, channels, plane, 0, plane, sums, sumOffset);
    }

    /** The scalar sums of {@link #packChannelsAndSums} for pixels {@code p0..p1-1}. */
    static void addReluSumsScalar(float[] x, int offset, int channels, int plane, int p0, int p1, float[] sums,
                                  int sumOffset) {
        for (int c = 0; c < channels; c++) {
            int src = offset + c * plane;
            for (int p = p0; p < p1; p++) {
                sums[sumOffset + p] += Math.abs(Math.max(x[src + p], 0f));
            }
        }
    }

    /**
     * Gathers words, the im2col step of the XNOR convolution:
     * {@code out[outOffset + i] = words[base + index[indexOffset + i]]} for {@code i < n}.
     */
    default void gather(long[] words, int base, int[] index, int indexOffset, long[] out, int outOffset, int n) {
        gatherScalar(words, base, index, indexOffset, out, outOffset, 0, n);
    }

    /**
     * Gathers words into higher bits of words already there:
     * {@code out[outOffset + i] |= words[base + index[indexOffset + i]] << shift} for
     * {@code i < n}; {@code shift} is 1 to 63.
     */
    default void gatherShifted(long[] words, int base, int[] index, int indexOffset, int shift, long[] out,
                               int outOffset, int n) {
        gatherShiftedScalar(words, base, index, indexOffset, shift, out, outOffset, 0, n);
    }

    /** The scalar {@link #gatherShifted} for {@code i} in {@code i0..n-1}. */
    static void gatherShiftedScalar(long[] words, int base, int[] index, int indexOffset, int shift, long[] out,
                                    int outOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            out[outOffset + i] |= words[base + index[indexOffset + i]] << shift;
        }
    }

    /**
     * {@link #gatherShifted} of consecutive words: {@code out[outOffset + i] |= words[from + i] << shift}
     * for {@code i < n}, {@code shift} 1 to 63.
     */
    default void orShifted(long[] words, int from, int shift, long[] out, int outOffset, int n) {
        orShiftedScalar(words, from, shift, out, outOffset, 0, n);
    }

    /** The scalar {@link #orShifted} for {@code i} in {@code i0..n-1}. */
    static void orShiftedScalar(long[] words, int from, int shift, long[] out, int outOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            out[outOffset + i] |= words[from + i] << shift;
        }
    }

    /** The scalar {@link #gather} for {@code i} in {@code i0..n-1}, shared by implementations for their tails. */
    static void gatherScalar(long[] words, int base, int[] index, int indexOffset, long[] out, int outOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            out[outOffset + i] = words[base + index[indexOffset + i]];
        }
    }

    /**
     * The float output pass of an XNOR layer with one binary plane:
     * {@code y[yOffset + j] = alpha * (full - 2 * pop[popOffset + j]) * scale[scaleOffset + j] + add}
     * for {@code j < n}, without the scale factor when {@code scale} is null. The integer
     * {@code full - 2 * pop} is converted to float exactly (it is far below 2^24), then the
     * operations are done left to right, each rounded to float, never fused into a
     * multiply-add: every implementation gives the same bits as this scalar loop.
     */
    default void affine(int[] pop, int popOffset, int full, float alpha, float[] scale, int scaleOffset, float add,
                        float[] y, int yOffset, int n) {
        affineScalar(pop, popOffset, full, alpha, scale, scaleOffset, add, y, yOffset, 0, n);
    }

    /** The scalar {@link #affine} for {@code j} in {@code j0..n-1}, shared by implementations for their tails. */
    static void affineScalar(int[] pop, int popOffset, int full, float alpha, float[] scale, int scaleOffset, float add,
                             float[] y, int yOffset, int j0, int n) {
        if (scale == null) {
            for (int j = j0; j < n; j++) {
                y[yOffset + j] = alpha * (full - 2 * pop[popOffset + j]) + add;
            }
        } else {
            for (int j = j0; j < n; j++) {
                y[yOffset + j] = alpha * (full - 2 * pop[popOffset + j]) * scale[scaleOffset + j] + add;
            }
        }
    }

    /**
     * {@link #affine} of the popcounts plus their corrections: {@code pop[popOffset + j] +
     * corr[corrOffset + j]} in place of {@code pop[popOffset + j]}, added as ints (exact).
     */
    default void affineCorrected(int[] pop, int popOffset, int[] corr, int corrOffset, int full, float alpha,
                                 float[] scale, int scaleOffset, float add, float[] y, int yOffset, int n) {
        affineCorrectedScalar(pop, popOffset, corr, corrOffset, full, alpha, scale, scaleOffset, add, y, yOffset, 0, n);
    }

    /** The scalar {@link #affineCorrected} for {@code j} in {@code j0..n-1}. */
    static void affineCorrectedScalar(int[] pop, int popOffset, int[] corr, int corrOffset, int full, float alpha,
                                      float[] scale, int scaleOffset, float add, float[] y, int yOffset, int j0, int n) {
        for (int j = j0; j < n; j++) {
            int p = pop[popOffset + j] + corr[corrOffset + j];
            y[yOffset + j] = scale == null ? alpha * (full - 2 * p) + add
                    : alpha * (full - 2 * p) * scale[scaleOffset + j] + add;
        }
    }

    /** {@code x[xOffset + j] += add[addOffset + j]} for {@code j < n} (popcount corrections). */
    default void addInts(int[] x, int xOffset, int[] add, int addOffset, int n) {
        addIntsScalar(x, xOffset, add, addOffset, 0, n);
    }

    /** The scalar {@link #addInts} for {@code j} in {@code j0..n-1}. */
    static void addIntsScalar(int[] x, int xOffset, int[] add, int addOffset, int j0, int n) {
        for (int j = j0; j < n; j++) {
            x[xOffset + j] += add[addOffset + j];
        }
    }

    /**
     * The output step of an XNOR layer whose output only feeds a sign: for {@code j < n}, sets
     * bit {@code bit} of {@code out[outOffset + j]} when
     * {@code (pop[popOffset + j] >= threshold) != flip} (see {@code SignThresholds}); other
     * bits are left as they are.
     */
    default void signBits(int[] pop, int popOffset, int threshold, boolean flip, int bit, long[] out, int outOffset,
                          int n) {
        signBitsScalar(pop, popOffset, threshold, flip, bit, out, outOffset, 0, n);
    }

    /**
     * {@link #signBits} for four channels at once, rows {@code popOffset + k * ldc} with
     * {@code threshold[t + k]}, {@code flip[t + k]} and bit {@code bit0 + k} for {@code k < 4}
     * ({@code bit0 <= 60}): each word is read and written once for the four.
     */
    default void signBits4(int[] pop, int popOffset, int ldc, int[] threshold, boolean[] flip, int t, int bit0,
                           long[] out, int outOffset, int n) {
        signBits4Scalar(pop, popOffset, ldc, threshold, flip, t, bit0, out, outOffset, 0, n);
    }

    /** The scalar {@link #signBits4} for {@code j} in {@code j0..n-1}. */
    static void signBits4Scalar(int[] pop, int popOffset, int ldc, int[] threshold, boolean[] flip, int t, int bit0,
                                long[] out, int outOffset, int j0, int n) {
        for (int k = 0; k < 4; k++) {
            signBitsScalar(pop, popOffset + k * ldc, threshold[t + k], flip[t + k], bit0 + k, out, outOffset, j0, n);
        }
    }

    /** The scalar {@link #signBits} for {@code j} in {@code j0..n-1}, shared by implementations for their tails. */
    static void signBitsScalar(int[] pop, int popOffset, int threshold, boolean flip, int bit, long[] out,
                               int outOffset, int j0, int n) {
        long b = 1L << bit;
        for (int j = j0; j < n; j++) {
            out[outOffset + j] |= (pop[popOffset + j] >= threshold) != flip ? b : 0L;
        }
    }

    /**
     * Binarize: {@code y[yOffset + i] = x[offset + i] < 0 ? -1f : +1f} for {@code i < n} (so
     * -0.0 and NaN give +1, onebit's sign).
     */
    default void signs(float[] x, int offset, float[] y, int yOffset, int n) {
        signsScalar(x, offset, y, yOffset, 0, n);
    }

    /**
     * The scalar {@link #signs} for {@code i} in {@code i0..n-1}. Without a branch: on
     * real-valued activations the branch is a coin toss whose mispredictions cost several times
     * the rest of the loop. The compare is done on the bits: x &lt; 0 exactly when the sign bit
     * is set and the magnitude bits are neither zero (-0.0) nor above those of infinity (NaN).
     */
    static void signsScalar(float[] x, int offset, float[] y, int yOffset, int i0, int n) {
        for (int i = i0; i < n; i++) {
            int bits = Float.floatToRawIntBits(x[offset + i]);
            int mag = bits & 0x7FFFFFFF;
            int negative = bits & -mag & (mag - 0x7F800001);
            y[yOffset + i] = Float.intBitsToFloat(0x3F800000 | (negative & 0x80000000));
        }
    }

    /**
     * The scalar sign packing of {@link #packChannels}, shared by implementations for what
     * their vectors do not cover: pixels {@code p0..p1-1} only.
     */
    static boolean packChannelsScalar(float[] x, int offset, int channels, int plane, int p0, int p1,
                                      long[] out, int outOffset, int outStride) {
        boolean signs = true;
        for (int c0 = 0; c0 < channels; c0 += 64) {
            int o = outOffset + (c0 >>> 6) * outStride;
            java.util.Arrays.fill(out, o + p0, o + p1, 0L);
            int c1 = Math.min(channels, c0 + 64);
            for (int c = c0; c < c1; c++) {
                int src = offset + c * plane;
                long bit = 1L << (c & 63);
                for (int p = p0; p < p1; p++) {
                    float v = x[src + p];
                    // v < 0 and not the sign bit: -0.0 is +1 (and is not a sign value anyway).
                    out[o + p] |= v < 0 ? bit : 0L;
                    signs &= v == 1f | v == -1f;
                }
            }
        }
        return signs;
    }

    /** The scalar {@link #packSigns}, shared by implementations for their tails. */
    static boolean packSignsScalar(float[] x, int offset, int count, long[] out, int outOffset) {
        boolean signs = true;
        for (int w = 0; w * 64 < count; w++) {
            long word = 0;
            int n = Math.min(64, count - w * 64);
            int src = offset + w * 64;
            for (int k = 0; k < n; k++) {
                float v = x[src + k];
                word |= v < 0 ? 1L << k : 0L;
                signs &= v == 1f | v == -1f;
            }
            out[outOffset + w] = word;
        }
        return signs;
    }
}
