package dev.onebit.runtime.kernels;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.PackedSigns;

import java.util.Arrays;

/**
 * The XNOR fully connected layer: a BinaryMatMul ({@code dev.onebit.runtime.ops.BinaryOps})
 * whose input is ±1, on bit-packed words. Unlike {@link BinaryConvolution} the weight is the
 * packed operand: its {@code K * OUT} rows (plane-major) are the columns of
 * {@link BinaryGemm#popcounts}, packed once, and each input row is packed per run
 * ({@code ceil(IN / 64)} words) and broadcast. That keeps the vector lanes full for the usual
 * single input row, and the output comes out as {@code [rows][OUT]}, the layout MatMul wants.
 * There is no padding: {@code dot = IN - 2 * pop}. Then
 * {@code y[i][o] = sum_k alpha[k][o] * dot_k[i][o] + bias[o]} in float, in the order of
 * {@code BinaryOps.outputStep}, so the result has the reference kernel's bits.
 *
 * <p>Thread-safe.
 */
public final class BinaryDense {
    private static final long MIN_PARALLEL_WORDS = 1L << 18;

    private final BinaryGemm gemm;
    private final int planes;
    private final int out;
    private final int in;
    private final int words;
    private final int panels;
    private final int ldc;
    private final long[] packed;
    private final float[] alpha;
    private final int threads;
    private final long minParallelWords;
    /** The bit-level weight, kept to pack it again for another input layout. */
    private final byte[] bits;
    /** The weight packed for the last packed-signs layout seen (channels, pixels), or null. */
    private volatile Layout layout;

    /** The weight packed to match the words of {@link PackedSigns} with this split of IN. */
    private record Layout(int channels, int pixels, int words, long[] packed) {
    }

    /**
     * Prepares the layer.
     *
     * @param b the binary weight, BIT {@code [K, OUT, IN]}
     * @param alpha {@code [K, OUT]}
     * @throws IllegalArgumentException if they do not fit each other
     */
    public BinaryDense(BinaryGemm gemm, Tensor b, float[] alpha) {
        this(gemm, b, alpha, Kernels.threads(), MIN_PARALLEL_WORDS);
    }

