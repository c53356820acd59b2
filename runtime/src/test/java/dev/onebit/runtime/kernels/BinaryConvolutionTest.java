package dev.onebit.runtime.kernels;

import dev.onebit.ir.Tensor;
import dev.onebit.runtime.PackedSigns;
import dev.onebit.runtime.ops.BinaryOps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The XNOR kernels against the literal sign-product sums ({@link ReferenceBinaryConv}, exact)
 * and against BinaryOps' reference semantics (ONNX Conv with the effective weight, to float
 * rounding), on random configurations; and the scalar and vector engines against each other.
 */
class BinaryConvolutionTest {
    private int previousThreads;

    /** Cases that split their products run the parts on kernel threads, whatever the machine. */
    @BeforeEach
    void kernelThreads() {
        previousThreads = Kernels.threads();
        Kernels.setThreads(3);
    }

    @AfterEach
    void putBackThreads() {
        Kernels.setThreads(previousThreads);
    }

    /** Channel counts per group around the word and vector boundaries. */
    private static final int[] CHANNELS = {1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 130};
    private static final int[] KERNELS = {1, 3, 5, 7};
    private static final String[] AUTO_PAD = {"NOTSET", "NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};

    static Stream<BinaryGemm> implementations() {
        List<BinaryGemm> l = new ArrayList<>();
        l.add(Kernels.scalarBinaryGemm());
        if (Kernels.vectorBinaryGemm() != null) {
            l.add(Kernels.vectorBinaryGemm());
        }
        return l.stream();
    }

    /** One random layer and input. */
    record Case(int n, int group, int cg, int mg, int planes, int[] in, int[] kernel, long[] strides, long[] dilations,
                long[] pads, String autoPad, Tensor b, float[] alpha, float[] bias, boolean withScale, float[] x) {
        int[] xShape() {
            int[] s = new int[in.length + 2];
            s[0] = n;
            s[1] = group * cg;
            System.arraycopy(in, 0, s, 2, in.length);
            return s;
        }

        Convolution.Params params() {
            return new Convolution.Params(group, null, strides, dilations, pads, autoPad);
        }

        ConvGeometry geometry() {
            return ConvGeometry.of(in, kernel, strides, dilations, pads, autoPad, false);
        }

        @Override
        public String toString() {
            return "n" + n + " group " + group + " cg " + cg + " mg " + mg + " K " + planes + " in " + Arrays.toString(in)
                    + " k " + Arrays.toString(kernel) + " s " + Arrays.toString(strides) + " d " + Arrays.toString(dilations)
                    + " pads " + Arrays.toString(pads) + " " + autoPad + (withScale ? " scale" : "");
        }
    }

    static float[] signs(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = rnd.nextBoolean() ? 1f : -1f;
        }
        return v;
    }

