package dev.onebit.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** Fast pools against the literal formulas, and the window arithmetic on known ONNX cases. */
class PoolingTest {
    private static final String[] AUTO_PAD = {"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

    @Test
    void poolsMatchReference() {
        Random rnd = new Random(5);
        int done = 0;
        while (done < 400) {
            int rank = 1 + rnd.nextInt(3);
            int[] in = new int[rank];
            int[] k = new int[rank];
            long[] s = new long[rank];
            long[] d = new long[rank];
            long[] pads = new long[2 * rank];
            for (int i = 0; i < rank; i++) {
                in[i] = 1 + rnd.nextInt(rank == 3 ? 6 : 13);
                k[i] = 1 + rnd.nextInt(4);
                s[i] = 1 + rnd.nextInt(3);
                d[i] = 1 + (rnd.nextInt(3) == 0 ? 1 : 0);
                pads[i] = rnd.nextInt(k[i]);
                pads[rank + i] = rnd.nextInt(k[i]);
            }
            boolean ceil = rnd.nextBoolean();
            String autoPad = AUTO_PAD[rnd.nextInt(AUTO_PAD.length)];
            ConvGeometry g;
            try {
                g = ConvGeometry.of(in, k, s, d, pads, autoPad, ceil);
            } catch (IllegalArgumentException e) {
                continue;
            }
            int[] xShape = new int[rank + 2];
            xShape[0] = 1 + rnd.nextInt(2);
            xShape[1] = 1 + rnd.nextInt(3);
            System.arraycopy(in, 0, xShape, 2, rank);
            float[] x = Close.random(rnd, ConvolutionTest.count(xShape));
            String what = "trial " + done + " " + autoPad + " ceil " + ceil + " " + g;

            long[] idx = new long[xShape[0] * xShape[1] * g.outCount()];
            long[] refIdx = new long[idx.length];
            float[] max = Pooling.maxPool(x, xShape, g, idx, false);
            float[] refMax = ReferencePool.pool(x, xShape, g, true, false, refIdx);
            assertArrayEquals(refMax, max, 0f, what);
            assertArrayEquals(refIdx, idx, what);

            // Without indices 1-D and 2-D windows take their own path; it must agree too.
            assertArrayEquals(refMax, Pooling.maxPool(x, xShape, g, null, false), 0f, what + " no indices");
            // The double-summed box filter (ActivationScale's) is ReferencePool's average exactly.
            assertArrayEquals(ReferencePool.pool(x, xShape, g, false, true, null), Pooling.boxMean(x, xShape, g), 0f,
                    what + " boxMean");

            boolean include = rnd.nextBoolean();
            float[] avg = Pooling.averagePool(x, xShape, g, include);
            float[] refAvg = ReferencePool.pool(x, xShape, g, false, include, null);
            float[] mag = ReferencePool.pool(Close.abs(x), xShape, g, false, include, null);
            Close.check(what + " include_pad " + include, refAvg, avg, mag, 1e-5);
            done++;
        }
    }

    /** NaN and -inf follow the general loop: a NaN first tap stays, a later NaN is skipped. */
    @Test
    void maxPoolWithoutIndicesKeepsNaNRules() {
        float n = Float.NaN;
        float[] x = {n, 1, 2, n, Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f};
        int[] shape = {1, 1, 2, 4};
        ConvGeometry g = ConvGeometry.of(new int[] {2, 4}, new int[] {2, 2}, new long[] {2, 2}, null, null, "NOTSET", false);
        float[] fast = Pooling.maxPool(x, shape, g, null, false);
        float[] ref = ReferencePool.pool(x, shape, g, true, false, null);
        assertEquals(2, fast.length);
        for (int i = 0; i < fast.length; i++) {
            assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(fast[i]), "output " + i);
        }
    }

