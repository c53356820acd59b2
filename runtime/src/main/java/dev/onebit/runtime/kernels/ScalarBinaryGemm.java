package dev.onebit.runtime.kernels;

/**
 * The portable {@link BinaryGemm}: plain Java 17 with {@link Long#bitCount} (which the JIT
 * turns into the {@code popcnt} instruction). Panels of four columns; the work is done in
 * two-row by four-column tiles whose eight accumulators are locals, so each loaded word of
 * {@code A} and {@code B} feeds several XOR-popcounts from registers (eight accumulators, six
 * loaded words and the loop variables just fit x86-64's sixteen general registers).
 */
public final class ScalarBinaryGemm implements BinaryGemm {
    private static final int P = 4;

    /** Creates the implementation; it holds no state. */
    public ScalarBinaryGemm() {
    }

    @Override
    public int panelColumns() {
        return P;
    }

    @Override
    public int groupColumns() {
        return P;
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public void popcounts(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int columns,
                          int[] c, int cOffset, int ldc) {
        int panels = (columns + P - 1) / P;
        for (int p = 0; p < panels; p++) {
            int bp = bOffset + p * depth * P;
            int cp = cOffset + p * P;
            int i = 0;
            for (; i + 2 <= rows; i += 2) {
                tile2(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc, ldc);
            }
            if (i < rows) {
                tile1(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc);
            }
        }
    }

    private static void tile2(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0, int ldc) {
        int s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        int s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        int a1 = a0 + depth;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            long b0 = b[q];
            long b1 = b[q + 1];
            long b2 = b[q + 2];
            long b3 = b[q + 3];
            long x = a[a0 + r];
            long y = a[a1 + r];
            s00 += Long.bitCount(x ^ b0);
            s01 += Long.bitCount(x ^ b1);
            s02 += Long.bitCount(x ^ b2);
            s03 += Long.bitCount(x ^ b3);
            s10 += Long.bitCount(y ^ b0);
            s11 += Long.bitCount(y ^ b1);
            s12 += Long.bitCount(y ^ b2);
            s13 += Long.bitCount(y ^ b3);
        }
        c[c0] = s00;
        c[c0 + 1] = s01;
        c[c0 + 2] = s02;
        c[c0 + 3] = s03;
        int c1 = c0 + ldc;
        c[c1] = s10;
        c[c1 + 1] = s11;
        c[c1 + 2] = s12;
        c[c1 + 3] = s13;
    }

    private static void tile1(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0) {
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            long x = a[a0 + r];
            s0 += Long.bitCount(x ^ b[q]);
            s1 += Long.bitCount(x ^ b[q + 1]);
            s2 += Long.bitCount(x ^ b[q + 2]);
            s3 += Long.bitCount(x ^ b[q + 3]);
        }
        c[c0] = s0;
        c[c0 + 1] = s1;
        c[c0 + 2] = s2;
        c[c0 + 3] = s3;
    }

    @Override
    public void popcountsInPlace(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int[] starts,
                                 int startsOffset, int[] rowOffsets, int columns, int[] c, int cOffset, int ldc) {
        int panels = (columns + P - 1) / P;
        for (int p = 0; p < panels; p++) {
            int bp = bOffset + starts[startsOffset + p];
            int cp = cOffset + p * P;
            int i = 0;
            for (; i + 2 <= rows; i += 2) {
                tile2At(a, aOffset + i * depth, depth, b, bp, rowOffsets, c, cp + i * ldc, ldc);
            }
            if (i < rows) {
                tile1At(a, aOffset + i * depth, depth, b, bp, rowOffsets, c, cp + i * ldc);
            }
        }
    }

    /*
     * The tiles of popcountsInPlace: those above, each row of B at its offset from the panel's
     * start. Copies rather than one pair of tiles for both products, so that the panel product
     * keeps the fixed stride between rows that lets the JIT check bounds once per loop (see
     * BinaryGemm#popcountsInPlace).
     */

    private static void tile2At(long[] a, int a0, int depth, long[] b, int bp, int[] off, int[] c, int c0, int ldc) {
        int s00 = 0, s01 = 0, s02 = 0, s03 = 0;
        int s10 = 0, s11 = 0, s12 = 0, s13 = 0;
        int a1 = a0 + depth;
        for (int r = 0; r < depth; r++) {
            int q = bp + off[r];
            long b0 = b[q];
            long b1 = b[q + 1];
            long b2 = b[q + 2];
            long b3 = b[q + 3];
            long x = a[a0 + r];
            long y = a[a1 + r];
            s00 += Long.bitCount(x ^ b0);
            s01 += Long.bitCount(x ^ b1);
            s02 += Long.bitCount(x ^ b2);
            s03 += Long.bitCount(x ^ b3);
            s10 += Long.bitCount(y ^ b0);
            s11 += Long.bitCount(y ^ b1);
            s12 += Long.bitCount(y ^ b2);
            s13 += Long.bitCount(y ^ b3);
        }
        c[c0] = s00;
        c[c0 + 1] = s01;
        c[c0 + 2] = s02;
        c[c0 + 3] = s03;
        int c1 = c0 + ldc;
        c[c1] = s10;
        c[c1 + 1] = s11;
        c[c1 + 2] = s12;
        c[c1 + 3] = s13;
    }

    private static void tile1At(long[] a, int a0, int depth, long[] b, int bp, int[] off, int[] c, int c0) {
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int r = 0; r < depth; r++) {
            int q = bp + off[r];
            long x = a[a0 + r];
            s0 += Long.bitCount(x ^ b[q]);
            s1 += Long.bitCount(x ^ b[q + 1]);
            s2 += Long.bitCount(x ^ b[q + 2]);
            s3 += Long.bitCount(x ^ b[q + 3]);
        }
        c[c0] = s0;
        c[c0 + 1] = s1;
        c[c0 + 2] = s2;
        c[c0 + 3] = s3;
    }

    @Override
    public boolean packSigns(float[] x, int offset, int count, long[] out, int outOffset) {
        return BinaryGemm.packSignsScalar(x, offset, count, out, outOffset);
    }

    @Override
    public boolean packChannels(float[] x, int offset, int channels, int plane, long[] out, int outOffset, int outStride) {
        return BinaryGemm.packChannelsScalar(x, offset, channels, plane, 0, plane, out, outOffset, outStride);
    }
}
