package dev.onebit.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fast Conv against the literal ONNX formula on many random configurations. */
class ConvolutionTest {
    private static final String[] AUTO_PAD = {"NOTSET", "NOTSET", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    private static final int[] KERNELS = {1, 3, 5, 7};

    static Stream<FloatGemm> implementations() {
        List<FloatGemm> l = new ArrayList<>();
        l.add(Kernels.scalarGemm());
        if (Kernels.vectorGemm() != null) {
            l.add(Kernels.vectorGemm());
        }
        return l.stream();
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void conv2dMatchesReference(FloatGemm gemm) {
        Random rnd = new Random(42);
        int done = 0;
        while (done < 150) {
            if (tryOne(gemm, rnd, 2, done)) {
                done++;
            }
        }
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void conv1dAnd3dMatchReference(FloatGemm gemm) {
        Random rnd = new Random(43);
        int done = 0;
        while (done < 60) {
            if (tryOne(gemm, rnd, done % 2 == 0 ? 1 : 3, done)) {
                done++;
            }
        }
    }

    /** First layers (gray and RGB 3x3, stride 1) take the tap-by-tap shallow path; it matches too. */
    @ParameterizedTest
    @MethodSource("implementations")
    void shallowFirstLayersMatchReference(FloatGemm gemm) {
        Random rnd = new Random(45);
        int[][] shapes = {{1, 32, 28, 28}, {3, 16, 13, 19}, {2, 5, 3, 17}};
        long[][] pads = {{1, 1, 1, 1}, {1, 0, 2, 1}, {0, 1, 0, 2}};
        for (int t = 0; t < shapes.length; t++) {
            int c = shapes[t][0];
            int m = shapes[t][1];
            int[] xShape = {2, c, shapes[t][2], shapes[t][3]};
            int[] wShape = {m, c, 3, 3};
            ConvGeometry g = ConvGeometry.of(new int[] {xShape[2], xShape[3]}, new int[] {3, 3}, null, null, pads[t],
                    "NOTSET", false);
            assertTrue(Convolution.isShallow(g, 1, c), "case " + t + " is shallow");
            ConvGeometry narrow = ConvGeometry.of(new int[] {xShape[2], 15}, new int[] {3, 3}, null, null,
                    new long[] {1, 1, 1, 1}, "NOTSET", false);
            assertFalse(Convolution.isShallow(narrow, 1, c), "rows of 15 go through the GEMM");
            ConvGeometry pointwise = ConvGeometry.of(new int[] {xShape[2], xShape[3]}, new int[] {1, 1}, null, null,
                    null, "NOTSET", false);
            assertFalse(Convolution.isShallow(pointwise, 1, c), "1x1 convs go through the GEMM");
            float[] x = Close.random(rnd, count(xShape));
            float[] w = Close.random(rnd, count(wShape));
            float[] bias = t == 1 ? null : Close.random(rnd, m);
            var conv = new Convolution(gemm, new Convolution.Params(1, null, null, null, pads[t], "NOTSET"), w, wShape,
                    bias);
            float[] y = conv.run(x, xShape, null, null, null);
            Close.check("shallow case " + t, ReferenceConv.conv(x, xShape, w, wShape, bias, 1, g), y,
                    ReferenceConv.conv(Close.abs(x), xShape, Close.abs(w), wShape, Close.abs(bias), 1, g), 1e-5);
        }
    }

    /** The shallow path's row sums: vector and scalar give the same bits, for rows shorter and longer than a vector. */
    @org.junit.jupiter.api.Test
    void tapSumsAgreeExactly() {
        FloatPasses vector = Kernels.vectorFloatPasses();
        org.junit.jupiter.api.Assumptions.assumeTrue(vector != null, "Vector API not present");
        FloatPasses scalar = Kernels.scalarFloatPasses();
        Random rnd = new Random(46);
        float[] x = Close.random(rnd, 2000);
        int[] off = {0, 1, 2, 40, 41, 42, 80, 81, 82, 500, 501};
        for (int m : new int[] {1, 3, 4, 5, 9}) {
            for (int n : new int[] {1, 7, 16, 17, 28, 32, 33, 48, 64, 100}) {
                float[] w = Close.random(rnd, m * off.length);
                float[] bias = m == 3 ? null : Close.random(rnd, m);
                float[] a = new float[3 + m * 120];
                float[] b = new float[3 + m * 120];
                scalar.tapSums(x, 5, off, w, m, bias, a, 3, 120, n);
                vector.tapSums(x, 5, off, w, m, bias, b, 3, 120, n);
                org.junit.jupiter.api.Assertions.assertArrayEquals(a, b, "m " + m + " n " + n);
            }
        }
    }

    /**
     * The output positions, or a batch's images, split into parts on kernel threads give the
     * same result.
     */
    @ParameterizedTest
    @MethodSource("implementations")
    void splitProductsMatchReference(FloatGemm gemm) {
        int previous = Kernels.threads();
        Kernels.setThreads(3);
        try {
            Random rnd = new Random(44);
            int done = 0;
            while (done < 60) {
                if (tryOne(gemm, rnd, 2, done, 2 + done % 4)) {
                    done++;
                }
            }
        } finally {
            Kernels.setThreads(previous);
        }
    }

    private static boolean tryOne(FloatGemm gemm, Random rnd, int rank, int trial) {
        return tryOne(gemm, rnd, rank, trial, 1);
    }

    /** One random configuration; false when it was skipped as invalid or too large for the reference. */
    private static boolean tryOne(FloatGemm gemm, Random rnd, int rank, int trial, int parts) {
        int groupKind = rnd.nextInt(4);
        int cg = 1 + (rnd.nextInt(3) == 0 ? rnd.nextInt(70) : rnd.nextInt(8));
        int group = groupKind == 0 ? 1 + rnd.nextInt(4) : 1;
        int mg = 1 + (rnd.nextInt(3) == 0 ? rnd.nextInt(70) : rnd.nextInt(9));
        if (groupKind == 1) {
            // depthwise, with an occasional channel multiplier
            cg = 1;
            group = 1 + rnd.nextInt(40);
            mg = rnd.nextInt(4) == 0 ? 2 : 1;
        }
        int c = cg * group;
        int m = mg * group;
        int batch = 1 + rnd.nextInt(3);
        int[] in = new int[rank];
        int[] k = new int[rank];
        long[] s = new long[rank];
        long[] d = new long[rank];
        long[] pads = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
            k[i] = rank == 3 ? 1 + 2 * rnd.nextInt(2) : KERNELS[rnd.nextInt(KERNELS.length)];
            s[i] = 1 + rnd.nextInt(2);
            d[i] = 1 + (rnd.nextInt(3) == 0 ? 1 : 0);
            in[i] = 1 + rnd.nextInt(rank == 1 ? 40 : rank == 2 ? 17 : 7);
            pads[i] = rnd.nextInt(k[i]);
            pads[rank + i] = rnd.nextInt(k[i]);
        }
        String autoPad = AUTO_PAD[rnd.nextInt(AUTO_PAD.length)];
        ConvGeometry g;
        try {
            g = ConvGeometry.of(in, k, s, d, pads, autoPad, false);
        } catch (IllegalArgumentException e) {
            return false;
        }
        long cost = (long) batch * m * g.outCount() * cg * g.kernelCount();
        if (cost > 3_000_000) {
            return false;
        }
        int[] xShape = new int[rank + 2];
        xShape[0] = batch;
        xShape[1] = c;
        System.arraycopy(in, 0, xShape, 2, rank);
        int[] wShape = new int[rank + 2];
        wShape[0] = m;
        wShape[1] = cg;
        System.arraycopy(k, 0, wShape, 2, rank);
        float[] x = Close.random(rnd, count(xShape));
        float[] w = Close.random(rnd, count(wShape));
        float[] bias = rnd.nextBoolean() ? Close.random(rnd, m) : null;
        Convolution.Params params = new Convolution.Params(group, rnd.nextBoolean() ? k : null, s, d, pads, autoPad);
        boolean constant = rnd.nextInt(4) != 0;
        // Every other split trial makes one image too little work to split, so a batch splits by images.
        long work = (long) mg * g.outCount() * cg * g.kernelCount();
        long minWork = parts > 1 && trial % 2 == 1 ? work + 1 : 0;
        Convolution conv = constant ? new Convolution(gemm, params, w, wShape, bias, parts, minWork)
                : new Convolution(gemm, params, null, null, null, parts, minWork);
        float[] y = conv.run(x, xShape, constant ? null : w, constant ? null : wShape, constant ? null : bias);
        float[] ref = ReferenceConv.conv(x, xShape, w, wShape, bias, group, g);
        float[] mag = ReferenceConv.conv(Close.abs(x), xShape, Close.abs(w), wShape, Close.abs(bias), group, g);
        Close.check(gemm.name() + " trial " + trial + " c" + c + " m" + m + " group " + group + " batch " + batch
                + " " + autoPad + " " + g, ref, y, mag, 1e-4);
        return true;
    }

    static int count(int[] shape) {
        int n = 1;
        for (int v : shape) {
            n *= v;
        }
        return n;
    }
}
