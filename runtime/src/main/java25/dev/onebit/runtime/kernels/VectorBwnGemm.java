package dev.onebit.runtime.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BwnGemm} on the Vector API with 512-bit vectors (AVX-512). A table of 16 floats is
 * one vector, and a lookup for 16 columns is {@link IntVector#selectFrom}: the 16 columns'
 * 4-bit patterns, loaded as 16 bytes and widened to ints, select lanes of the table
 * ({@code vpermd}, which uses the low four bits of each index; {@code selectFrom} wraps its
 * indexes the same way, so the low nibble needs no mask and the high one a shift). Lanes are
 * columns, so each sums its column group after group exactly as the scalar loop does, with no
 * reduction across lanes.
 *
 * <p>The register tile is one block (four vectors of columns) by up to four rows: 16
 * accumulators; each step loads the block's 64 pattern bytes of a group pair once for all rows,
 * and a convolution's sums stay in them over all its taps.
 *
 * <p>Loaded reflectively by {@link BwnDense} only when {@code jdk.incubator.vector} is present;
 * its constructor refuses a JVM whose preferred vectors are not 512 bits (a 16-entry table
 * would not be one vector), and {@link BwnDense} then uses the portable engine.
 */
public final class VectorBwnGemm implements BwnGemm {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_512;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_512;
    /** 16 bytes: one pattern byte per lane of {@link #I}. */
    private static final VectorSpecies<Byte> B = ByteVector.SPECIES_128;
    private static final int V = 16;
    /** The sign bit of lane p where bit t of p is set, for t = 0..3: the table's signs. */
    private static final IntVector S0 = signs(0);
    private static final IntVector S1 = signs(1);
    private static final IntVector S2 = signs(2);
    private static final IntVector S3 = signs(3);

    /**
     * Creates the implementation; it holds no state.
     *
     * @throws UnsupportedOperationException when the preferred vectors are not 512 bits
     */
    public VectorBwnGemm() {
        if (FloatVector.SPECIES_PREFERRED.length() != V) {
            throw new UnsupportedOperationException("needs 512-bit vectors, the preferred ones have "
                    + FloatVector.SPECIES_PREFERRED.vectorBitSize() + " bits");
        }
    }

    private static IntVector signs(int t) {
        int[] s = new int[V];
        for (int p = 0; p < V; p++) {
            s[p] = (p >>> t & 1) != 0 ? 0x80000000 : 0;
        }
        return IntVector.fromArray(I, s, 0);
    }

    @Override
    public String name() {
        return "vector-lut16";
    }

    @Override
    public void tables(float[] x, int xOffset, int ldx, int ldi, int rows, int in, float[] t, int tOffset, int ldt) {
        int full = in / 4;
        for (int r = 0; r < rows; r++) {
            int xr = xOffset + r * ldx;
            int tr = tOffset + r * ldt;
            for (int g = 0; g < full; g++) {
                int i = xr + 4 * g * ldi;
                // Lane for lane the scalar ((s0 + s1) + s2) + s3, the negations as sign-bit flips.
                FloatVector a = IntVector.broadcast(I, Float.floatToRawIntBits(x[i])).lanewise(VectorOperators.XOR, S0)
                        .reinterpretAsFloats();
                FloatVector b = IntVector.broadcast(I, Float.floatToRawIntBits(x[i + ldi])).lanewise(VectorOperators.XOR, S1)
                        .reinterpretAsFloats();
                FloatVector c = IntVector.broadcast(I, Float.floatToRawIntBits(x[i + 2 * ldi])).lanewise(VectorOperators.XOR, S2)
                        .reinterpretAsFloats();
                FloatVector d = IntVector.broadcast(I, Float.floatToRawIntBits(x[i + 3 * ldi])).lanewise(VectorOperators.XOR, S3)
                        .reinterpretAsFloats();
                a.add(b).add(c).add(d).intoArray(t, tr + g * TABLE);
            }
        }
        BwnGemm.tablesScalar(x, xOffset, ldx, ldi, rows, in, full, BwnGemm.groups(in), t, tOffset, ldt);
    }

    @Override
    public void products(float[] t, int tOffset, int ldt, int rows, int groups, int[] taps, byte[] w, int wOffset,
                         int blocks, float[] s, int sOffset, int lds) {
        int pairs = groups / 2;
        for (int b = 0; b < blocks; b++) {
            int wb = wOffset + b * taps.length * pairs * BLOCK;
            int sb = sOffset + b * BLOCK;
            int r = 0;
            for (; r + 4 <= rows; r += 4) {
                tile4(t, tOffset + r * ldt, ldt, pairs, taps, w, wb, s, sb + r * lds, lds);
            }
            if (r + 2 <= rows) {
                tile2(t, tOffset + r * ldt, ldt, pairs, taps, w, wb, s, sb + r * lds, lds);
                r += 2;
            }
            if (r < rows) {
                tile1(t, tOffset + r * ldt, pairs, taps, w, wb, s, sb + r * lds);
            }
        }
    }

    /*
     * The tiles spell out every lookup, as VectorBinaryGemm's do: with helper methods C2 ran
     * out of inlining budget in the four-row tile and kept the vectors boxed (200 times slower).
     */

    private static void tile4(float[] t, int t00, int ldt, int pairs, int[] taps, byte[] w, int wb, float[] s, int s0,
                              int lds) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z;
        FloatVector a30 = z, a31 = z, a32 = z, a33 = z;
        int q = wb;
        for (int tap : taps) {
            int t0 = t00 + tap;
            int t1 = t0 + ldt;
            int t2 = t1 + ldt;
            int t3 = t2 + ldt;
            for (int h = 0; h < pairs; h++, q += BLOCK) {
                IntVector e0 = (IntVector) ByteVector.fromArray(B, w, q).convertShape(VectorOperators.B2I, I, 0);
                IntVector e1 = (IntVector) ByteVector.fromArray(B, w, q + V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e2 = (IntVector) ByteVector.fromArray(B, w, q + 2 * V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e3 = (IntVector) ByteVector.fromArray(B, w, q + 3 * V).convertShape(VectorOperators.B2I, I, 0);
                for (int half = 0; half < 2; half++) {
                    int g = (2 * h + half) * TABLE;
                    IntVector u = FloatVector.fromArray(F, t, t0 + g).reinterpretAsInts();
                    a00 = a00.add(e0.selectFrom(u).reinterpretAsFloats());
                    a01 = a01.add(e1.selectFrom(u).reinterpretAsFloats());
                    a02 = a02.add(e2.selectFrom(u).reinterpretAsFloats());
                    a03 = a03.add(e3.selectFrom(u).reinterpretAsFloats());
                    u = FloatVector.fromArray(F, t, t1 + g).reinterpretAsInts();
                    a10 = a10.add(e0.selectFrom(u).reinterpretAsFloats());
                    a11 = a11.add(e1.selectFrom(u).reinterpretAsFloats());
                    a12 = a12.add(e2.selectFrom(u).reinterpretAsFloats());
                    a13 = a13.add(e3.selectFrom(u).reinterpretAsFloats());
                    u = FloatVector.fromArray(F, t, t2 + g).reinterpretAsInts();
                    a20 = a20.add(e0.selectFrom(u).reinterpretAsFloats());
                    a21 = a21.add(e1.selectFrom(u).reinterpretAsFloats());
                    a22 = a22.add(e2.selectFrom(u).reinterpretAsFloats());
                    a23 = a23.add(e3.selectFrom(u).reinterpretAsFloats());
                    u = FloatVector.fromArray(F, t, t3 + g).reinterpretAsInts();
                    a30 = a30.add(e0.selectFrom(u).reinterpretAsFloats());
                    a31 = a31.add(e1.selectFrom(u).reinterpretAsFloats());
                    a32 = a32.add(e2.selectFrom(u).reinterpretAsFloats());
                    a33 = a33.add(e3.selectFrom(u).reinterpretAsFloats());
                    // The high nibbles for the second group of the pair.
                    e0 = e0.lanewise(VectorOperators.LSHR, 4);
                    e1 = e1.lanewise(VectorOperators.LSHR, 4);
                    e2 = e2.lanewise(VectorOperators.LSHR, 4);
                    e3 = e3.lanewise(VectorOperators.LSHR, 4);
                }
            }
        }
        a00.intoArray(s, s0);
        a01.intoArray(s, s0 + V);
        a02.intoArray(s, s0 + 2 * V);
        a03.intoArray(s, s0 + 3 * V);
        a10.intoArray(s, s0 + lds);
        a11.intoArray(s, s0 + lds + V);
        a12.intoArray(s, s0 + lds + 2 * V);
        a13.intoArray(s, s0 + lds + 3 * V);
        a20.intoArray(s, s0 + 2 * lds);
        a21.intoArray(s, s0 + 2 * lds + V);
        a22.intoArray(s, s0 + 2 * lds + 2 * V);
        a23.intoArray(s, s0 + 2 * lds + 3 * V);
        a30.intoArray(s, s0 + 3 * lds);
        a31.intoArray(s, s0 + 3 * lds + V);
        a32.intoArray(s, s0 + 3 * lds + 2 * V);
        a33.intoArray(s, s0 + 3 * lds + 3 * V);
    }

    private static void tile2(float[] t, int t00, int ldt, int pairs, int[] taps, byte[] w, int wb, float[] s, int s0,
                              int lds) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z;
        int q = wb;
        for (int tap : taps) {
            int t0 = t00 + tap;
            int t1 = t0 + ldt;
            for (int h = 0; h < pairs; h++, q += BLOCK) {
                IntVector e0 = (IntVector) ByteVector.fromArray(B, w, q).convertShape(VectorOperators.B2I, I, 0);
                IntVector e1 = (IntVector) ByteVector.fromArray(B, w, q + V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e2 = (IntVector) ByteVector.fromArray(B, w, q + 2 * V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e3 = (IntVector) ByteVector.fromArray(B, w, q + 3 * V).convertShape(VectorOperators.B2I, I, 0);
                for (int half = 0; half < 2; half++) {
                    int g = (2 * h + half) * TABLE;
                    IntVector u = FloatVector.fromArray(F, t, t0 + g).reinterpretAsInts();
                    a00 = a00.add(e0.selectFrom(u).reinterpretAsFloats());
                    a01 = a01.add(e1.selectFrom(u).reinterpretAsFloats());
                    a02 = a02.add(e2.selectFrom(u).reinterpretAsFloats());
                    a03 = a03.add(e3.selectFrom(u).reinterpretAsFloats());
                    u = FloatVector.fromArray(F, t, t1 + g).reinterpretAsInts();
                    a10 = a10.add(e0.selectFrom(u).reinterpretAsFloats());
                    a11 = a11.add(e1.selectFrom(u).reinterpretAsFloats());
                    a12 = a12.add(e2.selectFrom(u).reinterpretAsFloats());
                    a13 = a13.add(e3.selectFrom(u).reinterpretAsFloats());
                    e0 = e0.lanewise(VectorOperators.LSHR, 4);
                    e1 = e1.lanewise(VectorOperators.LSHR, 4);
                    e2 = e2.lanewise(VectorOperators.LSHR, 4);
                    e3 = e3.lanewise(VectorOperators.LSHR, 4);
                }
            }
        }
        a00.intoArray(s, s0);
        a01.intoArray(s, s0 + V);
        a02.intoArray(s, s0 + 2 * V);
        a03.intoArray(s, s0 + 3 * V);
        a10.intoArray(s, s0 + lds);
        a11.intoArray(s, s0 + lds + V);
        a12.intoArray(s, s0 + lds + 2 * V);
        a13.intoArray(s, s0 + lds + 3 * V);
    }

    private static void tile1(float[] t, int t00, int pairs, int[] taps, byte[] w, int wb, float[] s, int s0) {
        FloatVector z = FloatVector.zero(F);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z;
        int q = wb;
        for (int tap : taps) {
            int t0 = t00 + tap;
            for (int h = 0; h < pairs; h++, q += BLOCK) {
                IntVector e0 = (IntVector) ByteVector.fromArray(B, w, q).convertShape(VectorOperators.B2I, I, 0);
                IntVector e1 = (IntVector) ByteVector.fromArray(B, w, q + V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e2 = (IntVector) ByteVector.fromArray(B, w, q + 2 * V).convertShape(VectorOperators.B2I, I, 0);
                IntVector e3 = (IntVector) ByteVector.fromArray(B, w, q + 3 * V).convertShape(VectorOperators.B2I, I, 0);
                int g = t0 + 2 * h * TABLE;
                IntVector u = FloatVector.fromArray(F, t, g).reinterpretAsInts();
                a0 = a0.add(e0.selectFrom(u).reinterpretAsFloats());
                a1 = a1.add(e1.selectFrom(u).reinterpretAsFloats());
                a2 = a2.add(e2.selectFrom(u).reinterpretAsFloats());
                a3 = a3.add(e3.selectFrom(u).reinterpretAsFloats());
                u = FloatVector.fromArray(F, t, g + TABLE).reinterpretAsInts();
                a0 = a0.add(e0.lanewise(VectorOperators.LSHR, 4).selectFrom(u).reinterpretAsFloats());
                a1 = a1.add(e1.lanewise(VectorOperators.LSHR, 4).selectFrom(u).reinterpretAsFloats());
                a2 = a2.add(e2.lanewise(VectorOperators.LSHR, 4).selectFrom(u).reinterpretAsFloats());
                a3 = a3.add(e3.lanewise(VectorOperators.LSHR, 4).selectFrom(u).reinterpretAsFloats());
            }
        }
        a0.intoArray(s, s0);
        a1.intoArray(s, s0 + V);
        a2.intoArray(s, s0 + 2 * V);
        a3.intoArray(s, s0 + 3 * V);
    }
}
