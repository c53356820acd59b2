package dev.onebit.runtime.kernels;

import dev.onebit.ir.Tensor;
import dev.onebit.runtime.PackedSigns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Activations kept packed between binary layers: the packed form against the float tensors
 * it stands for, the integer-threshold sign output of the XNOR convolution against the signs
 * of its float output (bit for bit), packed inputs against float ones, and MaxPool as an AND
 * against the float MaxPool.
 */
class PackedSignsTest {

    static Stream<BinaryGemm> implementations() {
        return BinaryConvolutionTest.implementations();
    }

    /** The layer with some channels' alpha made negative or zero, as a BN fold can leave them. */
    private static BinaryConvolutionTest.Case withAwkwardAlpha(BinaryConvolutionTest.Case c, Random rnd) {
        float[] alpha = c.alpha().clone();
        for (int i = 0; i < alpha.length; i++) {
            switch (rnd.nextInt(6)) {
                case 0 -> alpha[i] = -alpha[i];
                case 1 -> alpha[i] = rnd.nextBoolean() ? 0f : -0f;
                default -> { }
            }
        }
        float[] bias = c.bias();
        if (bias != null && rnd.nextBoolean()) {
            // Biases that land some outputs exactly on 0 (which is +1): bias = -alpha * dot.
            bias = bias.clone();
            int full = c.cg() * Arrays.stream(c.kernel()).reduce(1, (a, b) -> a * b);
            for (int o = 0; o < bias.length; o++) {
                if (o % 2 == 0) {
                    int dot = full - 2 * rnd.nextInt(full + 1);
                    bias[o] = -(alpha[o] * dot);
                }
            }
        }
        return new BinaryConvolutionTest.Case(c.n(), c.group(), c.cg(), c.mg(), c.planes(), c.in(), c.kernel(),
                c.strides(), c.dilations(), c.pads(), c.autoPad(), c.b(), alpha, bias, false, c.x());
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void signOutputEqualsTheSignsOfTheFloatOutput(BinaryGemm gemm) {
        Random rnd = new Random(21);
        int i = 0;
        for (BinaryConvolutionTest.Case c0 : BinaryConvolutionTest.cases(31, 160)) {
            BinaryConvolutionTest.Case c = withAwkwardAlpha(c0, rnd);
            var conv = new BinaryConvolution(gemm, c.params(), c.b(), c.alpha(), 1 + i % 3, 0, i++ % 2 == 0 ? 0 : 1 << 16);
            int[] outShape = conv.outputShape(c.xShape());
            float[] y = conv.run(c.x(), c.xShape(), null, c.bias());
            assertNotNull(y, c.toString());
            PackedSigns expected = PackedSigns.pack(y, outShape, Kernels.scalarBinaryGemm());
            PackedSigns fromFloats = conv.runSigns(c.x(), null, c.xShape(), c.bias());
            assertNotNull(fromFloats, c.toString());
            assertArrayEquals(expected.words, fromFloats.words, c.toString());

            PackedSigns in = PackedSigns.pack(c.x(), c.xShape(), gemm);
            assertArrayEquals(expected.words, conv.runSigns(null, in, c.xShape(), c.bias()).words, "packed in, " + c);
            assertArrayEquals(y, conv.run(in, c.xShape(), null, c.bias()), "packed in, float out, " + c);
        }
    }

    /** More output positions than one tile of the threshold step (256), and two words of channels. */
    @ParameterizedTest
    @MethodSource("implementations")
    void signOutputAcrossTiles(BinaryGemm gemm) {
        Random rnd = new Random(26);
        int c = 67;
        int m = 70;
        int[] xShape = {2, c, 21, 19};
        Tensor b = Tensor.ofSigns(new int[] {1, m, c, 3, 3}, Close.random(rnd, m * c * 9));
        float[] alpha = Close.random(rnd, m);
        float[] bias = Close.random(rnd, m);
        var params = new Convolution.Params(1, null, null, null, new long[] {1, 1, 1, 1}, "NOTSET");
        var conv = new BinaryConvolution(gemm, params, b, alpha, 1, 0);
        float[] x = BinaryConvolutionTest.signs(rnd, 2 * c * 21 * 19);
        float[] y = conv.run(x, xShape, null, bias);
        PackedSigns expected = PackedSigns.pack(y, conv.outputShape(xShape), Kernels.scalarBinaryGemm());
        assertArrayEquals(expected.words, conv.runSigns(x, null, xShape, bias).words);
    }

    /** Outputs exactly 0 are +1; alpha of either sign or zero; the cases a threshold gets wrong first. */
    @Test
    void thresholdsReproduceTiesAndZeroScales() {
        int full = 9;
        float[] alpha = {0.5f, -0.5f, 0f, -0f, 0f, 1e-30f, 3f};
        float[] bias = {-1.5f, 1.5f, -1f, 0f, 2f, 0f, -0f};
        SignThresholds t = SignThresholds.of(alpha, bias, full);
        for (int o = 0; o < alpha.length; o++) {
            for (int pop = 0; pop <= full; pop++) {
                boolean negative = alpha[o] * (full - 2 * pop) + bias[o] < 0;
                assertEquals(true, t.exact[o]);
                assertEquals(negative, (pop >= t.threshold[o]) != t.flip[o], "channel " + o + " pop " + pop);
            }
        }
        // NaN alpha makes every output NaN, which is +1: still a (never-true) threshold.
        SignThresholds nan = SignThresholds.of(new float[] {Float.NaN}, null, 4);
        assertEquals(5, nan.threshold[0]);
    }

    @Test
    void signBitsAgreeBetweenEngines() {
        BinaryGemm vector = Kernels.vectorBinaryGemm();
        assumeTrue(vector != null, "Vector API not present");
        Random rnd = new Random(22);
        for (int n : new int[] {0, 1, 7, 8, 9, 49, 196, 785}) {
            int[] pop = new int[n + 3];
            for (int j = 0; j < pop.length; j++) {
                pop[j] = rnd.nextInt(100);
            }
            for (boolean flip : new boolean[] {false, true}) {
                long[] a = new long[n + 5];
                long[] b = new long[n + 5];
                for (int j = 0; j < a.length; j++) {
                    a[j] = b[j] = rnd.nextLong() & ~(1L << 37);
                }
                Kernels.scalarBinaryGemm().signBits(pop, 3, 50, flip, 37, a, 2, n);
                vector.signBits(pop, 3, 50, flip, 37, b, 2, n);
                assertArrayEquals(a, b, "n " + n + " flip " + flip);
            }
        }
    }

    /** Four channels' bits at once give what four one-channel calls give, on both engines. */
    @Test
    void fourChannelSignBitsEqualFourSingleCalls() {
        Random rnd = new Random(23);
        BinaryGemm scalar = Kernels.scalarBinaryGemm();
        BinaryGemm vector = Kernels.vectorBinaryGemm();
        for (int n : new int[] {0, 1, 7, 8, 9, 49, 196, 785}) {
            int ldc = n + rnd.nextInt(9);
            int[] pop = new int[3 + 4 * ldc];
            for (int j = 0; j < pop.length; j++) {
                pop[j] = rnd.nextInt(100);
            }
            int[] threshold = new int[6];
            boolean[] flip = new boolean[6];
            for (int k = 0; k < 6; k++) {
                threshold[k] = rnd.nextInt(102);
                flip[k] = rnd.nextBoolean();
            }
            int bit0 = rnd.nextInt(61);
            long[] before = new long[n + 5];
            for (int j = 0; j < before.length; j++) {
                before[j] = rnd.nextLong();
            }
            long[] expected = before.clone();
            for (int k = 0; k < 4; k++) {
                scalar.signBits(pop, 3 + k * ldc, threshold[2 + k], flip[2 + k], bit0 + k, expected, 2, n);
            }
            for (BinaryGemm e : vector == null ? List.of(scalar) : List.of(scalar, vector)) {
                long[] got = before.clone();
                e.signBits4(pop, 3, ldc, threshold, flip, 2, bit0, got, 2, n);
                assertArrayEquals(expected, got, e.name() + " n " + n + " bit0 " + bit0);
            }
        }
    }

    @Test
    void packAndUnpackRoundTrip() {
        Random rnd = new Random(23);
        for (BinaryGemm gemm : implementations().toList()) {
            for (int[] shape : new int[][] {{1, 1}, {3, 200}, {2, 65}, {2, 7, 5}, {1, 130, 3, 3}, {2, 64, 4, 6}, {1, 3, 1, 1}}) {
                int count = 1;
                for (int d : shape) {
                    count *= d;
                }
                float[] x = Close.random(rnd, count);
                x[0] = -0f;
                x[count - 1] = Float.NaN;
                PackedSigns s = PackedSigns.pack(x, shape, gemm);
                float[] u = s.unpack();
                for (int i = 0; i < count; i++) {
                    assertEquals(x[i] < 0 ? -1f : 1f, u[i], Arrays.toString(shape) + " element " + i);
                }
                int perBlock = Math.min(64, shape[1] - (s.blocks - 1) * 64);
                if (perBlock < 64) {
                    for (int img = 0; img < s.images; img++) {
                        for (int p = 0; p < s.pixels; p++) {
                            long last = s.words[(img * s.blocks + s.blocks - 1) * s.pixels + p];
                            assertEquals(0, last >>> perBlock, "unused channel bits are 0");
                        }
                    }
                }
            }
        }
    }

    @Test
    void maxPoolOfSignsIsTheFloatMaxPool() {
        Random rnd = new Random(24);
        int emptyWindows = 0;
        int compared = 0;
        for (int trial = 0; trial < 200; trial++) {
            int c = new int[] {1, 3, 63, 64, 65, 130}[trial % 6];
            int h = 1 + rnd.nextInt(9);
            int w = 1 + rnd.nextInt(9);
            int[] kernel = {1 + rnd.nextInt(3), 1 + rnd.nextInt(3)};
            long[] strides = {1 + rnd.nextInt(2), 1 + rnd.nextInt(2)};
            long[] dilations = {1 + rnd.nextInt(2), 1};
            long[] pads = {rnd.nextInt(kernel[0]), rnd.nextInt(kernel[1]), rnd.nextInt(kernel[0]), rnd.nextInt(kernel[1])};
            boolean ceil = rnd.nextBoolean();
            ConvGeometry g;
            try {
                g = ConvGeometry.of(new int[] {h, w}, kernel, strides, dilations, pads, "NOTSET", ceil);
            } catch (IllegalArgumentException e) {
                continue;
            }
            if (g.outCount() == 0) {
                continue;
            }
            int n = 1 + rnd.nextInt(2);
            int[] shape = {n, c, h, w};
            float[] x = BinaryConvolutionTest.signs(rnd, n * c * h * w);
            float[] expected = Pooling.maxPool(x, shape, g, null, false);
            PackedSigns pooled = PackedSigns.pack(x, shape, Kernels.binaryGemm()).maxPool(g);
            if (pooled == null) {
                // A window wholly in the padding: ONNX's -inf is no sign, so the float path must run.
                assertEquals(true, Arrays.stream(boxed(expected)).anyMatch(v -> v == Float.NEGATIVE_INFINITY));
                emptyWindows++;
                continue;
            }
            float[] actual = pooled.unpack();
            assertArrayEquals(expected, actual, "trial " + trial + " c " + c + " " + h + "x" + w + " k "
                    + Arrays.toString(kernel) + " s " + Arrays.toString(strides) + " pads " + Arrays.toString(pads)
                    + (ceil ? " ceil" : ""));
            compared++;
        }
        assertEquals(true, compared > 100 && emptyWindows > 0, compared + " compared, " + emptyWindows + " with empty windows");
    }

    private static Float[] boxed(float[] v) {
        Float[] b = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            b[i] = v[i];
        }
        return b;
    }

