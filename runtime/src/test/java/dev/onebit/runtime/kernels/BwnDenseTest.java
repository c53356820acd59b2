package dev.onebit.runtime.kernels;

import dev.onebit.ir.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The BWN fully connected kernel against an obviously correct one (double sums of x * ±1, then
 * the output step), to float rounding; and its engines against each other, bit for bit.
 */
class BwnDenseTest {
    private static final int[] INS = {1, 5, 15, 16, 17, 63, 64, 65, 130, 1152};

    static Stream<BwnGemm> implementations() {
        List<BwnGemm> l = new ArrayList<>();
        l.add(Kernels.scalarBwnGemm());
        if (Kernels.vectorBwnGemm() != null) {
            l.add(Kernels.vectorBwnGemm());
        }
        return l.stream();
    }

    /** One random layer and input. */
    private record Case(int rows, int in, int out, int planes, Tensor b, float[] alpha, float[] bias, float[] x) {
        static Case random(Random rnd, int in) {
            int out = 1 + rnd.nextInt(70);
            int planes = 1 + rnd.nextInt(3);
            int rows = 1 + rnd.nextInt(5);
            Tensor b = Tensor.ofSigns(new int[] {planes, out, in}, Close.random(rnd, planes * out * in));
            float[] alpha = Close.random(rnd, planes * out);
            float[] bias = rnd.nextBoolean() ? Close.random(rnd, out) : null;
            return new Case(rows, in, out, planes, b, alpha, bias, Close.random(rnd, rows * in));
        }

        @Override
        public String toString() {
            return rows + "x" + in + " -> " + out + " K" + planes + (bias == null ? "" : " bias");
        }
    }

    /** The exact ±1 products in double, then the output step; {@code abs} gives the magnitudes instead. */
    private static float[] reference(Case c, boolean abs) {
        float[] y = new float[c.rows * c.out];
        for (int r = 0; r < c.rows; r++) {
            for (int o = 0; o < c.out; o++) {
                double v = 0;
                for (int k = 0; k < c.planes; k++) {
                    double dot = 0;
                    for (int i = 0; i < c.in; i++) {
                        double xv = c.x[r * c.in + i];
                        double p = c.b.isNegativeBit((k * c.out + o) * c.in + i) ? -xv : xv;
                        dot += abs ? Math.abs(p) : p;
                    }
                    double a = c.alpha[k * c.out + o];
                    v += abs ? Math.abs(a) * dot : a * dot;
                }
                double add = c.bias == null ? 0 : c.bias[o];
                y[r * c.out + o] = (float) (v + (abs ? Math.abs(add) : add));
            }
        }
        return y;
    }

    @ParameterizedTest
    @MethodSource("implementations")
    void matchesTheExactProductToRounding(BwnGemm gemm) {
        Random rnd = new Random(31);
        for (int trial = 0; trial < 200; trial++) {
            Case c = Case.random(rnd, INS[trial % INS.length]);
            // Every third case splits its blocks into parts, as with several threads.
            var dense = new BwnDense(gemm, c.b, c.alpha, 1 + trial % 3, 0);
            float[] y = dense.run(c.x, c.rows, c.bias);
            Close.check(gemm.name() + " " + c, reference(c, false), y, reference(c, true), 1e-5);
        }
    }

    /** Every input size, 1 to 5 rows, and column counts around the 64-column blocks. */
    @Test
    void enginesGiveTheSameBits() {
        assumeTrue(Kernels.vectorBwnGemm() != null, "no Vector API engine in this JVM");
        Random rnd = new Random(32);
        int trial = 0;
        for (int in : INS) {
            for (int rows = 1; rows <= 5; rows++) {
                for (int out : new int[] {1, 7, 21, 32, 63, 64, 65, 70, 129}) {
                    int planes = 1 + trial++ % 3;
                    Tensor b = Tensor.ofSigns(new int[] {planes, out, in}, Close.random(rnd, planes * out * in));
                    float[] alpha = Close.random(rnd, planes * out);
                    float[] bias = trial % 2 == 0 ? Close.random(rnd, out) : null;
                    float[] x = Close.random(rnd, rows * in);
                    String what = rows + "x" + in + " -> " + out + " K" + planes;
                    var scalar = new BwnDense(Kernels.scalarBwnGemm(), b, alpha, 1, 0);
                    var vector = new BwnDense(Kernels.vectorBwnGemm(), b, alpha, 1 + trial % 2, 0);
                    assertArrayEquals(scalar.dots(x, rows), vector.dots(x, rows), what);
                    assertArrayEquals(scalar.run(x, rows, bias), vector.run(x, rows, bias), what);
                }
            }
        }
    }

