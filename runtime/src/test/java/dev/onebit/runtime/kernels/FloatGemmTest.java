package dev.onebit.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class FloatGemmTest {

    static Stream<FloatGemm> implementations() {
        List<FloatGemm> l = new ArrayList<>();
        l.add(Kernels.scalarGemm());
        if (Kernels.vectorGemm() != null) {
            l.add(Kernels.vectorGemm());
        }
        return l.stream();
    }

    @Test
    void vectorImplementationLoadsWhenModulePresent() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
            assertNotNull(Kernels.vectorGemm());
            assertEquals(Kernels.vectorGemm(), Kernels.floatGemm());
        } else {
            assertEquals(Kernels.scalarGemm(), Kernels.floatGemm());
        }
    }

    /** Sizes from 1 to ~130 on every axis, crossing panel and tile boundaries. */
    @ParameterizedTest
    @MethodSource("implementations")
    void plainProductMatchesReference(FloatGemm gemm) {
        Random rnd = new Random(7);
        int[] sizes = {1, 2, 5, 6, 7, 15, 16, 17, 31, 32, 33, 47, 64, 65, 97, 130};
        // first a few shapes whose narrow rows (n < 8) make the output's vector stores start before its rows
        // and long dot products, which are cut into blocks
        int[][] fixed = {{16, 6, 5}, {33, 7, 9}, {64, 6, 1}, {17, 12, 3}, {70, 13, 769}, {20, 7, 1600}, {64, 6, 2500}};
        for (int trial = 0; trial < 120 + fixed.length; trial++) {
            boolean f = trial < fixed.length;
            int m = f ? fixed[trial][0] : sizes[rnd.nextInt(sizes.length)];
            int n = f ? fixed[trial][1] : sizes[rnd.nextInt(sizes.length)];
            int k = f ? fixed[trial][2] : sizes[rnd.nextInt(sizes.length)];
            float[] a = Close.random(rnd, m * k);
            float[] b = Close.random(rnd, k * n);
            float[] c = new float[m * n];
            gemm.multiply(m, n, k, a, 0, b, 0, c, 0);
            float[] ref = ReferenceGemm.gemm(m, n, k, 1f, a, false, b, false, 0f, null, 0, 0);
            float[] mag = ReferenceGemm.gemm(m, n, k, 1f, Close.abs(a), false, Close.abs(b), false, 0f, null, 0, 0);
            Close.check(gemm.name() + " " + m + "x" + n + "x" + k, ref, c, mag, 1e-5);
        }
    }

    /** Transposed operands, scale, bias, accumulation and a transposed output, all through strides/offsets. */
    @ParameterizedTest
    @MethodSource("implementations")
    void stridedOperandsBiasAndAccumulate(FloatGemm gemm) {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 80; trial++) {
            int m = 1 + rnd.nextInt(130);
            int n = 1 + rnd.nextInt(130);
            int k = trial % 10 == 9 ? 700 + rnd.nextInt(1200) : 1 + rnd.nextInt(130);
            boolean ta = rnd.nextBoolean();
            boolean tb = rnd.nextBoolean();
            boolean tc = rnd.nextBoolean();
            float alpha = rnd.nextBoolean() ? 1f : 0.5f + rnd.nextFloat();
            float[] a = Close.random(rnd, m * k);
            float[] b = Close.random(rnd, k * n);
            float[] bias = Close.random(rnd, m + 3);
            float[] prior = Close.random(rnd, m * n);
            PackedMatrix pa = ta ? gemm.pack(a, 0, 1, m, m, k, alpha) : gemm.pack(a, 0, k, 1, m, k, alpha);
            int[] rows = tb ? Offsets.strided(k, 1) : Offsets.strided(k, n);
            int[] cols = tb ? Offsets.strided(n, k) : Offsets.strided(n, 1);
            // C stored either row-major [m][n] or transposed [n][m], with the prior values in that layout.
            float[] c = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    c[tc ? j * m + i : i * n + j] = prior[i * n + j];
                }
            }
            gemm.multiply(pa, n, b, 0, rows, cols, bias, 3, true, c, 0, tc ? 1 : n, tc ? m : 1);
            float[] ref = ReferenceGemm.gemm(m, n, k, alpha, a, ta, b, tb, 1f, prior, n, 1);
            float[] mag = ReferenceGemm.gemm(m, n, k, alpha, Close.abs(a), ta, Close.abs(b), tb, 1f, Close.abs(prior), n, 1);
            float[] got = new float[m * n];
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    got[i * n + j] = c[tc ? j * m + i : i * n + j] - bias[3 + i];
                }
            }
            Close.check(gemm.name() + " strided " + m + "x" + n + "x" + k, ref, got, mag, 1e-5);
        }
    }
}