    /** A dense layer reading a flattened [C, pixels] item straight from the packed channel layout. */
    @ParameterizedTest
    @MethodSource("implementations")
    void denseTakesFlattenedPackedSigns(BinaryGemm gemm) {
        Random rnd = new Random(25);
        for (int trial = 0; trial < 40; trial++) {
            int c = new int[] {1, 5, 63, 64, 65, 128, 130}[trial % 7];
            int pixels = 1 + rnd.nextInt(10);
            int in = c * pixels;
            int out = 1 + rnd.nextInt(40);
            int planes = 1 + rnd.nextInt(2);
            int rows = 1 + rnd.nextInt(3);
            Tensor b = Tensor.ofSigns(new int[] {planes, out, in}, Close.random(rnd, planes * out * in));
            float[] alpha = Close.random(rnd, planes * out);
            float[] bias = rnd.nextBoolean() ? Close.random(rnd, out) : null;
            float[] x = BinaryConvolutionTest.signs(rnd, rows * in);
            var dense = new BinaryDense(gemm, b, alpha, 1 + trial % 2, 0);
            PackedSigns packed = PackedSigns.pack(x, new int[] {rows, c, pixels}, gemm);
            String what = "c " + c + " pixels " + pixels + " out " + out + " K" + planes + " rows " + rows;
            assertArrayEquals(dense.run(x, rows, bias), dense.run(packed, bias), what);
        }
    }