    /** A random case of the given spatial rank, or null when it does not fit the work budget. */
    static Case randomCase(Random rnd, int rank) {
        int group;
        int cg;
        int mg;
        switch (rnd.nextInt(6)) {
            case 0 -> { // depthwise
                cg = 1;
                group = 1 + rnd.nextInt(70);
                mg = 1 + rnd.nextInt(2);
            }
            case 1 -> {
                group = 2 + rnd.nextInt(3);
                cg = CHANNELS[rnd.nextInt(CHANNELS.length)];
                mg = 1 + rnd.nextInt(9);
            }
            default -> {
                group = 1;
                cg = rnd.nextInt(4) == 0 ? 1 + rnd.nextInt(130) : CHANNELS[rnd.nextInt(CHANNELS.length)];
                mg = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 40);
            }
        }
        int planes = 1 + rnd.nextInt(3);
        int n = 1 + rnd.nextInt(3);
        int[] in = new int[rank];
        int[] kernel = new int[rank];
        long[] strides = new long[rank];
        long[] dilations = new long[rank];
        long[] pads = new long[2 * rank];
        for (int d = 0; d < rank; d++) {
            kernel[d] = rank == 3 ? 1 + 2 * rnd.nextInt(2) : KERNELS[rnd.nextInt(KERNELS.length)];
            strides[d] = 1 + rnd.nextInt(2);
            dilations[d] = rnd.nextInt(4) == 0 ? 2 : 1;
            in[d] = 1 + rnd.nextInt(rank == 3 ? 5 : 11);
            pads[d] = rnd.nextInt(kernel[d]);
            pads[rank + d] = rnd.nextInt(kernel[d]);
        }
        String autoPad = AUTO_PAD[rnd.nextInt(AUTO_PAD.length)];
        ConvGeometry g;
        try {
            g = ConvGeometry.of(in, kernel, strides, dilations, pads, autoPad, false);
        } catch (IllegalArgumentException e) {
            return null;
        }
        int m = group * mg;
        long work = (long) n * planes * m * g.outCount() * cg * g.kernelCount();
        if (work > 1_500_000 || g.outCount() == 0) {
            return null;
        }
        int[] bShape = new int[rank + 3];
        bShape[0] = planes;
        bShape[1] = m;
        bShape[2] = cg;
        System.arraycopy(kernel, 0, bShape, 3, rank);
        Tensor b = Tensor.ofSigns(bShape, Close.random(rnd, (int) Tensor.elementCount(bShape)));
        float[] alpha = new float[planes * m];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = 0.05f + rnd.nextFloat();
        }
        float[] bias = rnd.nextBoolean() ? Close.random(rnd, m) : null;
        float[] x = signs(rnd, n * group * cg * g.inCount());
        return new Case(n, group, cg, mg, planes, in, kernel, strides, dilations, pads, autoPad, b, alpha, bias,
                rnd.nextInt(3) == 0, x);
    }

    static List<Case> cases(long seed, int count) {
        Random rnd = new Random(seed);
        List<Case> l = new ArrayList<>();
        while (l.size() < count) {
            int rank = l.size() % 10 == 9 ? 1 + 2 * rnd.nextInt(2) : 2;
            Case c = randomCase(rnd, rank);
            if (c != null) {
                l.add(c);
            }
        }
        return l;
    }

    /** BinaryOps' reference semantics: Conv with the effective weight, times scale, plus bias. */
    static float[] referenceOutput(Case c, float[] scale, boolean magnitude) {
        float[] w = BinaryOps.effectiveWeight(c.b(), c.alpha());
        float[] x = c.x();
        if (magnitude) {
            w = Close.abs(w);
            x = Close.abs(x);
        }
        float[] y = ReferenceConv.conv(x, c.xShape(), w, BinaryOps.weightShape(c.b()), null, c.group(), c.geometry());
        int m = c.group() * c.mg();
        int opos = c.geometry().outCount();
        for (int img = 0; img < c.n(); img++) {
            for (int o = 0; o < m; o++) {
                for (int j = 0; j < opos; j++) {
                    int i = (img * m + o) * opos + j;
                    float s = scale == null ? 1f : scale[img * opos + j];
                    float add = c.bias() == null ? 0f : c.bias()[o];
                    y[i] = magnitude ? y[i] * Math.abs(s) + Math.abs(add) : y[i] * s + add;
                }
            }
        }
        return y;
    }

    static float[] scaleFor(Case c, long seed) {
        if (!c.withScale()) {
            return null;
        }
        Random rnd = new Random(seed);
        float[] s = new float[c.n() * c.geometry().outCount()];
        for (int i = 0; i < s.length; i++) {
            s[i] = 0.1f + rnd.nextFloat();
        }
        return s;
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void dotsAreExactAndOutputsMatchTheReference(BinaryGemm gemm) {
        int i = 0;
        for (Case c : cases(11, 160)) {
            // Cases split their products into 1-3 parts, as with several threads, and every other
            // one folds the border corrections run by run instead of through whole correction rows.
            var conv = new BinaryConvolution(gemm, c.params(), c.b(), c.alpha(), 1 + i % 3, 0, i % 2 == 0 ? 0 : 1 << 16);
            int[] expected = ReferenceBinaryConv.conv(c.x(), c.xShape(), c.b(), c.group(), c.geometry());
            assertArrayEquals(expected, conv.dots(c.x(), c.xShape()), c.toString());
            float[] scale = scaleFor(c, i);
            float[] y = conv.run(c.x(), c.xShape(), scale, c.bias());
            assertNotNull(y, c.toString());
            Close.check(c.toString(), referenceOutput(c, scale, false), y, referenceOutput(c, scale, true), 1e-5);
            assertArrayEquals(new int[] {c.n(), c.group() * c.mg()},
                    Arrays.copyOf(conv.outputShape(c.xShape()), 2), c.toString());
            i++;
        }
    }

    /**
     * The output with a residual added in the output step is the output, then an Add of the
     * residual, bit for bit: on both engines, with floats and packed inputs, the residual
     * first or second, and NaN and infinite residuals.
     */
    @ParameterizedTest
    @MethodSource("implementations")
    void runPlusIsTheOutputThenAnAdd(BinaryGemm gemm) {
        Random rnd = new Random(31);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f};
        int i = 0;
        for (Case c : cases(13, 60)) {
            var conv = new BinaryConvolution(gemm, c.params(), c.b(), c.alpha(), 1 + i % 3, 0, i % 2 == 0 ? 0 : 1 << 16);
            float[] scale = scaleFor(c, i++);
            float[] y = conv.run(c.x(), c.xShape(), scale, c.bias());
            float[] residual = new float[y.length];
            for (int k = 0; k < residual.length; k++) {
                residual[k] = rnd.nextInt(40) == 0 ? special[rnd.nextInt(special.length)] : (float) rnd.nextGaussian();
            }
            float[] yPlusR = new float[y.length];
            float[] rPlusY = new float[y.length];
            for (int k = 0; k < y.length; k++) {
                yPlusR[k] = y[k] + residual[k];
                rPlusY[k] = residual[k] + y[k];
            }
            PackedSigns packed = PackedSigns.pack(c.x(), c.xShape(), gemm);
            assertArrayEquals(yPlusR, conv.runPlus(c.x(), null, c.xShape(), scale, c.bias(), residual, false), c.toString());
            assertArrayEquals(rPlusY, conv.runPlus(null, packed, c.xShape(), scale, c.bias(), residual, true),
                    "packed, " + c);
        }
    }

    /**
     * Layers whose product reads the zero-padded packed input in place (stride 1, more than 32
     * channels per group, output rows of whole groups of columns): exact dots and the
     * reference's outputs on both engines, over kernels 1-7, dilation, asymmetric and auto
     * pads, groups, planes, images and thread parts; packed input and packed output give the
     * same. Each case checks that it really took that path.
     */
    @ParameterizedTest
    @MethodSource("implementations")
    void inPlaceReadsAreExact(BinaryGemm gemm) {
        Random rnd = new Random(17);
        int[] channels = {33, 40, 63, 64, 65, 100, 128, 130};
        int gc = gemm.groupColumns();
        for (int i = 0; i < 40; i++) {
            int rank = 2;
            int[] kernel = {KERNELS[rnd.nextInt(4)], KERNELS[rnd.nextInt(4)]};
            long[] dilations = {1 + rnd.nextInt(2), 1 + rnd.nextInt(2)};
            long[] pads = {rnd.nextInt(kernel[0]), rnd.nextInt(kernel[1]), rnd.nextInt(kernel[0]), rnd.nextInt(kernel[1])};
            String autoPad = i % 5 == 4 ? "SAME_UPPER" : "NOTSET";
            int outW = gc * (1 + rnd.nextInt(i % 4 == 0 ? 8 : 3));
            int[] in = new int[rank];
            in[0] = 1 + rnd.nextInt(6);
            in[1] = autoPad.equals("NOTSET") ? outW - (int) (pads[1] + pads[3]) + (int) ((kernel[1] - 1) * dilations[1])
                    : outW;
            if (in[1] < 1 || (autoPad.equals("NOTSET") && in[0] + pads[0] + pads[2] <= (kernel[0] - 1) * dilations[0])) {
                i--;
                continue;
            }
            int group = rnd.nextInt(4) == 0 ? 2 : 1;
            int cg = channels[rnd.nextInt(channels.length)];
            int mg = 1 + rnd.nextInt(13);
            int planes = 1 + rnd.nextInt(2);
            int n = 1 + rnd.nextInt(2);
            int[] bShape = {planes, group * mg, cg, kernel[0], kernel[1]};
            Tensor b = Tensor.ofSigns(bShape, Close.random(rnd, (int) Tensor.elementCount(bShape)));
            float[] alpha = new float[planes * group * mg];
            for (int k = 0; k < alpha.length; k++) {
                alpha[k] = 0.05f + rnd.nextFloat();
            }
            float[] bias = rnd.nextBoolean() ? Close.random(rnd, group * mg) : null;
            Case c = new Case(n, group, cg, mg, planes, in, kernel, new long[] {1, 1}, dilations, pads, autoPad, b, alpha,
                    bias, rnd.nextBoolean(), signs(rnd, n * group * cg * in[0] * in[1]));
            var conv = new BinaryConvolution(gemm, c.params(), c.b(), c.alpha(), 1 + i % 3, 0, i % 2 == 0 ? 0 : 1 << 16);
            assertTrue(conv.readsInPlace(c.xShape()), c.toString());
            assertArrayEquals(ReferenceBinaryConv.conv(c.x(), c.xShape(), c.b(), c.group(), c.geometry()),
                    conv.dots(c.x(), c.xShape()), c.toString());
            float[] scale = scaleFor(c, i);
            float[] y = conv.run(c.x(), c.xShape(), scale, c.bias());
            Close.check(c.toString(), referenceOutput(c, scale, false), y, referenceOutput(c, scale, true), 1e-5);
            PackedSigns packed = PackedSigns.pack(c.x(), c.xShape(), gemm);
            assertArrayEquals(y, conv.run(packed, c.xShape(), scale, c.bias()), "packed in, " + c);
            if (planes == 1) {
                assertArrayEquals(PackedSigns.pack(conv.run(packed, c.xShape(), null, c.bias()),
                                conv.outputShape(c.xShape()), gemm).words,
                        conv.runSigns(null, packed, c.xShape(), c.bias()).words, "packed in and out, " + c);
            }
        }
    }

    @Test
    void scalarAndVectorAgreeExactly() {
        BinaryGemm vector = Kernels.vectorBinaryGemm();
        assumeTrue(vector != null, "Vector API not present");
        BinaryGemm scalar = Kernels.scalarBinaryGemm();
        int i = 0;
        for (Case c : cases(12, 120)) {
            float[] scale = scaleFor(c, i++);
            var s = new BinaryConvolution(scalar, c.params(), c.b(), c.alpha());
            var v = new BinaryConvolution(vector, c.params(), c.b(), c.alpha());
            assertArrayEquals(s.dots(c.x(), c.xShape()), v.dots(c.x(), c.xShape()), c.toString());
            assertArrayEquals(s.run(c.x(), c.xShape(), scale, c.bias()), v.run(c.x(), c.xShape(), scale, c.bias()),
                    c.toString());
        }
    }

    /**
     * The popcount product on every column count up to three panels (so every width of a last
     * panel) and row counts around the tile heights, against the plain sum, on both engines:
     * from panels, and in place with every group of columns at a random start and every row
     * at a random offset.
     */
    @ParameterizedTest
    @MethodSource("implementations")
    void popcountsCoverEveryRequestedColumn(BinaryGemm gemm) {
        Random rnd = new Random(13);
        int pc = gemm.panelColumns();
        int gc = gemm.groupColumns();
        for (int rows : new int[] {1, 5, 6, 7, 13}) {
            for (int columns = 1; columns <= 3 * pc; columns++) {
                int depth = 1 + rnd.nextInt(5);
                int panels = (columns + pc - 1) / pc;
                long[] a = rnd.longs(3 + rows * depth).toArray();
                long[] b = rnd.longs(2 + panels * depth * pc).toArray();
                int ldc = panels * pc + 3;
                int[] c = new int[1 + rows * ldc];
                gemm.popcounts(a, 3, rows, depth, b, 2, columns, c, 1, ldc);
                int[] starts = new int[5 + panels * pc / gc];
                int[] offsets = new int[depth];
                int span = b.length - 2 - gc + 1;
                for (int r = 0; r < depth; r++) {
                    offsets[r] = rnd.nextInt(span / 2 + 1);
                }
                for (int v = 5; v < starts.length; v++) {
                    starts[v] = rnd.nextInt(span - span / 2);
                }
                int[] inPlace = new int[1 + rows * ldc];
                gemm.popcountsInPlace(a, 3, rows, depth, b, 2, starts, 5, offsets, columns, inPlace, 1, ldc);
                for (int i = 0; i < rows; i++) {
                    for (int j = 0; j < columns; j++) {
                        int expected = 0;
                        int expectedInPlace = 0;
                        for (int r = 0; r < depth; r++) {
                            long x = a[3 + i * depth + r];
                            expected += Long.bitCount(x ^ b[2 + (j / pc) * depth * pc + r * pc + j % pc]);
                            expectedInPlace += Long.bitCount(x ^ b[2 + starts[5 + j / gc] + offsets[r] + j % gc]);
                        }
                        String at = "rows " + rows + " columns " + columns + " at " + i + "," + j;
                        assertEquals(expected, c[1 + i * ldc + j], at);
                        assertEquals(expectedInPlace, inPlace[1 + i * ldc + j], "in place, " + at);
                    }
                }
            }
        }
    }

    /**
     * The vectorized float output pass gives the scalar loop's bits, with and without a scale,
     * tails included; with corrections, the bits of the pass over the corrected popcounts.
     */
    @Test
    void affinePassAgreesExactly() {
        BinaryGemm vector = Kernels.vectorBinaryGemm();
        assumeTrue(vector != null, "Vector API not present");
        BinaryGemm scalar = Kernels.scalarBinaryGemm();
        Random rnd = new Random(11);
        for (int n : new int[] {0, 1, 7, 16, 49, 196, 785}) {
            int full = 576;
            int[] pop = new int[n + 2];
            float[] scale = new float[n + 1];
            for (int j = 0; j < pop.length; j++) {
                pop[j] = rnd.nextInt(full + 1);
            }
            for (int j = 0; j < scale.length; j++) {
                scale[j] = rnd.nextFloat() * 3f;
            }
            float alpha = 0.01f + rnd.nextFloat();
            float add = (float) rnd.nextGaussian();
            // Halved border corrections, and the popcounts with them added.
            int[] corr = new int[n + 3];
            int[] popPlusCorr = pop.clone();
            for (int j = 0; j < n; j++) {
                corr[3 + j] = rnd.nextInt(3) == 0 ? rnd.nextInt(full / 2 + 1) - full / 4 : 0;
                popPlusCorr[2 + j] += corr[3 + j];
            }
            for (float[] sc : new float[][] {null, scale}) {
                String what = "n " + n + (sc == null ? "" : " scaled");
                float[] ys = new float[n + 4];
                float[] yv = new float[n + 4];
                scalar.affine(pop, 2, full, alpha, sc, 1, add, ys, 4, n);
                vector.affine(pop, 2, full, alpha, sc, 1, add, yv, 4, n);
                assertArrayEquals(ys, yv, what);
                float[] folded = new float[n + 4];
                scalar.affine(popPlusCorr, 2, full, alpha, sc, 1, add, folded, 4, n);
                for (BinaryGemm e : new BinaryGemm[] {scalar, vector}) {
                    float[] y = new float[n + 4];
                    e.affineCorrected(pop, 2, corr, 3, full, alpha, sc, 1, add, y, 4, n);
                    assertArrayEquals(folded, y, "corrected, " + e.name() + ", " + what);
                }
            }
        }
    }

    /** A layer the size of a ResNet stage, where tiles, panels and tails are all full size. */
    @ParameterizedTest
    @MethodSource("implementations")
    void largeLayerIsExact(BinaryGemm gemm) {
        Random rnd = new Random(5);
        int c = 130;
        int m = 70;
        int[] bShape = {2, m, c, 3, 3};
        Tensor b = Tensor.ofSigns(bShape, Close.random(rnd, (int) Tensor.elementCount(bShape)));
        float[] alpha = new float[2 * m];
        Arrays.fill(alpha, 1f);
        int[] xShape = {1, c, 13, 15};
        float[] x = signs(rnd, c * 13 * 15);
        long[] pads = {1, 0, 2, 1};
        var params = new Convolution.Params(1, null, null, null, pads, "NOTSET");
        var g = ConvGeometry.of(new int[] {13, 15}, new int[] {3, 3}, null, null, pads, "NOTSET", false);
        int[] expected = ReferenceBinaryConv.conv(x, xShape, b, 1, g);
        assertArrayEquals(expected, new BinaryConvolution(gemm, params, b, alpha).dots(x, xShape));
    }

    /** The fast path only takes exact ±1 inputs: anything else is handed back (null). */
    @ParameterizedTest
    @MethodSource("implementations")
    void nonSignInputsAreRejected(BinaryGemm gemm) {
        Random rnd = new Random(6);
        int[] bShape = {1, 4, 70, 3, 3};
        Tensor b = Tensor.ofSigns(bShape, Close.random(rnd, (int) Tensor.elementCount(bShape)));
        float[] alpha = {1, 1, 1, 1};
        var conv = new BinaryConvolution(gemm, new Convolution.Params(1, null, null, null, new long[] {1, 1, 1, 1}, "NOTSET"),
                b, alpha);
        int[] xShape = {2, 70, 5, 9};
        float[] base = signs(rnd, 2 * 70 * 45);
        assertNotNull(conv.run(base, xShape, null, null));
        for (float bad : new float[] {0f, -0f, 0.5f, -2f, Float.NaN, Float.POSITIVE_INFINITY}) {
            for (int at : new int[] {0, 17, 45 * 70 + 3, base.length - 1, 64 * 45 + 44}) {
                float[] x = base.clone();
                x[at] = bad;
                assertNull(conv.run(x, xShape, null, null), "value " + bad + " at " + at);
                assertNull(conv.dots(x, xShape), "value " + bad + " at " + at);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void denseDotsAreExactAndOutputsMatchTheReference(BinaryGemm gemm) {
        Random rnd = new Random(7);
        int[] ins = {1, 5, 63, 64, 65, 127, 128, 129, 200, 300};
        for (int trial = 0; trial < 60; trial++) {
            int in = ins[trial % ins.length];
            int out = 1 + rnd.nextInt(trial % 3 == 0 ? 70 : 12);
            int planes = 1 + rnd.nextInt(3);
            int rows = 1 + rnd.nextInt(5);
            int[] bShape = {planes, out, in};
            Tensor b = Tensor.ofSigns(bShape, Close.random(rnd, planes * out * in));
            float[] alpha = new float[planes * out];
            for (int i = 0; i < alpha.length; i++) {
                alpha[i] = 0.05f + rnd.nextFloat();
            }
            float[] bias = rnd.nextBoolean() ? Close.random(rnd, out) : null;
            float[] x = signs(rnd, rows * in);
            var dense = new BinaryDense(gemm, b, alpha, 1 + trial % 3, 0);
            String what = "trial " + trial + " K" + planes + " out " + out + " in " + in + " rows " + rows;
            assertArrayEquals(ReferenceBinaryConv.dense(x, rows, b), dense.dots(x, rows), what);
            float[] w = BinaryOps.effectiveWeight(b, alpha);
            float[] expected = ReferenceGemm.gemm(rows, out, in, 1f, x, false, w, true, 1f, null, out, 1);
            float[] magnitude = ReferenceGemm.gemm(rows, out, in, 1f, Close.abs(x), false, Close.abs(w), true, 1f, null, out, 1);
            if (bias != null) {
                for (int i = 0; i < rows * out; i++) {
                    expected[i] += bias[i % out];
                    magnitude[i] += Math.abs(bias[i % out]);
                }
            }
            Close.check(what, expected, dense.run(x, rows, bias), magnitude, 1e-5);
            float[] notSigns = x.clone();
            notSigns[rows * in - 1] = 0.25f;
            assertNull(dense.run(notSigns, rows, bias), what);
        }
    }

    @Test
    void packingFollowsTheBitLayout() {
        for (BinaryGemm gemm : implementations().toList()) {
            Random rnd = new Random(8);
            for (int count : new int[] {1, 15, 16, 63, 64, 65, 130, 200}) {
                float[] x = signs(rnd, count);
                long[] words = new long[(count + 63) / 64 + 1];
                words[words.length - 1] = 42;
                assertEquals(true, gemm.packSigns(x, 0, count, words, 0));
                byte[] expected = new byte[(count + 7) / 8];
                Tensor.ofSigns(new int[] {count}, x).bytes().get(expected);
                for (int k = 0; k < count; k++) {
                    assertEquals((expected[k >>> 3] >>> (k & 7)) & 1, (int) (words[k >>> 6] >>> (k & 63)) & 1, gemm.name());
                }
                assertEquals(0, words[(count - 1) >>> 6] >>> ((count - 1) & 63) >>> 1, "tail bits " + gemm.name());
                assertEquals(42, words[words.length - 1], "past the end " + gemm.name());
            }
            for (int channels : new int[] {1, 64, 65, 130}) {
                // Planes past 256 pixels cross the vector packer's tiles.
                for (int plane : new int[] {1, 7, 8, 17, 33, 257, 600}) {
                    float[] x = signs(rnd, channels * plane);
                    int blocks = (channels + 63) / 64;
                    int stride = plane + 3;
                    long[] words = new long[blocks * stride];
                    Arrays.fill(words, -1L);
                    assertEquals(true, gemm.packChannels(x, 0, channels, plane, words, 0, stride));
                    for (int blk = 0; blk < blocks; blk++) {
                        for (int p = 0; p < plane; p++) {
                            long w = 0;
                            for (int c = blk * 64; c < Math.min(channels, blk * 64 + 64); c++) {
                                w |= x[c * plane + p] < 0 ? 1L << (c & 63) : 0;
                            }
                            assertEquals(w, words[blk * stride + p], gemm.name() + " c" + channels + " plane " + plane);
                        }
                        assertEquals(-1L, words[blk * stride + plane], "untouched " + gemm.name());
                    }
                    // Any one value that is not ±1, wherever it sits, makes the pack report it.
                    for (float bad : new float[] {0.5f, -0f, Float.NaN}) {
                        float[] y = x.clone();
                        y[rnd.nextInt(y.length)] = bad;
                        assertEquals(false, gemm.packChannels(y, 0, channels, plane, words, 0, stride),
                                gemm.name() + " c" + channels + " plane " + plane + " with " + bad);
                    }
                }
            }
        }
    }
}
