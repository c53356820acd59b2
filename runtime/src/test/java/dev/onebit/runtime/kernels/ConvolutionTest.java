package dev.onebit.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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

    /** The output positions split into parts, as with several threads, give the same result. */
    @ParameterizedTest
    @MethodSource("implementations")
    void splitProductsMatchReference(FloatGemm gemm) {
        Random rnd = new Random(44);
        int done = 0;
        while (done < 40) {
            if (tryOne(gemm, rnd, 2, done, 2 + done % 4)) {
                done++;
            }
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
        Convolution conv = constant ? new Convolution(gemm, params, w, wShape, bias, parts, 0)
                : new Convolution(gemm, params, null, null, null, parts, 0);
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
