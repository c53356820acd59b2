package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.FloatGemm;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.PackedMatrix;

import java.util.Arrays;

/**
 * Gemm and MatMul in float32.
 *
 * <p>Both map {@code Y[M][N] = A[M][K] * B[K][N]} onto {@link FloatGemm}, whose packed operand
 * is the one it vectorizes over. When {@code B} is a constant weight (the usual fully connected
 * layer) it is packed once as {@code B^T}, so the product is computed as {@code Y^T = B^T A^T}:
 * the output features are vectorized, the batch rows are broadcast, Gemm's bias becomes the
 * packed rows' bias and {@code Y}'s rows are written with vector stores. Otherwise the larger of
 * {@code M} and {@code N} is packed per call.
 */
final class MatMulOps {
    private MatMulOps() {
    }

    static void register(OpRegistry r) {
        r.register("Gemm", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, MatMulOps::gemm);
        r.register("MatMul", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, MatMulOps::matMul);
    }

    /**
     * One product {@code Y[M][N] (+)= scale * A * B + bias} with {@code A[m][k] = a[aOff + m*ars + k*acs]}
     * and {@code B[k][n] = b[bOff + k*brs + n*bcs]}, written to {@code y[yOff + m*N + n]}.
     *
     * @param packedB {@code B^T} packed ahead of time (with {@code scale}), or null
     * @param colBias per-column (n) bias, or null; used only when B^T is the packed side
     */
    static void product(FloatGemm gemm, int m, int n, int k, float scale,
                        float[] a, int aOff, int ars, int acs, float[] b, int bOff, int brs, int bcs,
                        PackedMatrix packedB, float[] colBias, boolean accumulate, float[] y, int yOff) {
        if (m == 0 || n == 0) {
            return;
        }
        if (packedB != null || colBias != null || n >= m) {
            // Y^T[n][m] = sum_k B^T[n][k] * A^T[k][m]
            PackedMatrix pb = packedB != null ? packedB : gemm.pack(b, bOff, bcs, brs, n, k, scale);
            gemm.multiply(pb, m, a, aOff, strided(k, acs), strided(m, ars), colBias, 0, accumulate, y, yOff, 1, n);
        } else {
            PackedMatrix pa = gemm.pack(a, aOff, ars, acs, m, k, scale);
            gemm.multiply(pa, n, b, bOff, strided(k, brs), strided(n, bcs), null, 0, accumulate, y, yOff, n, 1);
        }
    }

    private static int[] strided(int count, int stride) {
        int[] o = new int[count];
        for (int i = 0; i < count; i++) {
            o[i] = i * stride;
        }
        return o;
    }

    // ---------------------------------------------------------------- Gemm

