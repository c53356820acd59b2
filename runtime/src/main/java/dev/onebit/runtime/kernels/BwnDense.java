package dev.onebit.runtime.kernels;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Buffers;

import java.util.Arrays;

/**
 * The BWN/CBD fully connected layer: a BinaryMatMul ({@code dev.onebit.runtime.ops.BinaryOps})
 * with real-valued input rows {@code X [rows, IN]}, on the bit-packed weight
 * {@code B [K, OUT, IN]} itself instead of its ±1 planes as floats. At batch 1 a float product
 * reads the whole float weight ({@code K * OUT * IN * 4} bytes, from L2 or L3) for one
 * multiply-add per weight; this reads 1 bit per weight and does one table lookup and one
 * addition per four weights ({@link BwnGemm}: per row and group of four inputs a table of their
 * 16 signed sums, and per output the sum of the entries its weight bits select).
 *
 * <p>Per plane {@code k}, output {@code o} and row {@code r} that gives
 * {@code dot_k[r][o] = sum_i X[r][i] * (B[k][o][i] ? -1 : +1)}, then the output step of
 * {@code BinaryOps.outputStep}, in its order of float operations:
 * {@code y = alpha[0][o] * dot_0}, {@code y += alpha[k][o] * dot_k} for each further plane,
 * {@code y + bias[o]} (+0.0f without a bias).
 *
 * <p><b>Rounding.</b> The dot products are summed in another order than the reference
 * kernel's float product (four inputs at a time, then group after group), so the result
 * equals the reference to float rounding only: both are within a few units of
 * {@code IN * 2^-24 * sum_i |X[r][i]|} of the exact value (relative to the magnitude
 * {@code sum_k |alpha[k][o]| * sum_i |X[r][i]|}, not to the possibly cancelling result).
 * When X is ±1 every partial sum is a small integer, exact, and the result has the reference's
 * (and the XNOR kernel's) bits. The order is fixed by {@link BwnGemm}'s contract, so the
 * scalar and the Vector API engines give identical bits.
 *
 * <p>Thread-safe. Large products split their blocks of 64 outputs over {@link Kernels#threads()}.
 */
public final class BwnDense {
    private static final long MIN_PARALLEL_WORK = 1L << 20;
    /** Rows whose tables are built at a time: the scratch is {@code ROW_TILE * 16 * IN} bytes. */
    private static final int ROW_TILE = 4;
    /** {@link BwnGemm#products}' table offsets for a row that reads one table (never written). */
    private static final int[] ONE_TABLE = {0};
    /** Per thread: tables of up to {@link #ROW_TILE} rows, and the products before the output step. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private final BwnGemm gemm;
    private final int planes;
    private final int out;
    private final int in;
    /** Packed weight columns: {@code K * OUT}, plane-major ({@code k * OUT + o}). */
    private final int cols;
    private final int blocks;
    private final int groups;
    private final byte[] packed;
    private final float[] alpha;
    private final int threads;
    private final long minParallelWork;

    /**
     * Prepares the layer on the fastest engine this JVM can run.
     *
     * @param b the binary weight, BIT {@code [K, OUT, IN]}
     * @param alpha {@code [K, OUT]}
     * @throws IllegalArgumentException if they do not fit each other
     */
    public BwnDense(Tensor b, float[] alpha) {
        this(Kernels.bwnGemm(), b, alpha);
    }

    /** As {@link #BwnDense(Tensor, float[])} on the given engine. */
    public BwnDense(BwnGemm gemm, Tensor b, float[] alpha) {
        this(gemm, b, alpha, Kernels.threads(), MIN_PARALLEL_WORK);
    }

