package dev.onebit.runtime.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register tiles of {@link VectorGemm}: {@code k<v>x6} multiplies a panel of {@code v}
 * vectors of rows by six columns of {@code B}, {@code k<v>x1} by one column, over dot-product
 * steps {@code k0..k1-1}. Accumulators start from {@code init} (column {@code j}'s at
 * {@code initOff + j * initStride}) and end in {@code out} at {@code outOff + j * h}.
 *
 * <p>Every accumulator is spelled out as its own local: C2 keeps FloatVector locals in
 * registers only when it sees each one's exact class, which is also why they start from array
 * loads rather than from FloatVector parameters (those make it fall back to boxed vectors).
 */
final class VectorTiles {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();

    private VectorTiles() {
    }

    static void k4x6(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            int[] colOffsets, int j0, float[] init, int initOff, int initStride,
            float[] out, int outOff) {
        final int h = 4 * V;
        int c0 = colOffsets[j0];
        int c1 = colOffsets[j0 + 1];
        int c2 = colOffsets[j0 + 2];
        int c3 = colOffsets[j0 + 3];
        int c4 = colOffsets[j0 + 4];
        int c5 = colOffsets[j0 + 5];
        FloatVector x00, x01, x02, x03;
        FloatVector x10, x11, x12, x13;
        FloatVector x20, x21, x22, x23;
        FloatVector x30, x31, x32, x33;
        FloatVector x40, x41, x42, x43;
        FloatVector x50, x51, x52, x53;
        x00 = FloatVector.fromArray(S, init, initOff);
        x01 = FloatVector.fromArray(S, init, initOff + 1 * V);
        x02 = FloatVector.fromArray(S, init, initOff + 2 * V);
        x03 = FloatVector.fromArray(S, init, initOff + 3 * V);
        x10 = FloatVector.fromArray(S, init, initOff + 1 * initStride);
        x11 = FloatVector.fromArray(S, init, initOff + 1 * initStride + 1 * V);
        x12 = FloatVector.fromArray(S, init, initOff + 1 * initStride + 2 * V);
        x13 = FloatVector.fromArray(S, init, initOff + 1 * initStride + 3 * V);
        x20 = FloatVector.fromArray(S, init, initOff + 2 * initStride);
        x21 = FloatVector.fromArray(S, init, initOff + 2 * initStride + 1 * V);
        x22 = FloatVector.fromArray(S, init, initOff + 2 * initStride + 2 * V);
        x23 = FloatVector.fromArray(S, init, initOff + 2 * initStride + 3 * V);
        x30 = FloatVector.fromArray(S, init, initOff + 3 * initStride);
        x31 = FloatVector.fromArray(S, init, initOff + 3 * initStride + 1 * V);
        x32 = FloatVector.fromArray(S, init, initOff + 3 * initStride + 2 * V);
        x33 = FloatVector.fromArray(S, init, initOff + 3 * initStride + 3 * V);
        x40 = FloatVector.fromArray(S, init, initOff + 4 * initStride);
        x41 = FloatVector.fromArray(S, init, initOff + 4 * initStride + 1 * V);
        x42 = FloatVector.fromArray(S, init, initOff + 4 * initStride + 2 * V);
        x43 = FloatVector.fromArray(S, init, initOff + 4 * initStride + 3 * V);
        x50 = FloatVector.fromArray(S, init, initOff + 5 * initStride);
        x51 = FloatVector.fromArray(S, init, initOff + 5 * initStride + 1 * V);
        x52 = FloatVector.fromArray(S, init, initOff + 5 * initStride + 2 * V);
        x53 = FloatVector.fromArray(S, init, initOff + 5 * initStride + 3 * V);
        int kk = k0;
        // Unrolled by two: C2 leaves a loop this large alone, and its bookkeeping would cost fma slots.
        for (; kk + 1 < k1; kk += 2) {
            int ap = aBase + kk * h;
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            FloatVector a1 = FloatVector.fromArray(S, a, ap + 1 * V);
            FloatVector a2 = FloatVector.fromArray(S, a, ap + 2 * V);
            FloatVector a3 = FloatVector.fromArray(S, a, ap + 3 * V);
            int o = bBase + rowOffsets[kk];
            FloatVector v = FloatVector.broadcast(S, b[o + c0]);
            x00 = a0.fma(v, x00);
            x01 = a1.fma(v, x01);
            x02 = a2.fma(v, x02);
            x03 = a3.fma(v, x03);
            v = FloatVector.broadcast(S, b[o + c1]);
            x10 = a0.fma(v, x10);
            x11 = a1.fma(v, x11);
            x12 = a2.fma(v, x12);
            x13 = a3.fma(v, x13);
            v = FloatVector.broadcast(S, b[o + c2]);
            x20 = a0.fma(v, x20);
            x21 = a1.fma(v, x21);
            x22 = a2.fma(v, x22);
            x23 = a3.fma(v, x23);
            v = FloatVector.broadcast(S, b[o + c3]);
            x30 = a0.fma(v, x30);
            x31 = a1.fma(v, x31);
            x32 = a2.fma(v, x32);
            x33 = a3.fma(v, x33);
            v = FloatVector.broadcast(S, b[o + c4]);
            x40 = a0.fma(v, x40);
            x41 = a1.fma(v, x41);
            x42 = a2.fma(v, x42);
            x43 = a3.fma(v, x43);
            v = FloatVector.broadcast(S, b[o + c5]);
            x50 = a0.fma(v, x50);
            x51 = a1.fma(v, x51);
            x52 = a2.fma(v, x52);
            x53 = a3.fma(v, x53);
            int apn = aBase + (kk + 1) * h;
            FloatVector a0n = FloatVector.fromArray(S, a, apn);
            FloatVector a1n = FloatVector.fromArray(S, a, apn + 1 * V);
            FloatVector a2n = FloatVector.fromArray(S, a, apn + 2 * V);
            FloatVector a3n = FloatVector.fromArray(S, a, apn + 3 * V);
            int on = bBase + rowOffsets[(kk + 1)];
            FloatVector vn = FloatVector.broadcast(S, b[on + c0]);
            x00 = a0n.fma(vn, x00);
            x01 = a1n.fma(vn, x01);
            x02 = a2n.fma(vn, x02);
            x03 = a3n.fma(vn, x03);
            vn = FloatVector.broadcast(S, b[on + c1]);
            x10 = a0n.fma(vn, x10);
            x11 = a1n.fma(vn, x11);
            x12 = a2n.fma(vn, x12);
            x13 = a3n.fma(vn, x13);
            vn = FloatVector.broadcast(S, b[on + c2]);
            x20 = a0n.fma(vn, x20);
            x21 = a1n.fma(vn, x21);
            x22 = a2n.fma(vn, x22);
            x23 = a3n.fma(vn, x23);
            vn = FloatVector.broadcast(S, b[on + c3]);
            x30 = a0n.fma(vn, x30);
            x31 = a1n.fma(vn, x31);
            x32 = a2n.fma(vn, x32);
            x33 = a3n.fma(vn, x33);
            vn = FloatVector.broadcast(S, b[on + c4]);
            x40 = a0n.fma(vn, x40);
            x41 = a1n.fma(vn, x41);
            x42 = a2n.fma(vn, x42);
            x43 = a3n.fma(vn, x43);
            vn = FloatVector.broadcast(S, b[on + c5]);
            x50 = a0n.fma(vn, x50);
            x51 = a1n.fma(vn, x51);
            x52 = a2n.fma(vn, x52);
            x53 = a3n.fma(vn, x53);
        }
        for (; kk < k1; kk++) {
            int ap = aBase + kk * h;
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            FloatVector a1 = FloatVector.fromArray(S, a, ap + 1 * V);
            FloatVector a2 = FloatVector.fromArray(S, a, ap + 2 * V);
            FloatVector a3 = FloatVector.fromArray(S, a, ap + 3 * V);
            int o = bBase + rowOffsets[kk];
            FloatVector v = FloatVector.broadcast(S, b[o + c0]);
            x00 = a0.fma(v, x00);
            x01 = a1.fma(v, x01);
            x02 = a2.fma(v, x02);
            x03 = a3.fma(v, x03);
            v = FloatVector.broadcast(S, b[o + c1]);
            x10 = a0.fma(v, x10);
            x11 = a1.fma(v, x11);
            x12 = a2.fma(v, x12);
            x13 = a3.fma(v, x13);
            v = FloatVector.broadcast(S, b[o + c2]);
            x20 = a0.fma(v, x20);
            x21 = a1.fma(v, x21);
            x22 = a2.fma(v, x22);
            x23 = a3.fma(v, x23);
            v = FloatVector.broadcast(S, b[o + c3]);
            x30 = a0.fma(v, x30);
            x31 = a1.fma(v, x31);
            x32 = a2.fma(v, x32);
            x33 = a3.fma(v, x33);
            v = FloatVector.broadcast(S, b[o + c4]);
            x40 = a0.fma(v, x40);
            x41 = a1.fma(v, x41);
            x42 = a2.fma(v, x42);
            x43 = a3.fma(v, x43);
            v = FloatVector.broadcast(S, b[o + c5]);
            x50 = a0.fma(v, x50);
            x51 = a1.fma(v, x51);
            x52 = a2.fma(v, x52);
            x53 = a3.fma(v, x53);
        }
        x00.intoArray(out, outOff);
        x01.intoArray(out, outOff + 1 * V);
        x02.intoArray(out, outOff + 2 * V);
        x03.intoArray(out, outOff + 3 * V);
        x10.intoArray(out, outOff + 1 * h);
        x11.intoArray(out, outOff + 1 * h + 1 * V);
        x12.intoArray(out, outOff + 1 * h + 2 * V);
        x13.intoArray(out, outOff + 1 * h + 3 * V);
        x20.intoArray(out, outOff + 2 * h);
        x21.intoArray(out, outOff + 2 * h + 1 * V);
        x22.intoArray(out, outOff + 2 * h + 2 * V);
        x23.intoArray(out, outOff + 2 * h + 3 * V);
        x30.intoArray(out, outOff + 3 * h);
        x31.intoArray(out, outOff + 3 * h + 1 * V);
        x32.intoArray(out, outOff + 3 * h + 2 * V);
        x33.intoArray(out, outOff + 3 * h + 3 * V);
        x40.intoArray(out, outOff + 4 * h);
        x41.intoArray(out, outOff + 4 * h + 1 * V);
        x42.intoArray(out, outOff + 4 * h + 2 * V);
        x43.intoArray(out, outOff + 4 * h + 3 * V);
        x50.intoArray(out, outOff + 5 * h);
        x51.intoArray(out, outOff + 5 * h + 1 * V);
        x52.intoArray(out, outOff + 5 * h + 2 * V);
        x53.intoArray(out, outOff + 5 * h + 3 * V);
    }

