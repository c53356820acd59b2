package dev.onebit.runtime.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ReferenceGemm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Gemm and MatMul through the executor, with constant and run-time operands, against the reference. */
class MatMulOpsTest {

    @Test
    void gemmAllAttributeAndBiasShapes() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 120; trial++) {
            int m = 1 + rnd.nextInt(70);
            int n = 1 + rnd.nextInt(70);
            int k = 1 + rnd.nextInt(70);
            boolean ta = rnd.nextBoolean();
            boolean tb = rnd.nextBoolean();
            float alpha = rnd.nextBoolean() ? 1f : 0.25f + rnd.nextFloat();
            float beta = rnd.nextInt(3) == 0 ? 1f : rnd.nextInt(2) * (0.5f + rnd.nextFloat());
            int[][] cShapes = {null, {}, {n}, {1, n}, {m, 1}, {m, n}, {1, 1}, {1}};
            int[] cShape = cShapes[rnd.nextInt(cShapes.length)];
            boolean constB = rnd.nextBoolean();
            boolean constC = rnd.nextBoolean();
            float[] a = random(rnd, m * k);
            float[] b = random(rnd, k * n);
            float[] c = cShape == null ? null : random(rnd, count(cShape));

            Graph.Builder g = Graph.builder("gemm").opset("", 13);
            Map<String, Value> in = new LinkedHashMap<>();
            g.input(new ValueInfo("A", DataType.FLOAT, null));
            in.put("A", Value.ofFloats(ta ? new int[] {k, m} : new int[] {m, k}, a));
            int[] bShape = tb ? new int[] {n, k} : new int[] {k, n};
            addOperand(g, in, "B", bShape, b, constB);
            List<String> inputs = new ArrayList<>(List.of("A", "B"));
            if (c != null) {
                addOperand(g, in, "C", cShape, c, constC);
                inputs.add("C");
            }
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            attrs.put("alpha", Attribute.of(alpha));
            attrs.put("beta", Attribute.of(beta));
            attrs.put("transA", Attribute.of(ta ? 1L : 0L));
            attrs.put("transB", Attribute.of(tb ? 1L : 0L));
            g.node(Node.of("g", "Gemm", inputs, List.of("Y"), attrs));
            g.output(new ValueInfo("Y", DataType.FLOAT, null));
            Value y = Executor.create(g.build()).run(in).get("Y");

            // C as a full [m, n] matrix for the reference
            float[] cFull = null;
            if (c != null) {
                int cm = cShape.length == 2 ? cShape[0] : 1;
                int cn = cShape.length >= 1 ? cShape[cShape.length - 1] : 1;
                cFull = new float[m * n];
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        cFull[i * n + j] = c[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
                    }
                }
            }
            float[] ref = ReferenceGemm.gemm(m, n, k, alpha, a, ta, b, tb, beta, cFull, n, 1);
            String what = "trial " + trial + " m" + m + " n" + n + " k" + k + " ta " + ta + " tb " + tb
                    + " constB " + constB + " C " + (cShape == null ? "none" : java.util.Arrays.toString(cShape));
            assertArrayEquals(new int[] {m, n}, y.shape, what);
            close(what, ref, y.floats, 1e-5 * (k + 1));
        }
    }

    @Test
    void matMulBroadcastsBatchesAndVectors() {
        Random rnd = new Random(4);
        int[][][] cases = {
            {{5}, {5}, {}}, {{5}, {5, 3}, {3}}, {{4, 5}, {5}, {4}}, {{2, 3, 4, 5}, {5, 6}, {2, 3, 4, 6}},
            {{3, 1, 4, 5}, {2, 5, 7}, {3, 2, 4, 7}}, {{7}, {2, 7, 3}, {2, 3}}, {{2, 4, 7}, {7}, {2, 4}},
            {{1, 33, 40}, {40, 65}, {1, 33, 65}}, {{70, 3}, {3, 2}, {70, 2}}, {{2, 3, 17}, {1, 17, 19}, {2, 3, 19}},
        };
        for (int[][] cs : cases) {
            for (boolean constB : new boolean[] {false, true}) {
                float[] a = random(rnd, count(cs[0]));
                float[] b = random(rnd, count(cs[1]));
                Graph.Builder g = Graph.builder("mm").opset("", 13);
                Map<String, Value> in = new LinkedHashMap<>();
                g.input(new ValueInfo("A", DataType.FLOAT, null));
                in.put("A", Value.ofFloats(cs[0], a));
                addOperand(g, in, "B", cs[1], b, constB);
                g.node(Node.of("mm", "MatMul", List.of("A", "B"), List.of("Y"), Map.of()));
                g.output(new ValueInfo("Y", DataType.FLOAT, null));
                Value y = Executor.create(g.build()).run(in).get("Y");
                String what = java.util.Arrays.deepToString(cs) + " constB " + constB;
                assertArrayEquals(cs[2], y.shape, what);
                close(what, naiveMatMul(a, cs[0], b, cs[1], cs[2]), y.floats, 1e-5 * 41);
            }
        }
    }

    @Test
    void mismatchedInnerDimensionsNameTheNode() {
        Graph.Builder g = Graph.builder("bad").opset("", 13);
        g.input(new ValueInfo("A", DataType.FLOAT, null));
        g.initializer("B", Tensor.ofFloats(new int[] {4, 2}, new float[8]));
        g.node(Node.of("mm1", "MatMul", List.of("A", "B"), List.of("Y"), Map.of()));
        g.output(new ValueInfo("Y", DataType.FLOAT, null));
        Executor ex = Executor.create(g.build());
        ModelException e = assertThrows(ModelException.class,
                () -> ex.run(Map.of("A", Value.ofFloats(new int[] {2, 3}, new float[6]))));
        assertTrue(e.getMessage().contains("mm1"), e.getMessage());
    }

    /** Straight numpy semantics, one output element at a time. */
    private static float[] naiveMatMul(float[] a, int[] as, float[] b, int[] bs, int[] out) {
        int[] a2 = as.length == 1 ? new int[] {1, as[0]} : as;
        int[] b2 = bs.length == 1 ? new int[] {bs[0], 1} : bs;
        int m = a2[a2.length - 2];
        int k = a2[a2.length - 1];
        int n = b2[b2.length - 1];
        int r = Math.max(a2.length, b2.length) - 2;
        int[] batch = new int[r];
        for (int i = 0; i < r; i++) {
            int da = dim(a2, i, r);
            int db = dim(b2, i, r);
            batch[i] = Math.max(da, db);
        }
        int total = count(batch);
        float[] y = new float[total * m * n];
        int[] idx = new int[r];
        for (int t = 0; t < total; t++) {
            int ao = 0;
            int bo = 0;
            for (int i = 0; i < r; i++) {
                ao = ao * dim(a2, i, r) + (dim(a2, i, r) == 1 ? 0 : idx[i]);
                bo = bo * dim(b2, i, r) + (dim(b2, i, r) == 1 ? 0 : idx[i]);
            }
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (double) a[ao * m * k + i * k + p] * b[bo * k * n + p * n + j];
                    }
                    y[(t * m + i) * n + j] = (float) s;
                }
            }
            for (int i = r - 1; i >= 0; i--) {
                if (++idx[i] < batch[i]) {
                    break;
                }
                idx[i] = 0;
            }
        }
        return y;
    }

    private static int dim(int[] s, int i, int r) {
        int off = i - (r - (s.length - 2));
        return off >= 0 ? s[off] : 1;
    }

    private static void addOperand(Graph.Builder g, Map<String, Value> in, String name, int[] shape, float[] v, boolean constant) {
        if (constant) {
            g.initializer(name, Tensor.ofFloats(shape, v));
        } else {
            g.input(new ValueInfo(name, DataType.FLOAT, null));
            in.put(name, Value.ofFloats(shape, v));
        }
    }

    private static void close(String what, float[] expected, float[] actual, double atol) {
        assertTrue(expected.length == actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (Math.abs(expected[i] - actual[i]) > atol + 1e-5 * Math.abs(expected[i])) {
                fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]);
            }
        }
    }

    private static float[] random(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static int count(int[] s) {
        int c = 1;
        for (int d : s) {
            c *= d;
        }
        return c;
    }
}