    /** The tables of the engines against the formula, for every group of a row with a tail and odd values. */
    @Test
    void tablesFollowTheirFixedOrder() {
        Random rnd = new Random(33);
        for (int in = 0; in < 40; in++) {
            float[] x = new float[2 * in + 3];
            for (int i = 0; i < x.length; i++) {
                // Widely spread magnitudes, so that another order would round differently.
                x[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            }
            int groups = BwnGemm.groups(in);
            assertEquals(0, groups % 2);
            assertTrue(groups * 4 >= in && groups * 4 < in + 8);
            int ldt = groups * 16 + 5;
            for (BwnGemm gemm : implementations().toList()) {
                float[] t = new float[2 + 2 * ldt];
                gemm.tables(x, 3, in, 2, in, t, 2, ldt);
                for (int r = 0; r < 2; r++) {
                    for (int g = 0; g < groups; g++) {
                        for (int p = 0; p < 16; p++) {
                            float expected = 0f;
                            for (int k = 0; k < 4; k++) {
                                int i = 4 * g + k;
                                float v = i < in ? x[3 + r * in + i] : 0f;
                                float s = (p >>> k & 1) != 0 ? -v : v;
                                expected = k == 0 ? s : expected + s;
                            }
                            assertEquals(expected, t[2 + r * ldt + g * 16 + p],
                                    gemm.name() + " in " + in + " row " + r + " group " + g + " pattern " + p);
                        }
                    }
                }
            }
        }
    }

    /** ±1 inputs make every dot product an integer, exact in float: then the result is the reference's to the bit. */
    @ParameterizedTest
    @MethodSource("implementations")
    void signInputsGiveTheXnorKernelsBits(BwnGemm gemm) {
        Random rnd = new Random(34);
        for (int trial = 0; trial < 30; trial++) {
            int in = INS[trial % INS.length];
            int out = 1 + rnd.nextInt(70);
            int planes = 1 + rnd.nextInt(3);
            int rows = 1 + rnd.nextInt(5);
            Tensor b = Tensor.ofSigns(new int[] {planes, out, in}, Close.random(rnd, planes * out * in));
            float[] alpha = Close.random(rnd, planes * out);
            float[] bias = rnd.nextBoolean() ? Close.random(rnd, out) : null;
            float[] x = BinaryConvolutionTest.signs(rnd, rows * in);
            var xnor = new BinaryDense(Kernels.scalarBinaryGemm(), b, alpha);
            assertArrayEquals(xnor.run(x, rows, bias), new BwnDense(gemm, b, alpha).run(x, rows, bias),
                    rows + "x" + in + " -> " + out + " K" + planes);
        }
    }

    @Test
    void rejectsWrongSizes() {
        Tensor b = Tensor.ofSigns(new int[] {1, 3, 4}, new float[12]);
        assertThrows(IllegalArgumentException.class, () -> new BwnDense(b, new float[2]));
        var dense = new BwnDense(b, new float[3]);
        assertThrows(IllegalArgumentException.class, () -> dense.run(new float[5], 1, null));
        assertThrows(IllegalArgumentException.class, () -> dense.run(new float[4], 1, new float[2]));
        assertEquals(0, dense.run(new float[0], 0, null).length);
        assertThrows(IllegalArgumentException.class,
                () -> new BwnDense(Tensor.ofFloats(new int[] {1, 3, 4}, new float[12]), new float[3]));
    }
}