    static void k2x6(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            int[] colOffsets, int j0, float[] init, int initOff, int initStride,
            float[] out, int outOff) {
        final int h = 2 * V;
        int c0 = colOffsets[j0];
        int c1 = colOffsets[j0 + 1];
        int c2 = colOffsets[j0 + 2];
        int c3 = colOffsets[j0 + 3];
        int c4 = colOffsets[j0 + 4];
        int c5 = colOffsets[j0 + 5];
        FloatVector x00, x01;
        FloatVector x10, x11;
        FloatVector x20, x21;
        FloatVector x30, x31;
        FloatVector x40, x41;
        FloatVector x50, x51;
        x00 = FloatVector.fromArray(S, init, initOff);
        x01 = FloatVector.fromArray(S, init, initOff + 1 * V);
        x10 = FloatVector.fromArray(S, init, initOff + 1 * initStride);
        x11 = FloatVector.fromArray(S, init, initOff + 1 * initStride + 1 * V);
        x20 = FloatVector.fromArray(S, init, initOff + 2 * initStride);
        x21 = FloatVector.fromArray(S, init, initOff + 2 * initStride + 1 * V);
        x30 = FloatVector.fromArray(S, init, initOff + 3 * initStride);
        x31 = FloatVector.fromArray(S, init, initOff + 3 * initStride + 1 * V);
        x40 = FloatVector.fromArray(S, init, initOff + 4 * initStride);
        x41 = FloatVector.fromArray(S, init, initOff + 4 * initStride + 1 * V);
        x50 = FloatVector.fromArray(S, init, initOff + 5 * initStride);
        x51 = FloatVector.fromArray(S, init, initOff + 5 * initStride + 1 * V);
        int kk = k0;
        // Unrolled by two: C2 leaves a loop this large alone, and its bookkeeping would cost fma slots.
        for (; kk + 1 < k1; kk += 2) {
            int ap = aBase + kk * h;
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            FloatVector a1 = FloatVector.fromArray(S, a, ap + 1 * V);
            int o = bBase + rowOffsets[kk];
            FloatVector v = FloatVector.broadcast(S, b[o + c0]);
            x00 = a0.fma(v, x00);
            x01 = a1.fma(v, x01);
            v = FloatVector.broadcast(S, b[o + c1]);
            x10 = a0.fma(v, x10);
            x11 = a1.fma(v, x11);
            v = FloatVector.broadcast(S, b[o + c2]);
            x20 = a0.fma(v, x20);
            x21 = a1.fma(v, x21);
            v = FloatVector.broadcast(S, b[o + c3]);
            x30 = a0.fma(v, x30);
            x31 = a1.fma(v, x31);
            v = FloatVector.broadcast(S, b[o + c4]);
            x40 = a0.fma(v, x40);
            x41 = a1.fma(v, x41);
            v = FloatVector.broadcast(S, b[o + c5]);
            x50 = a0.fma(v, x50);
            x51 = a1.fma(v, x51);
            int apn = aBase + (kk + 1) * h;
            FloatVector a0n = FloatVector.fromArray(S, a, apn);
            FloatVector a1n = FloatVector.fromArray(S, a, apn + 1 * V);
            int on = bBase + rowOffsets[(kk + 1)];
            FloatVector vn = FloatVector.broadcast(S, b[on + c0]);
            x00 = a0n.fma(vn, x00);
            x01 = a1n.fma(vn, x01);
            vn = FloatVector.broadcast(S, b[on + c1]);
            x10 = a0n.fma(vn, x10);
            x11 = a1n.fma(vn, x11);
            vn = FloatVector.broadcast(S, b[on + c2]);
            x20 = a0n.fma(vn, x20);
            x21 = a1n.fma(vn, x21);
            vn = FloatVector.broadcast(S, b[on + c3]);
            x30 = a0n.fma(vn, x30);
            x31 = a1n.fma(vn, x31);
            vn = FloatVector.broadcast(S, b[on + c4]);
            x40 = a0n.fma(vn, x40);
            x41 = a1n.fma(vn, x41);
            vn = FloatVector.broadcast(S, b[on + c5]);
            x50 = a0n.fma(vn, x50);
            x51 = a1n.fma(vn, x51);
        }
        for (; kk < k1; kk++) {
            int ap = aBase + kk * h;
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            FloatVector a1 = FloatVector.fromArray(S, a, ap + 1 * V);
            int o = bBase + rowOffsets[kk];
            FloatVector v = FloatVector.broadcast(S, b[o + c0]);
            x00 = a0.fma(v, x00);
            x01 = a1.fma(v, x01);
            v = FloatVector.broadcast(S, b[o + c1]);
            x10 = a0.fma(v, x10);
            x11 = a1.fma(v, x11);
            v = FloatVector.broadcast(S, b[o + c2]);
            x20 = a0.fma(v, x20);
            x21 = a1.fma(v, x21);
            v = FloatVector.broadcast(S, b[o + c3]);
            x30 = a0.fma(v, x30);
            x31 = a1.fma(v, x31);
            v = FloatVector.broadcast(S, b[o + c4]);
            x40 = a0.fma(v, x40);
            x41 = a1.fma(v, x41);
            v = FloatVector.broadcast(S, b[o + c5]);
            x50 = a0.fma(v, x50);
            x51 = a1.fma(v, x51);
        }
        x00.intoArray(out, outOff);
        x01.intoArray(out, outOff + 1 * V);
        x10.intoArray(out, outOff + 1 * h);
        x11.intoArray(out, outOff + 1 * h + 1 * V);
        x20.intoArray(out, outOff + 2 * h);
        x21.intoArray(out, outOff + 2 * h + 1 * V);
        x30.intoArray(out, outOff + 3 * h);
        x31.intoArray(out, outOff + 3 * h + 1 * V);
        x40.intoArray(out, outOff + 4 * h);
        x41.intoArray(out, outOff + 4 * h + 1 * V);
        x50.intoArray(out, outOff + 5 * h);
        x51.intoArray(out, outOff + 5 * h + 1 * V);
    }

