package dev.onebit.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link BinaryGemm} on the Vector API. {@link VectorOperators#BIT_COUNT} on a
 * {@link LongVector} becomes {@code vpopcntq} where AVX-512 VPOPCNTDQ exists, so one
 * XOR-popcount-add step handles eight 64-bit words.
 *
 * <p>The register tile is six rows of {@code A} by four vectors of {@code B} columns: 24
 * accumulators, each step of the dot product loading four vectors of the packed {@code B}
 * panel and broadcasting six words of {@code A} (a broadcast from memory is a load, not a
 * shuffle), then 24 XOR, popcount and add. Lanes are output columns, so a finished tile row
 * is stored as it is, narrowed to ints, with no transposition. Leftover rows use four-, two-
 * and one-row tiles.
 *
 * <p>Sign packing compares float vectors with zero and turns the lane masks into bits:
 * across channels a masked OR of the channel's bit into one word per pixel lane, along a
 * row the mask's bits directly ({@link VectorMask#toLong()}). The ±1 check rides along.
 *
 * <p>Loaded reflectively by {@link Kernels} only when {@code jdk.incubator.vector} is present.
 */
public final class VectorBinaryGemm implements BinaryGemm {
    private static final VectorSpecies<Long> L = LongVector.SPECIES_PREFERRED;
    private static final int V = L.length();
    /** Floats and ints with as many lanes as {@link #L}, to move between them lane for lane. */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(32 * V));
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(32 * V));
    /** The widest float vector, for packing along a row. */
    private static final VectorSpecies<Float> FW = FloatVector.SPECIES_PREFERRED;
    private static final int P = 4 * V;
    /** Groups of columns (vectors) per panel. */
    private static final int Q = P / V;

    /** Creates the implementation; it holds no state. */
    public VectorBinaryGemm() {
    }

    @Override
    public int panelColumns() {
        return P;
    }

    @Override
    public int groupColumns() {
        return V;
    }

    @Override
    public String name() {
        return "vector-" + V + "x4";
    }

    @Override
    public void popcounts(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int columns,
                          int[] c, int cOffset, int ldc) {
        int panels = columns / P;
        int tail = columns - panels * P;
        if (tail > 3 * V) {
            panels++;
            tail = 0;
        }
        fullPanels(a, aOffset, rows, depth, b, bOffset, panels, c, cOffset, ldc);
        // A last panel with one to three vectors of real columns (a 7x7 map is 32 + 17
        // positions): only those vectors, one at a time, instead of four.
        int bp = bOffset + panels * depth * P;
        int cp = cOffset + panels * P;
        for (int v = 0; v * V < tail; v++) {
            int i = 0;
            for (; i + 6 <= rows; i += 6) {
                column6(a, aOffset + i * depth, depth, b, bp + v * V, c, cp + i * ldc + v * V, ldc);
            }
            for (; i < rows; i++) {
                column1(a, aOffset + i * depth, depth, b, bp + v * V, c, cp + i * ldc + v * V);
            }
        }
    }

    private static void fullPanels(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int panels,
                                   int[] c, int cOffset, int ldc) {
        for (int p = 0; p < panels; p++) {
            int bp = bOffset + p * depth * P;
            int cp = cOffset + p * P;
            int i = 0;
            for (; i + 6 <= rows; i += 6) {
                tile6(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc, ldc);
            }
            // The rest (CNN widths leave 2 or 4 rows) in the widest tiles that fit: a one-row tile
            // loads four vectors of B per broadcast word, and would cost as much as a full tile.
            if (i + 4 <= rows) {
                tile4(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc, ldc);
                i += 4;
            }
            if (i + 2 <= rows) {
                tile2(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc, ldc);
                i += 2;
            }
            for (; i < rows; i++) {
                tile1(a, aOffset + i * depth, depth, b, bp, c, cp + i * ldc);
            }
        }
    }

    /*
     * The tiles spell out every XOR-popcount-add and store instead of calling small helpers:
     * with helpers C2 ran into its inlining node budget in the 24-accumulator tile and kept
     * the accumulators boxed across the loop, about a hundred times slower.
     */

    private static void tile6(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        LongVector s20 = z, s21 = z, s22 = z, s23 = z;
        LongVector s30 = z, s31 = z, s32 = z, s33 = z;
        LongVector s40 = z, s41 = z, s42 = z, s43 = z;
        LongVector s50 = z, s51 = z, s52 = z, s53 = z;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            LongVector b0 = LongVector.fromArray(L, b, q);
            LongVector b1 = LongVector.fromArray(L, b, q + V);
            LongVector b2 = LongVector.fromArray(L, b, q + 2 * V);
            LongVector b3 = LongVector.fromArray(L, b, q + 3 * V);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x2 = LongVector.broadcast(L, a[ar + 2 * depth]);
            s20 = s20.add(x2.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s21 = s21.add(x2.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s22 = s22.add(x2.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s23 = s23.add(x2.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x3 = LongVector.broadcast(L, a[ar + 3 * depth]);
            s30 = s30.add(x3.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s31 = s31.add(x3.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s32 = s32.add(x3.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s33 = s33.add(x3.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x4 = LongVector.broadcast(L, a[ar + 4 * depth]);
            s40 = s40.add(x4.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s41 = s41.add(x4.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s42 = s42.add(x4.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s43 = s43.add(x4.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x5 = LongVector.broadcast(L, a[ar + 5 * depth]);
            s50 = s50.add(x5.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s51 = s51.add(x5.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s52 = s52.add(x5.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s53 = s53.add(x5.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
        ((IntVector) s20.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s21.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + V);
        ((IntVector) s22.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 2 * V);
        ((IntVector) s23.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 3 * V);
        ((IntVector) s30.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s31.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + V);
        ((IntVector) s32.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 2 * V);
        ((IntVector) s33.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 3 * V);
        ((IntVector) s40.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc);
        ((IntVector) s41.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + V);
        ((IntVector) s42.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + 2 * V);
        ((IntVector) s43.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + 3 * V);
        ((IntVector) s50.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc);
        ((IntVector) s51.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + V);
        ((IntVector) s52.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + 2 * V);
        ((IntVector) s53.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + 3 * V);
    }

    private static void tile4(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        LongVector s20 = z, s21 = z, s22 = z, s23 = z;
        LongVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            LongVector b0 = LongVector.fromArray(L, b, q);
            LongVector b1 = LongVector.fromArray(L, b, q + V);
            LongVector b2 = LongVector.fromArray(L, b, q + 2 * V);
            LongVector b3 = LongVector.fromArray(L, b, q + 3 * V);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x2 = LongVector.broadcast(L, a[ar + 2 * depth]);
            s20 = s20.add(x2.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s21 = s21.add(x2.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s22 = s22.add(x2.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s23 = s23.add(x2.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x3 = LongVector.broadcast(L, a[ar + 3 * depth]);
            s30 = s30.add(x3.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s31 = s31.add(x3.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s32 = s32.add(x3.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s33 = s33.add(x3.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
        ((IntVector) s20.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s21.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + V);
        ((IntVector) s22.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 2 * V);
        ((IntVector) s23.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 3 * V);
        ((IntVector) s30.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s31.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + V);
        ((IntVector) s32.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 2 * V);
        ((IntVector) s33.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 3 * V);
    }

    private static void tile2(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            LongVector b0 = LongVector.fromArray(L, b, q);
            LongVector b1 = LongVector.fromArray(L, b, q + V);
            LongVector b2 = LongVector.fromArray(L, b, q + 2 * V);
            LongVector b3 = LongVector.fromArray(L, b, q + 3 * V);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
    }

    private static void tile1(long[] a, int a0, int depth, long[] b, int bp, int[] c, int c0) {
        LongVector z = LongVector.zero(L);
        LongVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (int r = 0; r < depth; r++) {
            int q = bp + r * P;
            LongVector x = LongVector.broadcast(L, a[a0 + r]);
            s0 = s0.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q)).lanewise(VectorOperators.BIT_COUNT));
            s1 = s1.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q + V)).lanewise(VectorOperators.BIT_COUNT));
            s2 = s2.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q + 2 * V)).lanewise(VectorOperators.BIT_COUNT));
            s3 = s3.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q + 3 * V)).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s0.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s1.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s2.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s3.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
    }

    /** Six rows by one vector of columns, for a last panel's real columns. */
    private static void column6(long[] a, int a0, int depth, long[] b, int bq, int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s0 = z, s1 = z, s2 = z, s3 = z, s4 = z, s5 = z;
        for (int r = 0; r < depth; r++) {
            LongVector bv = LongVector.fromArray(L, b, bq + r * P);
            int ar = a0 + r;
            s0 = s0.add(bv.lanewise(VectorOperators.XOR, a[ar]).lanewise(VectorOperators.BIT_COUNT));
            s1 = s1.add(bv.lanewise(VectorOperators.XOR, a[ar + depth]).lanewise(VectorOperators.BIT_COUNT));
            s2 = s2.add(bv.lanewise(VectorOperators.XOR, a[ar + 2 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s3 = s3.add(bv.lanewise(VectorOperators.XOR, a[ar + 3 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s4 = s4.add(bv.lanewise(VectorOperators.XOR, a[ar + 4 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s5 = s5.add(bv.lanewise(VectorOperators.XOR, a[ar + 5 * depth]).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s0.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s1.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s2.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s3.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s4.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc);
        ((IntVector) s5.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc);
    }

    private static void column1(long[] a, int a0, int depth, long[] b, int bq, int[] c, int c0) {
        LongVector s = LongVector.zero(L);
        for (int r = 0; r < depth; r++) {
            s = s.add(LongVector.fromArray(L, b, bq + r * P).lanewise(VectorOperators.XOR, a[a0 + r])
                    .lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
    }

    @Override
    public void popcountsInPlace(long[] a, int aOffset, int rows, int depth, long[] b, int bOffset, int[] starts,
                                 int startsOffset, int[] rowOffsets, int columns, int[] c, int cOffset, int ldc) {
        int panels = columns / P;
        int tail = columns - panels * P;
        if (tail > 3 * V) {
            panels++;
            tail = 0;
        }
        for (int p = 0; p < panels; p++) {
            int s = startsOffset + p * Q;
            int q0 = bOffset + starts[s];
            int q1 = bOffset + starts[s + 1];
            int q2 = bOffset + starts[s + 2];
            int q3 = bOffset + starts[s + 3];
            int cp = cOffset + p * P;
            int i = 0;
            for (; i + 6 <= rows; i += 6) {
                tile6At(a, aOffset + i * depth, depth, b, q0, q1, q2, q3, rowOffsets, c, cp + i * ldc, ldc);
            }
            if (i + 4 <= rows) {
                tile4At(a, aOffset + i * depth, depth, b, q0, q1, q2, q3, rowOffsets, c, cp + i * ldc, ldc);
                i += 4;
            }
            if (i + 2 <= rows) {
                tile2At(a, aOffset + i * depth, depth, b, q0, q1, q2, q3, rowOffsets, c, cp + i * ldc, ldc);
                i += 2;
            }
            for (; i < rows; i++) {
                tile1At(a, aOffset + i * depth, depth, b, q0, q1, q2, q3, rowOffsets, c, cp + i * ldc);
            }
        }
        int sp = startsOffset + panels * Q;
        int cp = cOffset + panels * P;
        for (int v = 0; v * V < tail; v++) {
            int q = bOffset + starts[sp + v];
            int i = 0;
            for (; i + 6 <= rows; i += 6) {
                column6At(a, aOffset + i * depth, depth, b, q, rowOffsets, c, cp + i * ldc + v * V, ldc);
            }
            for (; i < rows; i++) {
                column1At(a, aOffset + i * depth, depth, b, q, rowOffsets, c, cp + i * ldc + v * V);
            }
        }
    }

    /*
     * The tiles of popcountsInPlace: those above with each of the four vectors of B loaded from
     * its group's start plus the row's offset. Copies, because the panel tiles' fixed stride
     * between rows is what lets C2 hoist their bounds checks (one family for both made
     * 256->256 @14x14 6% slower).
     */

    private static void tile6At(long[] a, int a0, int depth, long[] b, int q0, int q1, int q2, int q3, int[] off,
                                int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        LongVector s20 = z, s21 = z, s22 = z, s23 = z;
        LongVector s30 = z, s31 = z, s32 = z, s33 = z;
        LongVector s40 = z, s41 = z, s42 = z, s43 = z;
        LongVector s50 = z, s51 = z, s52 = z, s53 = z;
        for (int r = 0; r < depth; r++) {
            int o = off[r];
            LongVector b0 = LongVector.fromArray(L, b, q0 + o);
            LongVector b1 = LongVector.fromArray(L, b, q1 + o);
            LongVector b2 = LongVector.fromArray(L, b, q2 + o);
            LongVector b3 = LongVector.fromArray(L, b, q3 + o);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x2 = LongVector.broadcast(L, a[ar + 2 * depth]);
            s20 = s20.add(x2.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s21 = s21.add(x2.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s22 = s22.add(x2.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s23 = s23.add(x2.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x3 = LongVector.broadcast(L, a[ar + 3 * depth]);
            s30 = s30.add(x3.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s31 = s31.add(x3.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s32 = s32.add(x3.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s33 = s33.add(x3.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x4 = LongVector.broadcast(L, a[ar + 4 * depth]);
            s40 = s40.add(x4.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s41 = s41.add(x4.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s42 = s42.add(x4.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s43 = s43.add(x4.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x5 = LongVector.broadcast(L, a[ar + 5 * depth]);
            s50 = s50.add(x5.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s51 = s51.add(x5.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s52 = s52.add(x5.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s53 = s53.add(x5.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
        ((IntVector) s20.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s21.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + V);
        ((IntVector) s22.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 2 * V);
        ((IntVector) s23.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 3 * V);
        ((IntVector) s30.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s31.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + V);
        ((IntVector) s32.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 2 * V);
        ((IntVector) s33.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 3 * V);
        ((IntVector) s40.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc);
        ((IntVector) s41.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + V);
        ((IntVector) s42.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + 2 * V);
        ((IntVector) s43.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc + 3 * V);
        ((IntVector) s50.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc);
        ((IntVector) s51.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + V);
        ((IntVector) s52.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + 2 * V);
        ((IntVector) s53.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc + 3 * V);
    }

    private static void tile4At(long[] a, int a0, int depth, long[] b, int q0, int q1, int q2, int q3, int[] off,
                                int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        LongVector s20 = z, s21 = z, s22 = z, s23 = z;
        LongVector s30 = z, s31 = z, s32 = z, s33 = z;
        for (int r = 0; r < depth; r++) {
            int o = off[r];
            LongVector b0 = LongVector.fromArray(L, b, q0 + o);
            LongVector b1 = LongVector.fromArray(L, b, q1 + o);
            LongVector b2 = LongVector.fromArray(L, b, q2 + o);
            LongVector b3 = LongVector.fromArray(L, b, q3 + o);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x2 = LongVector.broadcast(L, a[ar + 2 * depth]);
            s20 = s20.add(x2.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s21 = s21.add(x2.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s22 = s22.add(x2.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s23 = s23.add(x2.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x3 = LongVector.broadcast(L, a[ar + 3 * depth]);
            s30 = s30.add(x3.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s31 = s31.add(x3.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s32 = s32.add(x3.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s33 = s33.add(x3.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
        ((IntVector) s20.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s21.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + V);
        ((IntVector) s22.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 2 * V);
        ((IntVector) s23.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc + 3 * V);
        ((IntVector) s30.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s31.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + V);
        ((IntVector) s32.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 2 * V);
        ((IntVector) s33.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc + 3 * V);
    }

    private static void tile2At(long[] a, int a0, int depth, long[] b, int q0, int q1, int q2, int q3, int[] off,
                                int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s00 = z, s01 = z, s02 = z, s03 = z;
        LongVector s10 = z, s11 = z, s12 = z, s13 = z;
        for (int r = 0; r < depth; r++) {
            int o = off[r];
            LongVector b0 = LongVector.fromArray(L, b, q0 + o);
            LongVector b1 = LongVector.fromArray(L, b, q1 + o);
            LongVector b2 = LongVector.fromArray(L, b, q2 + o);
            LongVector b3 = LongVector.fromArray(L, b, q3 + o);
            int ar = a0 + r;
            LongVector x0 = LongVector.broadcast(L, a[ar]);
            s00 = s00.add(x0.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s01 = s01.add(x0.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s02 = s02.add(x0.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s03 = s03.add(x0.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
            LongVector x1 = LongVector.broadcast(L, a[ar + depth]);
            s10 = s10.add(x1.lanewise(VectorOperators.XOR, b0).lanewise(VectorOperators.BIT_COUNT));
            s11 = s11.add(x1.lanewise(VectorOperators.XOR, b1).lanewise(VectorOperators.BIT_COUNT));
            s12 = s12.add(x1.lanewise(VectorOperators.XOR, b2).lanewise(VectorOperators.BIT_COUNT));
            s13 = s13.add(x1.lanewise(VectorOperators.XOR, b3).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s00.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s01.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s02.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s03.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
        ((IntVector) s10.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s11.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + V);
        ((IntVector) s12.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 2 * V);
        ((IntVector) s13.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc + 3 * V);
    }

    private static void tile1At(long[] a, int a0, int depth, long[] b, int q0, int q1, int q2, int q3, int[] off,
                                int[] c, int c0) {
        LongVector z = LongVector.zero(L);
        LongVector s0 = z, s1 = z, s2 = z, s3 = z;
        for (int r = 0; r < depth; r++) {
            int o = off[r];
            LongVector x = LongVector.broadcast(L, a[a0 + r]);
            s0 = s0.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q0 + o)).lanewise(VectorOperators.BIT_COUNT));
            s1 = s1.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q1 + o)).lanewise(VectorOperators.BIT_COUNT));
            s2 = s2.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q2 + o)).lanewise(VectorOperators.BIT_COUNT));
            s3 = s3.add(x.lanewise(VectorOperators.XOR, LongVector.fromArray(L, b, q3 + o)).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s0.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s1.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + V);
        ((IntVector) s2.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * V);
        ((IntVector) s3.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * V);
    }

    /** {@link #column6} from a group's start. */
    private static void column6At(long[] a, int a0, int depth, long[] b, int q, int[] off, int[] c, int c0, int ldc) {
        LongVector z = LongVector.zero(L);
        LongVector s0 = z, s1 = z, s2 = z, s3 = z, s4 = z, s5 = z;
        for (int r = 0; r < depth; r++) {
            LongVector bv = LongVector.fromArray(L, b, q + off[r]);
            int ar = a0 + r;
            s0 = s0.add(bv.lanewise(VectorOperators.XOR, a[ar]).lanewise(VectorOperators.BIT_COUNT));
            s1 = s1.add(bv.lanewise(VectorOperators.XOR, a[ar + depth]).lanewise(VectorOperators.BIT_COUNT));
            s2 = s2.add(bv.lanewise(VectorOperators.XOR, a[ar + 2 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s3 = s3.add(bv.lanewise(VectorOperators.XOR, a[ar + 3 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s4 = s4.add(bv.lanewise(VectorOperators.XOR, a[ar + 4 * depth]).lanewise(VectorOperators.BIT_COUNT));
            s5 = s5.add(bv.lanewise(VectorOperators.XOR, a[ar + 5 * depth]).lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s0.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
        ((IntVector) s1.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + ldc);
        ((IntVector) s2.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 2 * ldc);
        ((IntVector) s3.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 3 * ldc);
        ((IntVector) s4.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 4 * ldc);
        ((IntVector) s5.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0 + 5 * ldc);
    }

    private static void column1At(long[] a, int a0, int depth, long[] b, int q, int[] off, int[] c, int c0) {
        LongVector s = LongVector.zero(L);
        for (int r = 0; r < depth; r++) {
            s = s.add(LongVector.fromArray(L, b, q + off[r]).lanewise(VectorOperators.XOR, a[a0 + r])
                    .lanewise(VectorOperators.BIT_COUNT));
        }
        ((IntVector) s.convertShape(VectorOperators.L2I, I, 0)).intoArray(c, c0);
    }

    /** Ints with as many lanes as {@link #FW}, for the float output pass. */
    private static final VectorSpecies<Integer> IW = FW.withLanes(int.class);

    @Override
    public void gather(long[] words, int base, int[] index, int indexOffset, long[] out, int outOffset, int n) {
        int i = 0;
        for (int end = L.loopBound(n); i < end; i += V) {
            LongVector.fromArray(L, words, base, index, indexOffset + i).intoArray(out, outOffset + i);
        }
        BinaryGemm.gatherScalar(words, base, index, indexOffset, out, outOffset, i, n);
    }

    @Override
    public void gatherShifted(long[] words, int base, int[] index, int indexOffset, int shift, long[] out,
                              int outOffset, int n) {
        int i = 0;
        for (int end = L.loopBound(n); i < end; i += V) {
            LongVector.fromArray(L, words, base, index, indexOffset + i).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.OR, LongVector.fromArray(L, out, outOffset + i)).intoArray(out, outOffset + i);
        }
        BinaryGemm.gatherShiftedScalar(words, base, index, indexOffset, shift, out, outOffset, i, n);
    }

    @Override
    public void orShifted(long[] words, int from, int shift, long[] out, int outOffset, int n) {
        int i = 0;
        for (int end = L.loopBound(n); i < end; i += V) {
            LongVector.fromArray(L, words, from + i).lanewise(VectorOperators.LSHL, shift)
                    .lanewise(VectorOperators.OR, LongVector.fromArray(L, out, outOffset + i)).intoArray(out, outOffset + i);
        }
        BinaryGemm.orShiftedScalar(words, from, shift, out, outOffset, i, n);
    }

    @Override
    public void affine(int[] pop, int popOffset, int full, float alpha, float[] scale, int scaleOffset, float add,
                       float[] y, int yOffset, int n) {
        int fl = FW.length();
        IntVector f = IntVector.broadcast(IW, full);
        FloatVector a = FloatVector.broadcast(FW, alpha);
        FloatVector b = FloatVector.broadcast(FW, add);
        if (n < fl) {
            BinaryGemm.affineScalar(pop, popOffset, full, alpha, scale, scaleOffset, add, y, yOffset, 0, n);
            return;
        }
        // Lane for lane the scalar expression: exact int dot, exact conversion, then mul (mul) add,
        // each rounded. A last vector ending at n overlaps the one before and writes its lanes
        // again with the same values (each output depends on its own inputs only), instead of a
        // scalar tail: the 7x7 and 14x14 maps have tails on every channel.
        if (scale == null) {
            for (int j0 = 0; j0 < n; j0 += fl) {
                int j = Math.min(j0, n - fl);
                IntVector p = IntVector.fromArray(IW, pop, popOffset + j);
                FloatVector d = (FloatVector) f.sub(p.add(p)).convert(VectorOperators.I2F, 0);
                a.mul(d).add(b).intoArray(y, yOffset + j);
            }
        } else {
            for (int j0 = 0; j0 < n; j0 += fl) {
                int j = Math.min(j0, n - fl);
                IntVector p = IntVector.fromArray(IW, pop, popOffset + j);
                FloatVector d = (FloatVector) f.sub(p.add(p)).convert(VectorOperators.I2F, 0);
                a.mul(d).mul(FloatVector.fromArray(FW, scale, scaleOffset + j)).add(b).intoArray(y, yOffset + j);
            }
        }
    }

    @Override
    public void affineCorrected(int[] pop, int popOffset, int[] corr, int corrOffset, int full, float alpha,
                                float[] scale, int scaleOffset, float add, float[] y, int yOffset, int n) {
        int fl = FW.length();
        IntVector f = IntVector.broadcast(IW, full);
        FloatVector a = FloatVector.broadcast(FW, alpha);
        FloatVector b = FloatVector.broadcast(FW, add);
        if (n < fl) {
            BinaryGemm.affineCorrectedScalar(pop, popOffset, corr, corrOffset, full, alpha, scale, scaleOffset, add, y,
                    yOffset, 0, n);
            return;
        }
        // As affine (overlapping last vector included), on pop + corr (exact int adds).
        if (scale == null) {
            for (int j0 = 0; j0 < n; j0 += fl) {
                int j = Math.min(j0, n - fl);
                IntVector p = IntVector.fromArray(IW, pop, popOffset + j).add(IntVector.fromArray(IW, corr, corrOffset + j));
                FloatVector d = (FloatVector) f.sub(p.add(p)).convert(VectorOperators.I2F, 0);
                a.mul(d).add(b).intoArray(y, yOffset + j);
            }
        } else {
            for (int j0 = 0; j0 < n; j0 += fl) {
                int j = Math.min(j0, n - fl);
                IntVector p = IntVector.fromArray(IW, pop, popOffset + j).add(IntVector.fromArray(IW, corr, corrOffset + j));
                FloatVector d = (FloatVector) f.sub(p.add(p)).convert(VectorOperators.I2F, 0);
                a.mul(d).mul(FloatVector.fromArray(FW, scale, scaleOffset + j)).add(b).intoArray(y, yOffset + j);
            }
        }
    }

    @Override
    public void addInts(int[] x, int xOffset, int[] add, int addOffset, int n) {
        int end = IW.loopBound(n);
        int j = 0;
        for (; j < end; j += IW.length()) {
            IntVector.fromArray(IW, x, xOffset + j).add(IntVector.fromArray(IW, add, addOffset + j))
                    .intoArray(x, xOffset + j);
        }
        BinaryGemm.addIntsScalar(x, xOffset, add, addOffset, j, n);
    }

    @Override
    public void signBits(int[] pop, int popOffset, int threshold, boolean flip, int bit, long[] out, int outOffset,
                         int n) {
        int end = I.loopBound(n);
        IntVector t = IntVector.broadcast(I, threshold);
        long b = 1L << bit;
        int j = 0;
        for (; j < end; j += V) {
            VectorMask<Integer> ge = IntVector.fromArray(I, pop, popOffset + j).compare(VectorOperators.GE, t);
            VectorMask<Long> neg = (flip ? ge.not() : ge).cast(L);
            LongVector.fromArray(L, out, outOffset + j).lanewise(VectorOperators.OR, b, neg).intoArray(out, outOffset + j);
        }
        BinaryGemm.signBitsScalar(pop, popOffset, threshold, flip, bit, out, outOffset, j, n);
    }

    @Override
    public void signBits4(int[] pop, int popOffset, int ldc, int[] threshold, boolean[] flip, int t, int bit0,
                          long[] out, int outOffset, int n) {
        int end = I.loopBound(n);
        IntVector t0 = IntVector.broadcast(I, threshold[t]);
        IntVector t1 = IntVector.broadcast(I, threshold[t + 1]);
        IntVector t2 = IntVector.broadcast(I, threshold[t + 2]);
        IntVector t3 = IntVector.broadcast(I, threshold[t + 3]);
        boolean f0 = flip[t];
        boolean f1 = flip[t + 1];
        boolean f2 = flip[t + 2];
        boolean f3 = flip[t + 3];
        long b0 = 1L << bit0;
        int j = 0;
        for (; j < end; j += V) {
            int at = popOffset + j;
            VectorMask<Integer> g0 = IntVector.fromArray(I, pop, at).compare(VectorOperators.GE, t0);
            VectorMask<Integer> g1 = IntVector.fromArray(I, pop, at + ldc).compare(VectorOperators.GE, t1);
            VectorMask<Integer> g2 = IntVector.fromArray(I, pop, at + 2 * ldc).compare(VectorOperators.GE, t2);
            VectorMask<Integer> g3 = IntVector.fromArray(I, pop, at + 3 * ldc).compare(VectorOperators.GE, t3);
            LongVector w = LongVector.fromArray(L, out, outOffset + j)
                    .lanewise(VectorOperators.OR, b0, (f0 ? g0.not() : g0).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 1, (f1 ? g1.not() : g1).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 2, (f2 ? g2.not() : g2).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 3, (f3 ? g3.not() : g3).cast(L));
            w.intoArray(out, outOffset + j);
        }
        BinaryGemm.signBits4Scalar(pop, popOffset, ldc, threshold, flip, t, bit0, out, outOffset, j, n);
    }

    @Override
    public void signs(float[] x, int offset, float[] y, int yOffset, int n) {
        int fl = FW.length();
        int end = FW.loopBound(n);
        FloatVector plus = FloatVector.broadcast(FW, 1f);
        FloatVector minus = FloatVector.broadcast(FW, -1f);
        int i = 0;
        for (; i < end; i += fl) {
            FloatVector v = FloatVector.fromArray(FW, x, offset + i);
            // LT is false for -0.0 and NaN: both give +1, as the scalar compare.
            plus.blend(minus, v.compare(VectorOperators.LT, 0f)).intoArray(y, yOffset + i);
        }
        BinaryGemm.signsScalar(x, offset, y, yOffset, i, n);
    }

    /** Bits of |1f|: x is -1 or +1 exactly when its bits without the sign bit are these. */
    private static final int ONE = Float.floatToRawIntBits(1f);
    /** Pixels per tile of {@link #packChannels}: a multiple of every lane count, 2 KB of words. */
    private static final int PACK_TILE = 256;

    /*
     * The ±1 check costs two bitwise operations per vector and no masks: the OR and the AND of
     * all values' bits. Every |x| has the bits of 1f exactly when the OR and the AND, sign bit
     * cleared, both equal them (each value lies bitwise between the AND and the OR).
     */
    private static boolean allOnes(IntVector or, IntVector and) {
        return or.and(0x7FFFFFFF).compare(VectorOperators.EQ, ONE).allTrue()
                && and.and(0x7FFFFFFF).compare(VectorOperators.EQ, ONE).allTrue();
    }

    @Override
    public boolean packSigns(float[] x, int offset, int count, long[] out, int outOffset) {
        int fl = FW.length();
        if (64 % fl != 0) {
            return BinaryGemm.packSignsScalar(x, offset, count, out, outOffset);
        }
        int full = count / 64;
        IntVector or = IntVector.zero(FW.withLanes(int.class)).or(ONE);
        IntVector and = or;
        for (int w = 0; w < full; w++) {
            long word = 0;
            int src = offset + w * 64;
            for (int k = 0; k < 64; k += fl) {
                FloatVector v = FloatVector.fromArray(FW, x, src + k);
                word |= v.compare(VectorOperators.LT, 0f).toLong() << k;
                IntVector bits = v.reinterpretAsInts();
                or = or.or(bits);
                and = and.and(bits);
            }
            out[outOffset + w] = word;
        }
        boolean signs = allOnes(or, and);
        if (full * 64 < count) {
            signs &= BinaryGemm.packSignsScalar(x, offset + full * 64, count - full * 64, out, outOffset + full);
        }
        return signs;
    }

    /**
     * One channel's signs over pixels {@code t0..t1-1} of a tile ORed into their words; true
     * when every value was ±1. A method of its own, called hundreds of times per pack: compiled
     * inside packChannels, whose first calls are long (a 56x56 plane), the loop was sometimes
     * compiled on-stack into code six times slower than this.
     */
    private static boolean packTile(float[] x, int src, long[] out, int o, int t0, int t1, long bit) {
        IntVector or = IntVector.zero(I).or(ONE);
        IntVector and = or;
        for (int p = t0; p < t1; p += V) {
            FloatVector v = FloatVector.fromArray(F, x, src + p);
            VectorMask<Long> neg = v.compare(VectorOperators.LT, 0f).cast(L);
            LongVector.fromArray(L, out, o + p).lanewise(VectorOperators.OR, bit, neg).intoArray(out, o + p);
            IntVector bits = v.reinterpretAsInts();
            or = or.or(bits);
            and = and.and(bits);
        }
        return allOnes(or, and);
    }

    /**
     * {@link #packTile} for four channels (planes {@code plane} apart, bits {@code bit0} up):
     * each word is read and written once for the four.
     */
    private static boolean packTile4(float[] x, int src, int plane, long[] out, int o, int t0, int t1, int bit0) {
        IntVector or = IntVector.zero(I).or(ONE);
        IntVector and = or;
        long b0 = 1L << bit0;
        for (int p = t0; p < t1; p += V) {
            FloatVector v0 = FloatVector.fromArray(F, x, src + p);
            FloatVector v1 = FloatVector.fromArray(F, x, src + plane + p);
            FloatVector v2 = FloatVector.fromArray(F, x, src + 2 * plane + p);
            FloatVector v3 = FloatVector.fromArray(F, x, src + 3 * plane + p);
            LongVector.fromArray(L, out, o + p)
                    .lanewise(VectorOperators.OR, b0, v0.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 1, v1.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 2, v2.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 3, v3.compare(VectorOperators.LT, 0f).cast(L))
                    .intoArray(out, o + p);
            IntVector i0 = v0.reinterpretAsInts();
            IntVector i1 = v1.reinterpretAsInts();
            IntVector i2 = v2.reinterpretAsInts();
            IntVector i3 = v3.reinterpretAsInts();
            or = or.or(i0).or(i1).or(i2).or(i3);
            and = and.and(i0).and(i1).and(i2).and(i3);
        }
        return allOnes(or, and);
    }

    /**
     * {@link #packTile} without the ±1 check, adding |max(v, 0)| of the channel to the tile's
     * sums ({@link #packChannelsAndSums}).
     */
    private static void packTileSums(float[] x, int src, long[] out, int o, int t0, int t1, long bit, float[] sums,
                                     int so) {
        for (int p = t0; p < t1; p += V) {
            FloatVector v = FloatVector.fromArray(F, x, src + p);
            VectorMask<Long> neg = v.compare(VectorOperators.LT, 0f).cast(L);
            LongVector.fromArray(L, out, o + p).lanewise(VectorOperators.OR, bit, neg).intoArray(out, o + p);
            FloatVector.fromArray(F, sums, so + p).add(v.max(0f).abs()).intoArray(sums, so + p);
        }
    }

    /** {@link #packTile4} without the ±1 check, adding the four channels' |max(v, 0)| in order. */
    private static void packTile4Sums(float[] x, int src, int plane, long[] out, int o, int t0, int t1, int bit0,
                                      float[] sums, int so) {
        long b0 = 1L << bit0;
        for (int p = t0; p < t1; p += V) {
            FloatVector v0 = FloatVector.fromArray(F, x, src + p);
            FloatVector v1 = FloatVector.fromArray(F, x, src + plane + p);
            FloatVector v2 = FloatVector.fromArray(F, x, src + 2 * plane + p);
            FloatVector v3 = FloatVector.fromArray(F, x, src + 3 * plane + p);
            LongVector.fromArray(L, out, o + p)
                    .lanewise(VectorOperators.OR, b0, v0.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 1, v1.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 2, v2.compare(VectorOperators.LT, 0f).cast(L))
                    .lanewise(VectorOperators.OR, b0 << 3, v3.compare(VectorOperators.LT, 0f).cast(L))
                    .intoArray(out, o + p);
            FloatVector.fromArray(F, sums, so + p).add(v0.max(0f).abs()).add(v1.max(0f).abs())
                    .add(v2.max(0f).abs()).add(v3.max(0f).abs()).intoArray(sums, so + p);
        }
    }

    @Override
    public boolean packChannels(float[] x, int offset, int channels, int plane, long[] out, int outOffset, int outStride) {
        return pack(x, offset, channels, plane, out, outOffset, outStride, null, 0);
    }

    @Override
    public void packChannelsAndSums(float[] x, int offset, int channels, int plane, long[] out, int outOffset,
                                    int outStride, float[] sums, int sumOffset) {
        pack(x, offset, channels, plane, out, outOffset, outStride, sums, sumOffset);
    }

    /** {@link #packChannels}, and with {@code sums} not null the sums of {@link #packChannelsAndSums}. */
    private boolean pack(float[] x, int offset, int channels, int plane, long[] out, int outOffset, int outStride,
                         float[] sums, int sumOffset) {
        int vecEnd = plane - plane % V;
        boolean signs = true;
        for (int c0 = 0; c0 < channels; c0 += 64) {
            int o = outOffset + (c0 >>> 6) * outStride;
            int c1 = Math.min(channels, c0 + 64);
            // Pixels in tiles, channel by channel within a tile. Walking all 64 channels at one
            // pixel instead reads 64 rows a plane apart; for planes of a few thousand pixels
            // those rows fall in a handful of L1 sets and evict each other (3 ns a float on a
            // 112x112 plane, 10x slower). A tile's words (and sums) stay in L1 between channels.
            for (int t0 = 0; t0 < vecEnd; t0 += PACK_TILE) {
                int t1 = Math.min(vecEnd, t0 + PACK_TILE);
                for (int p = t0; p < t1; p += V) {
                    LongVector.zero(L).intoArray(out, o + p);
                }
                int c = c0;
                for (; c + 4 <= c1; c += 4) {
                    int src = offset + c * plane;
                    if (sums == null) {
                        signs &= packTile4(x, src, plane, out, o, t0, t1, c & 63);
                    } else {
                        packTile4Sums(x, src, plane, out, o, t0, t1, c & 63, sums, sumOffset);
                    }
                }
                for (; c < c1; c++) {
                    if (sums == null) {
                        signs &= packTile(x, offset + c * plane, out, o, t0, t1, 1L << (c & 63));
                    } else {
                        packTileSums(x, offset + c * plane, out, o, t0, t1, 1L << (c & 63), sums, sumOffset);
                    }
                }
            }
        }
        if (vecEnd < plane) {
            signs &= BinaryGemm.packChannelsScalar(x, offset, channels, plane, vecEnd, plane, out, outOffset, outStride);
            if (sums != null) {
                BinaryGemm.addReluSumsScalar(x, offset, channels, plane, vecEnd, plane, sums, sumOffset);
            }
        }
        return signs;
    }
}