    /**
     * ResNet's stem pool (3x3, stride 2, pad 1) on values with NaN, infinities and both zeros:
     * the contiguous-tap path, where padded taps read -inf and a first NaN is put back, keeps
     * the general loop's bits.
     */
    @Test
    void paddedWindowsKeepNaNAndZeroRules() {
        java.util.Random rnd = new java.util.Random(9);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f};
        int[] shape = {1, 3, 11, 12};
        float[] x = Close.random(rnd, 3 * 11 * 12);
        for (int i = 0; i < x.length; i++) {
            if (rnd.nextInt(4) == 0) {
                x[i] = specials[rnd.nextInt(specials.length)];
            }
        }
        ConvGeometry g = ConvGeometry.of(new int[] {11, 12}, new int[] {3, 3}, new long[] {2, 2}, null,
                new long[] {1, 1, 1, 1}, "NOTSET", false);
        float[] fast = Pooling.maxPool(x, shape, g, null, false);
        float[] ref = ReferencePool.pool(x, shape, g, true, false, null);
        for (int i = 0; i < fast.length; i++) {
            assertEquals(Float.floatToRawIntBits(ref[i]), Float.floatToRawIntBits(fast[i]), "output " + i);
        }
    }

    /**
     * The contiguous-tap path (sub-planes by stride phase in -inf margins, a first NaN put
     * back) and the table path on CNN pools and their odd relatives, with NaN, infinities and
     * both zeros, through the portable and the Vector API passes: the reference's bits
     * everywhere.
     */
    @Test
    void shiftedTapsKeepReferenceBits() {
        Random rnd = new Random(11);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f};
        int[][] sizes = {{112, 112}, {13, 17}, {12, 16}, {11, 12}, {28, 28}, {7, 9}, {33, 40}, {5, 70}};
        // kernel h, w; stride h, w; pads top, left, bottom, right; dilation h, w; ceil
        int[][] geometries = {
            {3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 0},
            {3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            {3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1},
            {3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},
            {3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 0},
            {2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 0},
            {2, 2, 2, 2, 0, 0, 0, 0, 1, 1, 1},
            {2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 0},
            {2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 0},
            {2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 0},
            {3, 2, 2, 1, 1, 0, 2, 1, 2, 1, 0},
            {3, 3, 1, 2, 2, 1, 0, 2, 2, 2, 1},
            {5, 4, 3, 2, 2, 1, 2, 3, 1, 1, 0},
        };
        FloatPasses[] passes = {Kernels.scalarFloatPasses(), Kernels.vectorFloatPasses()};
        for (int[] size : sizes) {
            for (int[] q : geometries) {
                ConvGeometry g;
                try {
                    g = ConvGeometry.of(size, new int[] {q[0], q[1]}, new long[] {q[2], q[3]},
                            new long[] {q[8], q[9]}, new long[] {q[4], q[5], q[6], q[7]}, "NOTSET", q[10] == 1);
                } catch (IllegalArgumentException e) {
                    continue;
                }
                int[] shape = {1, 3, size[0], size[1]};
                float[] x = Close.random(rnd, 3 * size[0] * size[1]);
                for (int i = 0; i < x.length; i++) {
                    if (rnd.nextInt(5) == 0) {
                        x[i] = specials[rnd.nextInt(specials.length)];
                    }
                }
                float[] ref = ReferencePool.pool(x, shape, g, true, false, null);
                String what = java.util.Arrays.toString(size) + " " + java.util.Arrays.toString(q);
                assertSameBits(ref, Pooling.maxPool(x, shape, g, null, false), what);
                for (FloatPasses f : passes) {
                    if (f != null) {
                        assertSameBits(ref, Pooling.maxPoolThrough(x, shape, g, f, true), what + " " + f.name());
                        assertSameBits(ref, Pooling.maxPoolThrough(x, shape, g, f, false), what + " table " + f.name());
                    }
                }
            }
        }
        // 1-D windows take the same path.
        ConvGeometry g = ConvGeometry.of(new int[] {75}, new int[] {3}, new long[] {2}, null, new long[] {1, 1},
                "NOTSET", false);
        float[] x = Close.random(rnd, 2 * 75);
        x[0] = Float.NaN;
        x[76] = -0f;
        x[77] = 0f;
        int[] shape = {1, 2, 75};
        float[] ref = ReferencePool.pool(x, shape, g, true, false, null);
        for (FloatPasses f : passes) {
            if (f != null) {
                assertSameBits(ref, Pooling.maxPoolThrough(x, shape, g, f, true), "1-D " + f.name());
            }
        }
    }

    /**
     * The 2x2 stride-2 pool's tournament against the sequential reference on both engines,
     * row widths on every path (scalar, half and full vectors, overlapping last steps), odd
     * sizes that drop a row or column, and many NaN, infinite and signed-zero values.
     */
    @Test
    void pairPoolKeepsReferenceBits() {
        Random rnd = new Random(12);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, 1f};
        int[][] sizes = {{28, 28}, {14, 14}, {7, 7}, {2, 2}, {3, 5}, {12, 16}, {9, 33}, {6, 30}, {40, 70}, {5, 64}};
        FloatPasses[] passes = {Kernels.scalarFloatPasses(), Kernels.vectorFloatPasses()};
        for (int[] size : sizes) {
            for (boolean ceil : new boolean[] {false, true}) {
                ConvGeometry g = ConvGeometry.of(size, new int[] {2, 2}, new long[] {2, 2}, null, new long[] {0, 0, 0, 0},
                        "NOTSET", ceil);
                if (!Pooling.isPairPool(g)) {
                    continue;
                }
                int planes = 3;
                float[] x = Close.random(rnd, planes * size[0] * size[1]);
                for (int i = 0; i < x.length; i++) {
                    if (rnd.nextInt(3) == 0) {
                        x[i] = specials[rnd.nextInt(specials.length)];
                    }
                }
                float[] ref = ReferencePool.pool(x, new int[] {1, planes, size[0], size[1]}, g, true, false, null);
                for (FloatPasses f : passes) {
                    if (f != null) {
                        float[] y = new float[ref.length];
                        Pooling.pairPool(x, g, planes, y, f);
                        assertSameBits(ref, y, java.util.Arrays.toString(size) + " ceil " + ceil + " " + f.name());
                    }
                }
            }
        }
    }

    /** The two passes of the contiguous-tap path, Vector API against portable, tails included. */
    @Test
    void shiftedMaxAndDeinterleaveAgreeBitForBit() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        org.junit.jupiter.api.Assumptions.assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(12);
        float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f, 0f, 1f};
        for (int n = 0; n < 120; n++) {
            float[] x = new float[3 * n + 40];
            for (int i = 0; i < x.length; i++) {
                x[i] = rnd.nextInt(3) == 0 ? specials[rnd.nextInt(specials.length)] : rnd.nextInt(5) - 2f;
            }
            for (int[] off : new int[][] {{0}, {0, 1}, {3, 0, 1, 20}, {0, 1, 2, 17, 18, 19, 34, 35, 36}}) {
                float[] ys = new float[n + 5];
                float[] yv = new float[n + 5];
                scalar.shiftedMax(x, 2, off, ys, 3, n);
                vector.shiftedMax(x, 2, off, yv, 3, n);
                assertSameBits(ys, yv, "shiftedMax n " + n + " taps " + off.length);
            }
            float[] ds = new float[2 * n + 10];
            float[] dv = new float[2 * n + 10];
            vector.deinterleave(x, 1, 2 * n + 1, dv, 1, n + 3);
            scalar.deinterleave(x, 1, 2 * n + 1, ds, 1, n + 3);
            assertSameBits(ds, dv, "deinterleave odd " + n);
            java.util.Arrays.fill(ds, 7f);
            java.util.Arrays.fill(dv, 7f);
            vector.deinterleave(x, 1, 2 * n, dv, 1, n + 3);
            scalar.deinterleave(x, 1, 2 * n, ds, 1, n + 3);
            assertSameBits(ds, dv, "deinterleave even " + n);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToRawIntBits(x[1 + 2 * i]), Float.floatToRawIntBits(ds[1 + i]), "even " + i);
                assertEquals(Float.floatToRawIntBits(x[2 + 2 * i]), Float.floatToRawIntBits(ds[n + 3 + i]), "odd " + i);
            }
        }
    }

    /**
     * ResNet's 3x3/2 pool over enough planes to be split over kernel threads (each part with
     * scratch planes of its own): the reference's bits, NaN and infinities included.
     */
    @Test
    void planesSplitOverThreadsKeepReferenceBits() {
        int previous = Kernels.threads();
        Kernels.setThreads(3);
        try {
            Random rnd = new Random(17);
            int[] shape = {2, 13, 112, 112};
            float[] x = Close.random(rnd, 2 * 13 * 112 * 112);
            float[] specials = {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, -0f};
            for (int i = 0; i < x.length; i += 1 + rnd.nextInt(200)) {
                x[i] = specials[rnd.nextInt(specials.length)];
            }
            ConvGeometry g = ConvGeometry.of(new int[] {112, 112}, new int[] {3, 3}, new long[] {2, 2}, null,
                    new long[] {1, 1, 1, 1}, "NOTSET", false);
            float[] ref = ReferencePool.pool(x, shape, g, true, false, null);
            for (FloatPasses f : new FloatPasses[] {Kernels.scalarFloatPasses(), Kernels.vectorFloatPasses()}) {
                if (f != null) {
                    assertSameBits(ref, Pooling.maxPoolThrough(x, shape, g, f, true), f.name());
                }
            }
            assertSameBits(ref, Pooling.maxPool(x, shape, g, null, false), "default passes");
        } finally {
            Kernels.setThreads(previous);
        }
    }

    private static void assertSameBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), what + " at " + i);
        }
    }

    @Test
    void columnMajorIndicesSwapSpatialAxes() {
        float[] x = {1, 9, 3, 4, 5, 6};
        long[] idx = new long[1];
        ConvGeometry g = ConvGeometry.of(new int[] {2, 3}, new int[] {2, 3}, null, null, null, "NOTSET", false);
        Pooling.maxPool(x, new int[] {1, 1, 2, 3}, g, idx, true);
        // 9 sits at row 0, column 1: row-major 1, column-major 1 * 2 + 0 = 2
        assertEquals(2, idx[0]);
    }

    @Test
    void globalPools() {
        float[] x = {1, 2, 3, 4, -1, -2, -3, -4};
        assertArrayEquals(new float[] {2.5f, -2.5f}, Pooling.global(x, new int[] {1, 2, 2, 2}, true), 1e-6f);
        assertArrayEquals(new float[] {4f, -1f}, Pooling.global(x, new int[] {1, 2, 2, 2}, false), 0f);
    }

    @Test
    void geometryOfKnownOnnxCases() {
        // test_conv_with_autopad_same: 5x5, k3, stride 2, SAME_LOWER -> 3x3, one pad on each side
        ConvGeometry a = ConvGeometry.of(new int[] {5, 5}, new int[] {3, 3}, new long[] {2, 2}, null, null, "SAME_LOWER", false);
        assertArrayEquals(new int[] {3, 3}, a.out);
        assertArrayEquals(new int[] {1, 1}, a.padBegin);
        // test_maxpool_2d_ceil: 4x4, k3, stride 2, ceil -> 2x2 (floor would give 1x1)
        ConvGeometry b = ConvGeometry.of(new int[] {4, 4}, new int[] {3, 3}, new long[] {2, 2}, null, null, "NOTSET", true);
        assertArrayEquals(new int[] {2, 2}, b.out);
        // SAME_UPPER puts the odd padding at the end, SAME_LOWER at the start
        ConvGeometry c = ConvGeometry.of(new int[] {6}, new int[] {2}, null, null, null, "SAME_UPPER", false);
        assertArrayEquals(new int[] {0}, c.padBegin);
        assertArrayEquals(new int[] {1}, c.padEnd);
        ConvGeometry e = ConvGeometry.of(new int[] {6}, new int[] {2}, null, null, null, "SAME_LOWER", false);
        assertArrayEquals(new int[] {1}, e.padBegin);
        // ceil mode never starts a window in the end padding: 5 + pad 1, k2, s2 -> 3, not 4
        ConvGeometry f = ConvGeometry.of(new int[] {5}, new int[] {2}, new long[] {2}, null, new long[] {1, 1}, "NOTSET", true);
        assertArrayEquals(new int[] {3}, f.out);
        // VALID with dilation: 10, k3 d2 (span 5), stride 2 -> 3
        ConvGeometry h = ConvGeometry.of(new int[] {10}, new int[] {3}, new long[] {2}, new long[] {2}, null, "VALID", false);
        assertArrayEquals(new int[] {3}, h.out);
    }
}