    static void k1x6(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            int[] colOffsets, int j0, float[] init, int initOff, int initStride,
            float[] out, int outOff) {
        final int h = 1 * V;
        int c0 = colOffsets[j0];
        int c1 = colOffsets[j0 + 1];
        int c2 = colOffsets[j0 + 2];
        int c3 = colOffsets[j0 + 3];
        int c4 = colOffsets[j0 + 4];
        int c5 = colOffsets[j0 + 5];
        FloatVector x00;
        FloatVector x10;
        FloatVector x20;
        FloatVector x30;
        FloatVector x40;
        FloatVector x50;
        x00 = FloatVector.fromArray(S, init, initOff);
        x10 = FloatVector.fromArray(S, init, initOff + 1 * initStride);
        x20 = FloatVector.fromArray(S, init, initOff + 2 * initStride);
        x30 = FloatVector.fromArray(S, init, initOff + 3 * initStride);
        x40 = FloatVector.fromArray(S, init, initOff + 4 * initStride);
        x50 = FloatVector.fromArray(S, init, initOff + 5 * initStride);
        int kk = k0;
        for (; kk < k1; kk++) {
            int ap = aBase + kk * h;
            FloatVector a0 = FloatVector.fromArray(S, a, ap);
            int o = bBase + rowOffsets[kk];
            FloatVector v = FloatVector.broadcast(S, b[o + c0]);
            x00 = a0.fma(v, x00);
            v = FloatVector.broadcast(S, b[o + c1]);
            x10 = a0.fma(v, x10);
            v = FloatVector.broadcast(S, b[o + c2]);
            x20 = a0.fma(v, x20);
            v = FloatVector.broadcast(S, b[o + c3]);
            x30 = a0.fma(v, x30);
            v = FloatVector.broadcast(S, b[o + c4]);
            x40 = a0.fma(v, x40);
            v = FloatVector.broadcast(S, b[o + c5]);
            x50 = a0.fma(v, x50);
        }
        x00.intoArray(out, outOff);
        x10.intoArray(out, outOff + 1 * h);
        x20.intoArray(out, outOff + 2 * h);
        x30.intoArray(out, outOff + 3 * h);
        x40.intoArray(out, outOff + 4 * h);
        x50.intoArray(out, outOff + 5 * h);
    }