    /**
     * As the public constructor, splitting the product's columns into up to {@code threads}
     * parts when it has at least {@code minParallelWords} word operations.
     */
    BinaryDense(BinaryGemm gemm, Tensor b, float[] alpha, int threads, long minParallelWords) {
        if (b.type() != DataType.BIT || b.rank() != 3) {
            throw new IllegalArgumentException("B must be a BIT tensor [planes, OUT, IN], got " + b);
        }
        int[] s = b.shape();
        this.gemm = gemm;
        this.threads = threads;
        this.minParallelWords = minParallelWords;
        this.planes = s[0];
        this.out = s[1];
        this.in = s[2];
        if (alpha.length != planes * out) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " values, expected " + planes + " x " + out);
        }
        this.alpha = alpha.clone();
        this.words = (in + 63) >>> 6;
        int pc = gemm.panelColumns();
        int cols = planes * out;
        this.panels = (cols + pc - 1) / pc;
        this.ldc = panels * pc;
        this.bits = new byte[b.bytes().remaining()];
        b.bytes().get(bits);
        this.packed = packWeight(in, 1, words);
    }

    /**
     * The weight columns packed so that input element {@code i = c * pixels + p} (channel c,
     * pixel p of a flattened [C, pixels] item) sits where {@link PackedSigns} keeps it: bit
     * {@code c % 64} of word {@code (c / 64) * pixels + p}. With one pixel that is plain row
     * order. Bits of the unused channels of a last partial block are 0 in both operands, so
     * they add nothing to the popcount.
     */
    private long[] packWeight(int channels, int pixels, int rowWords) {
        int pc = gemm.panelColumns();
        int cols = planes * out;
        long[] w = new long[Math.multiplyExact(ldc, rowWords)];
        for (int col = 0; col < cols; col++) {
            int at = (col / pc) * rowWords * pc + col % pc;
            for (int i = 0; i < in; i++) {
                int e = col * in + i;
                if ((bits[e >>> 3] >>> (e & 7) & 1) != 0) {
                    int c = i / pixels;
                    int k = ((c >>> 6) * pixels + i % pixels) * 64 + (c & 63);
                    w[at + (k >>> 6) * pc] |= 1L << (k & 63);
                }
            }
        }
        return w;
    }

    /** Input features. */
    public int inputs() {
        return in;
    }

    /** Output features. */
    public int outputs() {
        return out;
    }

    /**
     * Runs the layer on {@code rows} input rows of {@link #inputs()} values.
     *
     * @param bias {@code [OUT]}, or null
     * @return {@code [rows][OUT]}, or null when x is not all ±1
     */
    public float[] run(float[] x, int rows, float[] bias) {
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + out);
        }
        if (rows > 0 && x[0] != 1f && x[0] != -1f) {
            return null;
        }
        int[] d = popcounts(x, rows);
        return d == null ? null : output(d, rows, bias);
    }

    /**
     * {@link #run(float[], int, float[])} on rows held as packed signs: one row per item, each
     * item's {@code channels x pixels} elements being the row's {@link #inputs()} values.
     *
     * @throws IllegalArgumentException if the items do not have {@link #inputs()} elements
     */
    public float[] run(PackedSigns x, float[] bias) {
        if (bias != null && bias.length != out) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + out);
        }
        if (x.perImage() != in) {
            throw new IllegalArgumentException(x + " has " + x.perImage() + " values per row, expected " + in);
        }
        Layout l = layout;
        if (l == null || l.channels() != x.channels || l.pixels() != x.pixels) {
            int rowWords = x.blocks * x.pixels;
            l = new Layout(x.channels, x.pixels, rowWords,
                    x.pixels == 1 ? packed : packWeight(x.channels, x.pixels, rowWords));
            layout = l;
        }
        int rows = x.images;
        int[] d = new int[Math.multiplyExact(rows, ldc)];
        product(x.words, rows, l.words(), l.packed(), d);
        return output(d, rows, bias);
    }

    private float[] output(int[] d, int rows, float[] bias) {
        float[] y = new float[Math.multiplyExact(rows, out)];
        for (int i = 0; i < rows; i++) {
            int yb = i * out;
            int db = i * ldc;
            for (int k = 0; k < planes; k++) {
                int ab = k * out;
                int dk = db + k * out;
                for (int o = 0; o < out; o++) {
                    float v = alpha[ab + o] * (in - 2 * d[dk + o]);
                    y[yb + o] = k == 0 ? v : y[yb + o] + v;
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
     * The exact ±1 dot products {@code [rows][K * OUT]} (column {@code k * OUT + o}), for tests.
     *
     * @return the dot products, or null when x is not all ±1
     */
    public int[] dots(float[] x, int rows) {
        int[] d = popcounts(x, rows);
        if (d == null) {
            return null;
        }
        int cols = planes * out;
        int[] r = new int[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int c = 0; c < cols; c++) {
                r[i * cols + c] = in - 2 * d[i * ldc + c];
            }
        }
        return r;
    }

    /** {@code [rows][ldc]} popcounts of the packed rows against the packed weight. */
    private int[] popcounts(float[] x, int rows) {
        if (x.length != (long) rows * in) {
            throw new IllegalArgumentException("input has " + x.length + " values, expected " + rows + " x " + in);
        }
        long[] a = new long[Math.multiplyExact(rows, words)];
        boolean signs = true;
        for (int i = 0; i < rows; i++) {
            signs &= gemm.packSigns(x, i * in, in, a, i * words);
        }
        if (!signs) {
            return null;
        }
        int[] d = new int[Math.multiplyExact(rows, ldc)];
        product(a, rows, words, packed, d);
        return d;
    }

    /** {@code d[rows][ldc]}: popcounts of {@code rowWords}-word rows against a weight packed for them. */
    private void product(long[] a, int rows, int rowWords, long[] w, int[] d) {
        int pc = gemm.panelColumns();
        long work = (long) rows * rowWords * ldc;
        int parts = threads <= 1 || work < minParallelWords ? 1 : Math.min(threads, panels);
        Kernels.parallelFor(parts, part -> {
            int p0 = (int) ((long) panels * part / parts);
            int p1 = (int) ((long) panels * (part + 1) / parts);
            int columns = Math.min(planes * out, p1 * pc) - p0 * pc;
            gemm.popcounts(a, 0, rows, rowWords, w, p0 * rowWords * pc, columns, d, p0 * pc, ldc);
        });
    }

    @Override
    public String toString() {
        return "BinaryDense" + Arrays.toString(new int[] {planes, out, in}) + " on " + gemm.name();
    }
}