    private static Kernel gemm(NodeContext ctx) {
        Node node = ctx.node();
        float alpha = node.attrFloat("alpha", 1f);
        float beta = node.attrFloat("beta", 1f);
        boolean transA = node.attrInt("transA", 0) != 0;
        boolean transB = node.attrInt("transB", 0) != 0;
        FloatGemm gemm = Kernels.floatGemm();
        Tensor bc = ctx.constant(1);
        PackedMatrix packed = null;
        if (bc != null) {
            int[] s = bc.shape();
            if (s.length != 2) {
                throw ctx.error("B must be 2-D, has shape " + Arrays.toString(s));
            }
            int k = transB ? s[1] : s[0];
            int n = transB ? s[0] : s[1];
            // B^T[n][k]: B is [K,N] (or [N,K] when transB)
            packed = gemm.pack(bc.toFloatArray(), 0, transB ? k : 1, transB ? 1 : n, n, k, alpha);
        }
        PackedMatrix packedB = packed;
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value a = FloatArgs.floatInput(ctx, inputs, 0, "A");
                Value b = FloatArgs.floatInput(ctx, inputs, 1, "B");
                Value c = FloatArgs.optionalFloat(ctx, inputs, 2, "C");
                int[] mnk = gemmDims(ctx, a, b, transA, transB);
                int m = mnk[0];
                int n = mnk[1];
                int k = mnk[2];
                float[] y = new float[Math.multiplyExact(m, n)];
                float[] colBias = null;
                boolean accumulate = false;
                if (c != null && beta != 0f) {
                    int[] cs = broadcastStrides(ctx, c, m, n);
                    if (cs[0] == 0 && beta == 1f) {
                        colBias = columnBias(c, n, cs[1]);
                    } else {
                        for (int i = 0; i < m; i++) {
                            for (int j = 0; j < n; j++) {
                                y[i * n + j] = beta * c.floats[i * cs[0] + j * cs[1]];
                            }
                        }
                        accumulate = true;
                    }
                }
                int ars = transA ? 1 : k;
                int acs = transA ? m : 1;
                int brs = transB ? 1 : n;
                int bcs = transB ? k : 1;
                if (alpha != 0f && k > 0) {
                    product(gemm, m, n, k, alpha, a.floats, 0, ars, acs, b.floats, 0, brs, bcs,
                            packedB, colBias, accumulate, y, 0);
                } else if (colBias != null) {
                    for (int i = 0; i < m; i++) {
                        System.arraycopy(colBias, 0, y, i * n, n);
                    }
                }
                return new Value[] {Value.ofFloats(new int[] {m, n}, y)};
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value a = FloatArgs.floatInput(ctx, inputs, 0, "A");
                Value b = FloatArgs.floatInput(ctx, inputs, 1, "B");
                int[] mnk = gemmDims(ctx, a, b, transA, transB);
                Value c = FloatArgs.optionalFloat(ctx, inputs, 2, "C");
                if (c != null) {
                    broadcastStrides(ctx, c, mnk[0], mnk[1]);
                }
                return new Value[] {Value.shapeOnly(mnk[0], mnk[1])};
            }
        };
    }

    private static int[] gemmDims(NodeContext ctx, Value a, Value b, boolean transA, boolean transB) {
        if (a.rank() != 2 || b.rank() != 2) {
            throw ctx.error("A and B must be 2-D, got " + Arrays.toString(a.shape) + " and " + Arrays.toString(b.shape));
        }
        int m = transA ? a.shape[1] : a.shape[0];
        int k = transA ? a.shape[0] : a.shape[1];
        int kb = transB ? b.shape[1] : b.shape[0];
        int n = transB ? b.shape[0] : b.shape[1];
        if (k != kb) {
            throw ctx.error("inner dimensions differ: A " + Arrays.toString(a.shape) + (transA ? " (transposed)" : "")
                    + ", B " + Arrays.toString(b.shape) + (transB ? " (transposed)" : ""));
        }
        return new int[] {m, n, k};
    }

    /** Row and column strides that broadcast C (rank 0..2) unidirectionally to [m, n]. */
    private static int[] broadcastStrides(NodeContext ctx, Value c, int m, int n) {
        if (c.rank() > 2) {
            throw ctx.error("C must have rank <= 2, has shape " + Arrays.toString(c.shape));
        }
        int cm = c.rank() == 2 ? c.shape[0] : 1;
        int cn = c.rank() >= 1 ? c.shape[c.rank() - 1] : 1;
        if ((cm != 1 && cm != m) || (cn != 1 && cn != n)) {
            throw ctx.error("C of shape " + Arrays.toString(c.shape) + " does not broadcast to [" + m + ", " + n + "]");
        }
        return new int[] {cm == 1 ? 0 : cn, cn == 1 ? 0 : 1};
    }

    private static float[] columnBias(Value c, int n, int colStride) {
        float[] bias = new float[n];
        for (int j = 0; j < n; j++) {
            bias[j] = c.floats[j * colStride];
        }
        return bias;
    }

    // ---------------------------------------------------------------- MatMul

    private static Kernel matMul(NodeContext ctx) {
        FloatGemm gemm = Kernels.floatGemm();
        Tensor bc = ctx.constant(1);
        PackedMatrix packed = null;
        if (bc != null && bc.rank() == 2 && bc.type().isFloatingPoint()) {
            int[] s = bc.shape();
            packed = gemm.pack(bc.toFloatArray(), 0, 1, s[1], s[1], s[0], 1f);
        }
        PackedMatrix packedB = packed;
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value a = FloatArgs.floatInput(ctx, inputs, 0, "A");
                Value b = FloatArgs.floatInput(ctx, inputs, 1, "B");
                MatMulShape s = MatMulShape.of(ctx, a.shape, b.shape);
                float[] y = new float[Value.count(s.outShape())];
                int m = s.m();
                int n = s.n();
                int k = s.k();
                if (packedB != null && s.batch() > 0) {
                    // A's batch rows are contiguous, so the whole batch is one product with M*batch rows.
                    product(gemm, m * s.batch(), n, k, 1f, a.floats, 0, k, 1, b.floats, 0, n, 1,
                            packedB, null, false, y, 0);
                } else {
                    for (int i = 0; i < s.batch(); i++) {
                        product(gemm, m, n, k, 1f, a.floats, s.aOffset(i), k, 1, b.floats, s.bOffset(i), n, 1,
                                null, null, false, y, i * m * n);
                    }
                }
                return new Value[] {Value.ofFloats(s.outShape(), y)};
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value a = FloatArgs.floatInput(ctx, inputs, 0, "A");
                Value b = FloatArgs.floatInput(ctx, inputs, 1, "B");
                return new Value[] {Value.shapeOnly(MatMulShape.of(ctx, a.shape, b.shape).outShape())};
            }
        };
    }
}