    static void k4x1(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            float[] init, int initOff, float[] out, int outOff) {
        final int h = 4 * V;
        FloatVector x0 = FloatVector.fromArray(S, init, initOff);
        FloatVector y0 = FloatVector.zero(S);
        FloatVector x1 = FloatVector.fromArray(S, init, initOff + 1 * V);
        FloatVector y1 = FloatVector.zero(S);
        FloatVector x2 = FloatVector.fromArray(S, init, initOff + 2 * V);
        FloatVector y2 = FloatVector.zero(S);
        FloatVector x3 = FloatVector.fromArray(S, init, initOff + 3 * V);
        FloatVector y3 = FloatVector.zero(S);
        int kk = k0;
        // Two interleaved chains hide the fma latency that a single column would expose.
        for (; kk + 1 < k1; kk += 2) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            FloatVector w = FloatVector.broadcast(S, b[bBase + rowOffsets[kk + 1]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
            y0 = FloatVector.fromArray(S, a, ap + h).fma(w, y0);
            x1 = FloatVector.fromArray(S, a, ap + 1 * V).fma(v, x1);
            y1 = FloatVector.fromArray(S, a, ap + h + 1 * V).fma(w, y1);
            x2 = FloatVector.fromArray(S, a, ap + 2 * V).fma(v, x2);
            y2 = FloatVector.fromArray(S, a, ap + h + 2 * V).fma(w, y2);
            x3 = FloatVector.fromArray(S, a, ap + 3 * V).fma(v, x3);
            y3 = FloatVector.fromArray(S, a, ap + h + 3 * V).fma(w, y3);
        }
        if (kk < k1) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
            x1 = FloatVector.fromArray(S, a, ap + 1 * V).fma(v, x1);
            x2 = FloatVector.fromArray(S, a, ap + 2 * V).fma(v, x2);
            x3 = FloatVector.fromArray(S, a, ap + 3 * V).fma(v, x3);
        }
        x0.add(y0).intoArray(out, outOff);
        x1.add(y1).intoArray(out, outOff + 1 * V);
        x2.add(y2).intoArray(out, outOff + 2 * V);
        x3.add(y3).intoArray(out, outOff + 3 * V);
    }

