package dev.onebit.runtime.ops;

import dev.onebit.runtime.NodeContext;

import java.util.Arrays;

/**
 * The numpy matmul shape rules: 1-D operands get a dimension prepended (A) or appended (B)
 * that is dropped from the result, and the leading (batch) dimensions broadcast.
 *
 * @param m rows of each product
 * @param n columns of each product
 * @param k inner dimension
 * @param outShape result shape
 * @param batchShape broadcast batch dimensions
 * @param aBatchStrides offset step in A per batch dimension (0 where A broadcasts)
 * @param bBatchStrides offset step in B per batch dimension (0 where B broadcasts)
 */
record MatMulShape(int m, int n, int k, int[] outShape, int[] batchShape, int[] aBatchStrides, int[] bBatchStrides) {

    static MatMulShape of(NodeContext ctx, int[] a, int[] b) {
        if (a.length == 0 || b.length == 0) {
            throw ctx.error("MatMul operands must have rank >= 1, got " + Arrays.toString(a) + " and " + Arrays.toString(b));
        }
        int[] a2 = a.length == 1 ? new int[] {1, a[0]} : a;
        int[] b2 = b.length == 1 ? new int[] {b[0], 1} : b;
        int m = a2[a2.length - 2];
        int k = a2[a2.length - 1];
        int n = b2[b2.length - 1];
        if (b2[b2.length - 2] != k) {
            throw ctx.error("inner dimensions differ: " + Arrays.toString(a) + " x " + Arrays.toString(b));
        }
        int ra = a2.length - 2;
        int rb = b2.length - 2;
        int r = Math.max(ra, rb);
        int[] batch = new int[r];
        int[] as = new int[r];
        int[] bs = new int[r];
        int aStep = m * k;
        int bStep = k * n;
        for (int i = r - 1; i >= 0; i--) {
            int da = i - (r - ra) >= 0 ? a2[i - (r - ra)] : 1;
            int db = i - (r - rb) >= 0 ? b2[i - (r - rb)] : 1;
            if (da != db && da != 1 && db != 1) {
                throw ctx.error("batch dimensions do not broadcast: " + Arrays.toString(a) + " x " + Arrays.toString(b));
            }
            batch[i] = Math.max(da, db);
            if (da == 0 || db == 0) {
                batch[i] = 0;
            }
            as[i] = da == 1 ? 0 : aStep;
            bs[i] = db == 1 ? 0 : bStep;
            aStep *= da;
            bStep *= db;
        }
        int[] out = new int[r + (a.length == 1 ? 0 : 1) + (b.length == 1 ? 0 : 1)];
        System.arraycopy(batch, 0, out, 0, r);
        int o = r;
        if (a.length != 1) {
            out[o++] = m;
        }
        if (b.length != 1) {
            out[o] = n;
        }
        return new MatMulShape(m, n, k, out, batch, as, bs);
    }

    /** Number of products. */
    int batch() {
        int c = 1;
        for (int d : batchShape) {
            c *= d;
        }
        return c;
    }

    /** Offset in A of product {@code i} (row-major over the batch shape). */
    int aOffset(int i) {
        return offset(i, aBatchStrides);
    }

    /** Offset in B of product {@code i}. */
    int bOffset(int i) {
        return offset(i, bBatchStrides);
    }

    private int offset(int i, int[] strides) {
        int off = 0;
        for (int d = batchShape.length - 1; d >= 0; d--) {
            off += (i % batchShape[d]) * strides[d];
            i /= batchShape[d];
        }
        return off;
    }
}