    /**
     * As the public constructors, splitting a product's blocks of 64 columns into up to
     * {@code threads} parts when it has at least {@code minParallelWork} lookups (rows x columns x groups of four inputs).
     */
    BwnDense(BwnGemm gemm, Tensor b, float[] alpha, int threads, long minParallelWork) {
        if (b.type() != DataType.BIT || b.rank() != 3) {
            throw new IllegalArgumentException("B must be a BIT tensor [planes, OUT, IN], got " + b);
        }
        int[] s = b.shape();
        this.gemm = gemm;
        this.threads = threads;
        this.minParallelWork = minParallelWork;
        this.planes = s[0];
        this.out = s[1];
        this.in = s[2];
        if (alpha.length != planes * out) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " values, expected " + planes + " x " + out);
        }
        this.alpha = alpha.clone();
        this.cols = Math.multiplyExact(planes, out);
        this.blocks = (cols + BwnGemm.BLOCK - 1) / BwnGemm.BLOCK;
        this.groups = BwnGemm.groups(in);
        byte[] bits = new byte[b.bytes().remaining()];
        b.bytes().get(bits);
        this.packed = BwnGemm.pack(bits, cols, in);
    }

    /** Input features. */
    public int inputs() {
        return in;
    }

    /** Output features. */
    public int outputs() {
        return out;
    }

    /** Binary planes K. */
    public int planes() {
        return planes;
    }

    /**
     * Runs the layer on {@code rows} input rows of {@link #inputs()} values.
     *
     * @param bias {@code [OUT]}, or null
     * @return {@code [rows][OUT]}, a new array (or one recycled by {@link Buffers})
     * @throws IllegalArgumentException if x or bias do not have the layer's sizes
     */
    public float[] run(float[] x, int rows, float[] bias) {
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + out);
        }
        int lds = blocks * BwnGemm.BLOCK;
        float[] d = products(x, rows);
        float[] y = Buffers.floats(Math.multiplyExact(rows, out));
        for (int r = 0; r < rows; r++) {
            int yb = r * out;
            int db = r * lds;
            for (int o = 0; o < out; o++) {
                y[yb + o] = alpha[o] * d[db + o];
            }
            for (int k = 1; k < planes; k++) {
                int ab = k * out;
                for (int o = 0; o < out; o++) {
                    y[yb + o] += alpha[ab + o] * d[db + ab + o];
                }
            }
            // Always an add, of 0 without a bias (-0.0 becomes +0.0), as in BinaryOps.outputStep.
            for (int o = 0; o < out; o++) {
                y[yb + o] += bias == null ? 0f : bias[o];
            }
        }
        return y;
    }

    /**
     * The per-plane products {@code dot_k[r][o]} as {@code [rows][K * OUT]} (column
     * {@code k * OUT + o}), for tests.
     *
     * @throws IllegalArgumentException if x does not have {@code rows * IN} values
     */
    public float[] dots(float[] x, int rows) {
        int lds = blocks * BwnGemm.BLOCK;
        float[] d = products(x, rows);
        float[] r = new float[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(d, i * lds, r, i * cols, cols);
        }
        return r;
    }

    /** {@code [rows][blocks * 64]} dot products, in this thread's scratch (valid until its next call). */
    private float[] products(float[] x, int rows) {
        if (rows < 0 || x.length != (long) rows * in) {
            throw new IllegalArgumentException("input has " + x.length + " values, expected " + rows + " x " + in);
        }
        int lds = blocks * BwnGemm.BLOCK;
        float[][] scratch = SCRATCH.get();
        int n = Math.multiplyExact(rows, lds);
        if (scratch[1].length < n) {
            scratch[1] = new float[n];
        }
        float[] d = scratch[1];
        long work = (long) rows * lds * groups;
        int parts = threads <= 1 || work < minParallelWork ? 1 : Math.min(threads, blocks);
        Kernels.parallelFor(parts, part -> {
            int b0 = (int) ((long) blocks * part / parts);
            int b1 = (int) ((long) blocks * (part + 1) / parts);
            // Each part builds the tables it needs in its own thread's scratch.
            float[][] own = SCRATCH.get();
            int ldt = groups * BwnGemm.TABLE;
            int tn = Math.min(ROW_TILE, rows) * ldt;
            if (own[0].length < tn) {
                own[0] = new float[tn];
            }
            float[] t = own[0];
            for (int r0 = 0; r0 < rows; r0 += ROW_TILE) {
                int rr = Math.min(ROW_TILE, rows - r0);
                gemm.tables(x, r0 * in, in, rr, in, t, 0, ldt);
                gemm.products(t, 0, ldt, rr, groups, ONE_TABLE, packed, b0 * (groups / 2) * BwnGemm.BLOCK,
                        b1 - b0, d, r0 * lds + b0 * BwnGemm.BLOCK, lds);
            }
        });
        return d;
    }

    @Override
    public String toString() {
        return "BwnDense" + Arrays.toString(new int[] {planes, out, in}) + " on " + gemm.name();
    }
}