    static void k2x1(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            float[] init, int initOff, float[] out, int outOff) {
        final int h = 2 * V;
        FloatVector x0 = FloatVector.fromArray(S, init, initOff);
        FloatVector y0 = FloatVector.zero(S);
        FloatVector x1 = FloatVector.fromArray(S, init, initOff + 1 * V);
        FloatVector y1 = FloatVector.zero(S);
        int kk = k0;
        // Two interleaved chains hide the fma latency that a single column would expose.
        for (; kk + 1 < k1; kk += 2) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            FloatVector w = FloatVector.broadcast(S, b[bBase + rowOffsets[kk + 1]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
            y0 = FloatVector.fromArray(S, a, ap + h).fma(w, y0);
            x1 = FloatVector.fromArray(S, a, ap + 1 * V).fma(v, x1);
            y1 = FloatVector.fromArray(S, a, ap + h + 1 * V).fma(w, y1);
        }
        if (kk < k1) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
            x1 = FloatVector.fromArray(S, a, ap + 1 * V).fma(v, x1);
        }
        x0.add(y0).intoArray(out, outOff);
        x1.add(y1).intoArray(out, outOff + 1 * V);
    }

    static void k1x1(float[] a, int aBase, int k0, int k1, float[] b, int bBase, int[] rowOffsets,
            float[] init, int initOff, float[] out, int outOff) {
        final int h = 1 * V;
        FloatVector x0 = FloatVector.fromArray(S, init, initOff);
        FloatVector y0 = FloatVector.zero(S);
        int kk = k0;
        // Two interleaved chains hide the fma latency that a single column would expose.
        for (; kk + 1 < k1; kk += 2) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            FloatVector w = FloatVector.broadcast(S, b[bBase + rowOffsets[kk + 1]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
            y0 = FloatVector.fromArray(S, a, ap + h).fma(w, y0);
        }
        if (kk < k1) {
            int ap = aBase + kk * h;
            FloatVector v = FloatVector.broadcast(S, b[bBase + rowOffsets[kk]]);
            x0 = FloatVector.fromArray(S, a, ap).fma(v, x0);
        }
        x0.add(y0).intoArray(out, outOff);
    }
}