    /**
     * Signs and channel sums in one pass (a Binarize fused with the activation scales of the
     * same activation): the words {@link PackedSigns#pack} gives, and the sums of |Relu(x)|
     * that {@code ActivationScales} takes of a Relu's output, bit for bit, also where x holds
     * NaN, signed zeros, infinities and subnormals; for channel counts crossing the four-channel
     * steps and the 64-channel words, planes crossing the vector lanes and the packer's tiles.
     */
    @ParameterizedTest
    @MethodSource("implementations")
    void signsAndChannelSumsInOnePass(BinaryGemm gemm) {
        Random rnd = new Random(5);
        float[] special = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e-40f, -1e-40f};
        for (int channels : new int[] {1, 3, 4, 5, 64, 67, 130}) {
            for (int plane : new int[] {1, 7, 8, 17, 257, 600}) {
                int n = 2;
                int[] shape = {n, channels, plane};
                float[] x = new float[n * channels * plane];
                for (int i = 0; i < x.length; i++) {
                    x[i] = rnd.nextInt(50) == 0 ? special[rnd.nextInt(special.length)] : (float) rnd.nextGaussian();
                }
                float[] sums = new float[n * plane];
                PackedSigns s = PackedSigns.packWithSums(x, shape, gemm, sums);
                String what = gemm.name() + " c" + channels + " plane " + plane;
                assertArrayEquals(PackedSigns.pack(x, shape, Kernels.scalarBinaryGemm()).words, s.words, what);
                float[] relu = new float[x.length];
                for (int i = 0; i < x.length; i++) {
                    relu[i] = Math.max(x[i], 0f);
                }
                float[] expected = new float[n * plane];
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < channels; c++) {
                        for (int p = 0; p < plane; p++) {
                            expected[i * plane + p] += Math.abs(relu[(i * channels + c) * plane + p]);
                        }
                    }
                }
                for (int i = 0; i < expected.length; i++) {
                    assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(sums[i]), what + " at " + i);
                }
            }
        }
    }
}
