package dev.onebit.runtime.kernels;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Buffers;
import dev.onebit.runtime.PackedSigns;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The XNOR convolution: a BinaryConv ({@code dev.onebit.runtime.ops.BinaryOps}) whose input is
 * ±1, computed on bit-packed words. The weight's K planes are prepared once; a run checks
 * that the input really is ±1 while packing it, and returns null otherwise, so the caller can
 * fall back to the float kernel (the result is then never approximate).
 *
 * <h2>Per image</h2>
 * <ol>
 *   <li><b>Pack.</b> Each group's {@code C/group} channels are packed 64 to a long
 *       ({@link BinaryGemm#packChannels}), channel-block-major: {@code [group][block][pixel]},
 *       plus one zero word after each block's pixels. Unused channel bits are 0. An input
 *       already held as {@link PackedSigns} is copied word for word.</li>
 *   <li><b>Unfold.</b> An im2col of words: for every output position and every (tap, block)
 *       the word under that tap, written in the column panels {@link BinaryGemm#popcounts}
 *       reads. A tap in the zero padding (or a column past the last position) reads the zero
 *       word, i.e. 64 times +1. Tables of source pixels per (tap, position) are computed once
 *       per input shape. With 32 channels or fewer per group a word would be half empty or
 *       worse, so {@code 64 / Cg} taps share one word instead, each shifted to its own bits
 *       (a 3x3 tap window of 32 channels takes 5 words, not 9); the weight rows are packed the
 *       same way. A 2-D conv of stride 1 with more than 32 channels per group, whose output
 *       rows are whole groups of {@link BinaryGemm#groupColumns()} positions, has no unfold:
 *       its input is copied into a zero-padded layout that the product reads in place (a tap
 *       of G positions of one output row is G consecutive words there), and a padded tap
 *       reads a zero word just the same.</li>
 *   <li><b>Popcount.</b> One product per group: rows are (plane, output channel), depth is
 *       taps x blocks (or the shared words), columns are positions.
 *       {@code pop = sum popcount(w XOR a)}.</li>
 *   <li><b>Exact padding.</b> Over all taps, padded ones read as +1, the ±1 dot product is
 *       {@code Cg * taps - 2 * pop}. A padded tap must contribute 0 instead of
 *       {@code sum_c w[o][c][t]} (its weights times +1), so a <em>correction term</em> is
 *       subtracted: {@code dot = Cg * taps - 2 * pop - sum over padded taps t of T[o][t]},
 *       where {@code T[o][t] = Cg - 2 * popcount(w[o][t])} is computed with the weights.
 *       Positions are grouped by their set of padded taps (a handful of border classes; the
 *       interior needs none), and each class's sums are computed once per input shape.</li>
 *   <li><b>Output.</b> In float: {@code y = (sum_k alpha[k][o] * dot_k) * scale + bias}, in
 *       the reference's order of operations ({@code BinaryOps.outputStep}); the integer dot
 *       products are exact, so the output has the reference's bits. Or, for a reader that keeps
 *       only the sign ({@link #runSigns}), packed bits through per-channel integer thresholds
 *       on the popcounts ({@code SignThresholds}), equal to the signs of that float output.</li>
 * </ol>
 *
 * <p>Thread-safe: the per-shape tables are immutable and scratch arrays are per thread.
 */
public final class BinaryConvolution {
    /** Below this many word operations per group and image, other threads cost more than they save. */
    private static final long MIN_PARALLEL_WORDS = 1L << 18;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final BinaryGemm gemm;
    private final Convolution.Params params;
    private final int planes;
    private final int m;
    private final int cg;
    private final int group;
    private final int mg;
    private final int[] kernel;
    private final int kc;
    /** Words per pixel and group: ceil(Cg / 64). */
    private final int blocks;
    /**
     * Taps sharing one word of the product's depth: 64 / Cg when Cg &lt;= 32 (tap t in bits
     * {@code (t % tapsPerWord) * Cg} up), else 1 (tap t in words {@code t * blocks} up).
     */
    private final int tapsPerWord;
    private final int depth;
    private final int rowsG;
    /** [group][plane * mg + o'][depth]: word tap * blocks + block, or tap / tapsPerWord when shared. */
    private final long[] weights;
    /** [group][plane * mg + o'][tap]: sum over channels of the ±1 weights of that tap. */
    private final int[] tapSums;
    private final float[] alpha;
    private final int threads;
    private final long minParallelWords;
    private final long correctionRowsMax;
    private volatile Plan plan;
    /** The thresholds of {@link #runSigns} for the bias they were made for (compared by identity). */
    private volatile Thresholds thresholds;

    private record Thresholds(float[] bias, SignThresholds t) {
    }

    /**
     * Prepares the layer.
     *
     * @param b the binary weight, BIT {@code [K, M, C/group, kernel...]}
     * @param alpha {@code [K, M]}
     * @throws IllegalArgumentException if the weight does not fit the attributes
     */
    public BinaryConvolution(BinaryGemm gemm, Convolution.Params params, Tensor b, float[] alpha) {
        this(gemm, params, b, alpha, Kernels.threads(), MIN_PARALLEL_WORDS);
    }

    /**
     * As the public constructor, splitting each product's columns into up to {@code threads}
     * parts (run by {@link Kernels#parallelFor}) when it has at least {@code minParallelWords}
     * word operations.
     */
    BinaryConvolution(BinaryGemm gemm, Convolution.Params params, Tensor b, float[] alpha, int threads,
                      long minParallelWords) {
        this(gemm, params, b, alpha, threads, minParallelWords, CORRECTION_ROWS_MAX);
    }

    /**
     * As above, with {@code Plan.correctionRows} tables only up to {@code correctionRowsMax}
     * values per group (0: never; tests use it to reach the stride-wise fold on small maps).
     */
    BinaryConvolution(BinaryGemm gemm, Convolution.Params params, Tensor b, float[] alpha, int threads,
                      long minParallelWords, long correctionRowsMax) {
        if (b.type() != DataType.BIT || b.rank() < 4) {
            throw new IllegalArgumentException("B must be a BIT tensor [planes, M, C/group, kernel...], got " + b);
        }
        int[] s = b.shape();
        this.gemm = gemm;
        this.params = params;
        this.threads = threads;
        this.minParallelWords = minParallelWords;
        this.correctionRowsMax = correctionRowsMax;
        this.planes = s[0];
        this.m = s[1];
        this.cg = s[2];
        this.group = params.group();
        this.kernel = Arrays.copyOfRange(s, 3, s.length);
        if (group < 1 || m % group != 0) {
            throw new IllegalArgumentException("group " + group + " does not divide the " + m + " output channels");
        }
        if (params.kernelShape() != null && !Arrays.equals(params.kernelShape(), kernel)) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(params.kernelShape())
                    + " does not match weight shape " + Arrays.toString(s));
        }
        if (alpha.length != planes * m) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " values, expected " + planes + " x " + m);
        }
        this.alpha = alpha.clone();
        this.mg = m / group;
        this.kc = Convolution.count(kernel);
        this.blocks = (cg + 63) >>> 6;
        this.tapsPerWord = cg <= 32 ? 64 / cg : 1;
        this.depth = tapsPerWord > 1 ? (kc + tapsPerWord - 1) / tapsPerWord : Math.multiplyExact(kc, blocks);
        this.rowsG = planes * mg;
        this.weights = new long[Math.multiplyExact(group * rowsG, depth)];
        this.tapSums = new int[group * rowsG * kc];
        byte[] bits = new byte[b.bytes().remaining()];
        b.bytes().get(bits);
        for (int k = 0; k < planes; k++) {
            for (int o = 0; o < m; o++) {
                int g = o / mg;
                int row = g * rowsG + k * mg + o % mg;
                Arrays.fill(tapSums, row * kc, (row + 1) * kc, cg);
                for (int c = 0; c < cg; c++) {
                    int e = ((k * m + o) * cg + c) * kc;
                    for (int t = 0; t < kc; t++, e++) {
                        if ((bits[e >>> 3] >>> (e & 7) & 1) != 0) {
                            int bit = tapsPerWord > 1 ? (t % tapsPerWord) * cg + c : c & 63;
                            int word = tapsPerWord > 1 ? t / tapsPerWord : t * blocks + (c >>> 6);
                            weights[row * depth + word] |= 1L << bit;
                            tapSums[row * kc + t] -= 2;
                        }
                    }
                }
            }
        }
    }

    /** The engine this layer runs on. */
    public BinaryGemm gemm() {
        return gemm;
    }

    /** Whether the product reads an input of this shape in place, with no im2col (for tests). */
    boolean readsInPlace(int[] xShape) {
        return plan(xShape).direct;
    }

    /** The output shape {@code [N, M, out...]} for an input shape. */
    public int[] outputShape(int[] xShape) {
        ConvGeometry g = geometry(xShape);
        int[] o = new int[xShape.length];
        o[0] = xShape[0];
        o[1] = m;
        System.arraycopy(g.out, 0, o, 2, g.rank());
        return o;
    }

    private ConvGeometry geometry(int[] xShape) {
        if (xShape.length != kernel.length + 2) {
            throw new IllegalArgumentException("input has rank " + xShape.length + ", weight has rank " + (kernel.length + 2));
        }
        if (xShape[1] != cg * group) {
            throw new IllegalArgumentException("input has " + xShape[1] + " channels, weight expects " + cg + " x group " + group);
        }
        return ConvGeometry.of(Arrays.copyOfRange(xShape, 2, xShape.length), kernel, params.strides(),
                params.dilations(), params.pads(), params.autoPad(), false);
    }

    /**
     * Runs the layer: {@code y = (sum_k alpha[k][o] * dot_k) * scale + bias}.
     *
     * @param scale per-position scale {@code [N, 1, out...]} (N x positions values), or null
     * @param bias {@code [M]}, or null
     * @return the output shaped as {@link #outputShape}, or null when x is not all ±1
     */
    public float[] run(float[] x, int[] xShape, float[] scale, float[] bias) {
        return run(x, null, xShape, scale, bias);
    }

    /**
     * {@link #run(float[], int[], float[], float[])} on an input held as packed signs, whose
     * layout must be the channel layout of {@code xShape}.
     */
    public float[] run(PackedSigns x, int[] xShape, float[] scale, float[] bias) {
        return run(null, requireLayout(x, xShape), xShape, scale, bias, null, false);
    }

    /**
     * The layer's output plus a residual of the output's shape, as an Add of the two computes
     * it ({@code y + residual}, or {@code residual + y} when {@code residualFirst}): each
     * channel's sum is taken right after that channel's output step, while its row is in
     * cache, instead of in a pass of its own over the whole output (ResNet's and Bi-Real's
     * shortcuts). The input as floats (xs null) or as packed signs in the channel layout.
     *
     * @return a new array, or null when the float input is not all ±1
     */
    public float[] runPlus(float[] x, PackedSigns xs, int[] xShape, float[] scale, float[] bias, float[] residual,
                           boolean residualFirst) {
        if (residual.length != Math.multiplyExact(xShape[0] * m, plan(xShape).opos)) {
            throw new IllegalArgumentException("residual has " + residual.length + " values, the output "
                    + Arrays.toString(outputShape(xShape)));
        }
        return run(x, xs == null ? null : requireLayout(xs, xShape), xShape, scale, bias, residual, residualFirst);
    }

    private float[] run(float[] x, PackedSigns xs, int[] xShape, float[] scale, float[] bias) {
        return run(x, xs, xShape, scale, bias, null, false);
    }

    private float[] run(float[] x, PackedSigns xs, int[] xShape, float[] scale, float[] bias, float[] residual,
                        boolean residualFirst) {
        Plan pl = plan(xShape);
        int n = xShape[0];
        int opos = pl.opos;
        if (scale != null && scale.length != n * opos) {
            throw new IllegalArgumentException("scale has " + scale.length + " values, expected " + n * opos);
        }
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + m);
        }
        if (xs == null && !looksLikeSigns(x)) {
            return null;
        }
        // Every element is written (each channel's pass covers all positions).
        float[] y = Buffers.floats(Math.multiplyExact(n * m, opos));
        FloatPasses passes = Kernels.floatPasses();
        boolean signs = forImages(pl, n, (img, s) -> {
            if (!pack(x, xs, img, pl, s)) {
                return false;
            }
            for (int g = 0; g < group; g++) {
                if (planes == 1 && pl.halfCorrections != null) {
                    int gi = g;
                    groupPopcounts(pl, g, s, (pop, j0, j1) -> {
                        int[] runs = pl.within(j0, j1);
                        for (int oi = 0; oi < mg; oi++) {
                            affineHalf(pl, gi, oi, pop, runs, img, scale, bias, y, j0, j1);
                            if (residual != null) {
                                addResidual(passes, y, residual, residualFirst, (img * m + gi * mg + oi) * opos, j0, j1);
                            }
                        }
                    });
                    continue;
                }
                int[] pop = groupPopcounts(pl, g, s);
                for (int oi = 0; oi < mg; oi++) {
                    affine(pl, g, oi, pop, img, scale, bias, y);
                    if (residual != null) {
                        addResidual(passes, y, residual, residualFirst, (img * m + g * mg + oi) * opos, 0, opos);
                    }
                }
            }
            return true;
        });
        return signs ? y : null;
    }

    /** One image of a run, on a thread's scratch; false when its input is not all ±1. */
    private interface ImageStep {
        boolean run(int img, Scratch s);
    }

    /**
     * Runs {@code step} for images {@code 0..n-1}: with several images and kernel threads, the
     * images split over parts, each on its thread's scratch (a batch's images are independent,
     * and one image of a small layer is too little work to split: the vgg sample's convs at
     * batch 16 ran on one thread); else in order on this thread, each image's products split
     * by positions when large. False when some step returned false.
     */
    private boolean forImages(Plan pl, int n, ImageStep step) {
        long work = (long) n * group * rowsG * depth * pl.ldc;
        int parts = threads <= 1 || n < 2 || work < minParallelWords ? 1 : Math.min(threads, n);
        if (parts == 1) {
            Scratch s = SCRATCH.get();
            for (int img = 0; img < n; img++) {
                if (!step.run(img, s)) {
                    return false;
                }
            }
            return true;
        }
        AtomicBoolean all = new AtomicBoolean(true);
        Kernels.parallelFor(parts, part -> {
            Scratch s = SCRATCH.get();
            for (int img = n * part / parts, end = n * (part + 1) / parts; img < end && all.get(); img++) {
                if (!step.run(img, s)) {
                    all.set(false);
                }
            }
        });
        return all.get();
    }

    /**
     * Output channel {@code g * mg + oi} of image {@code img} from the group's popcounts:
     * {@code y = (sum_k alpha[k][o] * dot_k) * scale + bias} with {@code dot = Cg * taps - 2 * pop}
     * in one pass over the positions, then the border positions again with their corrected
     * dot products, in the same order of float operations.
     */
    private void affine(Plan pl, int g, int oi, int[] pop, int img, float[] scale, float[] bias, float[] y) {
        int o = g * mg + oi;
        int opos = pl.opos;
        int yb = (img * m + o) * opos;
        int sb = img * opos;
        int full = cg * kc;
        float add = bias == null ? 0f : bias[o];
        float a0 = alpha[o];
        int d0 = oi * pl.ldc;
        if (planes == 1 && pl.halfCorrections != null) {
            affineHalf(pl, g, oi, pop, pl.within(0, opos), img, scale, bias, y, 0, opos);
            return;
        }
        if (planes == 1) {
            gemm.affine(pop, d0, full, a0, scale, sb, add, y, yb, opos);
        } else {
            for (int j = 0; j < opos; j++) {
                y[yb + j] = a0 * (full - 2 * pop[d0 + j]);
            }
            for (int k = 1; k < planes; k++) {
                float a = alpha[k * m + o];
                int db = (k * mg + oi) * pl.ldc;
                for (int j = 0; j < opos; j++) {
                    y[yb + j] += a * (full - 2 * pop[db + j]);
                }
            }
            for (int j = 0; j < opos; j++) {
                y[yb + j] = (scale == null ? y[yb + j] : y[yb + j] * scale[sb + j]) + add;
            }
        }
        int[] corr = pl.corrections[g];
        for (int i = 0; i < pl.border.length; i++) {
            int j = pl.border[i];
            int cb = pl.borderClass[i] * rowsG;
            float v = a0 * (full - 2 * pop[d0 + j] - corr[cb + oi]);
            for (int k = 1; k < planes; k++) {
                int row = k * mg + oi;
                v += alpha[k * m + o] * (full - 2 * pop[row * pl.ldc + j] - corr[cb + row]);
            }
            y[yb + j] = (scale == null ? v : v * scale[sb + j]) + add;
        }
    }

    /**
     * {@link #affine} of one plane with even corrections, for positions {@code j0..j1-1}: the
     * halved border corrections added to the popcounts (an integer change, exact), then one
     * pass over the positions, vectorized by the engine; with correction rows, the two in one
     * pass (vgg with K: 0.097-0.100 -> 0.095 ms per call, alone).
     */
    private void affineHalf(Plan pl, int g, int oi, int[] pop, int[] runs, int img, float[] scale, float[] bias,
                            float[] y, int j0, int j1) {
        int o = g * mg + oi;
        int opos = pl.opos;
        float add = bias == null ? 0f : bias[o];
        if (pl.correctionRows != null) {
            gemm.affineCorrected(pop, oi * pl.ldc + j0, pl.correctionRows[g], oi * opos + j0, cg * kc, alpha[o], scale,
                    img * opos + j0, add, y, (img * m + o) * opos + j0, j1 - j0);
            return;
        }
        foldHalf(pl, g, oi, pop, runs, j0, j1);
        gemm.affine(pop, oi * pl.ldc + j0, cg * kc, alpha[o], scale, img * opos + j0, add, y,
                (img * m + o) * opos + j0, j1 - j0);
    }

    /**
     * Adds row oi's halved corrections to its popcounts at positions {@code j0..j1-1}: the
     * correction row in one vector pass when the plan keeps one, else run by run
     * ({@code runs} from {@link Plan#within} for that range).
     */
    private void foldHalf(Plan pl, int g, int oi, int[] pop, int[] runs, int j0, int j1) {
        if (pl.correctionRows != null) {
            gemm.addInts(pop, oi * pl.ldc + j0, pl.correctionRows[g], oi * pl.opos + j0, j1 - j0);
            return;
        }
        int[] half = pl.halfCorrections[g];
        int h0 = oi * pl.runCount;
        int d0 = oi * pl.ldc;
        for (int r = 0; r < runs.length; r += 4) {
            int v = half[h0 + runs[r + 3]];
            int from = d0 + runs[r];
            int step = runs[r + 1];
            int count = runs[r + 2];
            if (step == 1) {
                for (int j = from, end = from + count; j < end; j++) {
                    pop[j] += v;
                }
            } else {
                for (int k = 0, j = from; k < count; k++, j += step) {
                    pop[j] += v;
                }
            }
        }
    }

    /** {@code y += residual} (or {@code residual + y}, the Add's operand order) over {@code at + j0 .. at + j1 - 1}. */
    private static void addResidual(FloatPasses passes, float[] y, float[] residual, boolean residualFirst, int at,
                                    int j0, int j1) {
        if (residualFirst) {
            passes.add(residual, at + j0, y, at + j0, y, at + j0, j1 - j0);
        } else {
            passes.add(y, at + j0, residual, at + j0, y, at + j0, j1 - j0);
        }
    }

    /**
     * The exact integer dot products of the ±1 input with every binary plane, padded taps
     * counting 0: {@code [N, K * M, out positions]}, row {@code k * M + o}. For tests and
     * diagnostics.
     *
     * @return the dot products, or null when x is not all ±1
     */
    public int[] dots(float[] x, int[] xShape) {
        Plan pl = plan(xShape);
        int n = xShape[0];
        int opos = pl.opos;
        int[] out = new int[Math.multiplyExact(n * planes * m, opos)];
        Scratch s = SCRATCH.get();
        for (int img = 0; img < n; img++) {
            if (!pack(x, null, img, pl, s)) {
                return null;
            }
            for (int g = 0; g < group; g++) {
                int[] pop = groupPopcounts(pl, g, s);
                int full = cg * kc;
                int[] corr = pl.corrections[g];
                for (int k = 0; k < planes; k++) {
                    for (int oi = 0; oi < mg; oi++) {
                        int row = k * mg + oi;
                        int at = ((img * planes + k) * m + g * mg + oi) * opos;
                        for (int j = 0; j < opos; j++) {
                            out[at + j] = full - 2 * pop[row * pl.ldc + j];
                        }
                        for (int i = 0; i < pl.border.length; i++) {
                            out[at + pl.border[i]] -= corr[pl.borderClass[i] * rowsG + row];
                        }
                    }
                }
            }
        }
        return out;
    }

    /**
     * The layer for a consumer that keeps only the output's sign (a Binarize): the packed signs
     * of what {@link #run(float[], int[], float[], float[])} would return without a scale,
     * {@code [N, M, out...]} in {@link PackedSigns}' layout. With one binary plane the float
     * output step is replaced by per-channel integer thresholds on the popcounts
     * ({@link SignThresholds}), which give the same bits; otherwise the float output of each
     * channel is computed and its signs packed.
     *
     * @param x the input as floats (then xs is null), or null
     * @param xs the input as packed signs in the channel layout of xShape, or null
     * @return the signs, or null when the float input is not all ±1
     */
    public PackedSigns runSigns(float[] x, PackedSigns xs, int[] xShape, float[] bias) {
        if (xs != null) {
            requireLayout(xs, xShape);
        }
        Plan pl = plan(xShape);
        int n = xShape[0];
        int opos = pl.opos;
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + m);
        }
        if (xs == null && !looksLikeSigns(x)) {
            return null;
        }
        SignThresholds th = planes == 1 && pl.halfCorrections != null ? thresholds(bias) : null;
        PackedSigns out = PackedSigns.allPlus(n, m, opos);
        boolean signs = forImages(pl, n, (img, s) -> {
            if (!pack(x, xs, img, pl, s)) {
                return false;
            }
            for (int g = 0; g < group; g++) {
                int gi = g;
                int[] pop = th == null ? groupPopcounts(pl, g, s)
                        : groupPopcounts(pl, g, s, (dots, j0, j1) -> thresholdedSigns(pl, gi, dots, th, img, out, j0, j1));
                for (int oi = 0; oi < mg; oi++) {
                    int o = g * mg + oi;
                    int at = (img * out.blocks + (o >>> 6)) * opos;
                    if (th == null || !th.exact[o]) {
                        // The float output of this one channel (as image 0 of a one-image buffer), then its signs.
                        float[] row = s.row(Math.multiplyExact(m, opos));
                        affine(pl, g, oi, pop, 0, null, bias, row);
                        long bit = 1L << (o & 63);
                        for (int j = 0; j < opos; j++) {
                            out.words[at + j] |= row[o * opos + j] < 0 ? bit : 0L;
                        }
                    }
                }
            }
            return true;
        });
        return signs ? out : null;
    }

    /**
     * The signs of group g's channels that have an integer threshold, at positions
     * {@code j0..j1-1}: border corrections folded into the popcounts, then the threshold test
     * in tiles of positions, every channel of a tile before the next tile, so that a tile's
     * output words stay in L1 while 64 channels OR their bits in (channel by channel over all
     * positions, 64->64 at 56x56 went through 25 KB of words 64 times). Four channels at a
     * time where they share a word and all have a threshold: each word is read and written
     * once for the four (64->64 at 56x56 packed in and out: 177-181 -> 161-169 us; eight at a
     * time in a loop was slower again).
     */
    private void thresholdedSigns(Plan pl, int g, int[] pop, SignThresholds th, int img, PackedSigns out, int j0,
                                  int j1) {
        int opos = pl.opos;
        int[] runs = pl.within(j0, j1);
        for (int oi = 0; oi < mg; oi++) {
            if (th.exact[g * mg + oi]) {
                foldHalf(pl, g, oi, pop, runs, j0, j1);
            }
        }
        for (int t0 = j0; t0 < j1; t0 += SIGN_TILE) {
            int len = Math.min(SIGN_TILE, j1 - t0);
            for (int oi = 0; oi < mg; ) {
                int o = g * mg + oi;
                int at = (img * out.blocks + (o >>> 6)) * opos + t0;
                if (oi + 4 <= mg && (o & 63) <= 60 && th.exact[o] && th.exact[o + 1] && th.exact[o + 2] && th.exact[o + 3]) {
                    gemm.signBits4(pop, oi * pl.ldc + t0, pl.ldc, th.threshold, th.flip, o, o & 63, out.words, at, len);
                    oi += 4;
                    continue;
                }
                if (th.exact[o]) {
                    gemm.signBits(pop, oi * pl.ldc + t0, th.threshold[o], th.flip[o], o & 63, out.words, at, len);
                }
                oi++;
            }
        }
    }

    /** Largest {@code Plan.correctionRows} table per group, in ints (256 KB). */
    private static final int CORRECTION_ROWS_MAX = 1 << 16;

    /** Output positions per tile of {@link #thresholdedSigns}: 2 KB of words. */
    private static final int SIGN_TILE = 256;

    private SignThresholds thresholds(float[] bias) {
        Thresholds t = thresholds;
        if (t == null || t.bias() != bias) {
            t = new Thresholds(bias, SignThresholds.of(Arrays.copyOf(alpha, m), bias, cg * kc));
            thresholds = t;
        }
        return t.t();
    }

    private static PackedSigns requireLayout(PackedSigns xs, int[] xShape) {
        if (!xs.isChannelLayoutOf(xShape)) {
            throw new IllegalArgumentException(xs + " is not packed in the channel layout of " + Arrays.toString(xShape));
        }
        return xs;
    }

    /** A cheap first look, so that a float input does not pay for packing before it is rejected. */
    private static boolean looksLikeSigns(float[] x) {
        for (int i = 0, e = Math.min(16, x.length); i < e; i++) {
            if (x[i] != 1f && x[i] != -1f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Packs image {@code img} into {@code s.planar}, from floats or (xs not null) from packed
     * signs; false when a float is not ±1.
     */
    private boolean pack(float[] x, PackedSigns xs, int img, Plan pl, Scratch s) {
        int hw = pl.hw;
        int stride = hw + 1;
        if (xs != null && pl.direct && (group == 1 || cg % 64 == 0)) {
            long[] padded = s.padded(Math.multiplyExact(group, pl.region));
            for (int b = 0; b < group * blocks; b++) {
                pad(pl, xs.words, (img * xs.blocks + b) * hw, padded, b * pl.blockStride);
            }
            return true;
        }
        long[] planar = s.planar(group * blocks * stride);
        boolean signs = true;
        if (xs != null) {
            copyPacked(xs, img, hw, planar);
        } else {
            for (int g = 0; g < group; g++) {
                int at = g * blocks * stride;
                signs &= gemm.packChannels(x, (img * group + g) * cg * hw, cg, hw, planar, at, stride);
                for (int w = 0; w < blocks; w++) {
                    planar[at + w * stride + hw] = 0L;
                }
            }
        }
        if (pl.direct) {
            long[] padded = s.padded(Math.multiplyExact(group, pl.region));
            for (int b = 0; b < group * blocks; b++) {
                pad(pl, planar, b * stride, padded, b * pl.blockStride);
            }
        }
        return signs;
    }

    /**
     * One block's words ({@code src[from + pixel]}, row-major) into the zero-padded layout of
     * {@link Plan#direct}: {@code dst[at + (y + padTop) * paddedW + x + padLeft]}, zeros around.
     */
    private static void pad(Plan pl, long[] src, int from, long[] dst, int at) {
        int w = pl.inW;
        int wp = pl.paddedW;
        Arrays.fill(dst, at, at + pl.padTop * wp + pl.padLeft, 0L);
        for (int y = 0; y < pl.inH; y++) {
            int row = at + (pl.padTop + y) * wp + pl.padLeft;
            System.arraycopy(src, from + y * w, dst, row, w);
            // This row's right pad and the next row's left pad, or after the last row everything left.
            Arrays.fill(dst, row + w, y + 1 < pl.inH ? row + wp : at + pl.blockStride, 0L);
        }
    }

    /** The packed input's words in the planar layout: a copy per block when groups start on word boundaries. */
    private void copyPacked(PackedSigns xs, int img, int hw, long[] planar) {
        int stride = hw + 1;
        if (group == 1 || cg % 64 == 0) {
            for (int b = 0; b < group * blocks; b++) {
                System.arraycopy(xs.words, (img * xs.blocks + b) * hw, planar, b * stride, hw);
                planar[b * stride + hw] = 0L;
            }
            return;
        }
        Arrays.fill(planar, 0, group * blocks * stride, 0L);
        for (int g = 0; g < group; g++) {
            for (int c = 0; c < cg; c++) {
                int at = (g * blocks + (c >>> 6)) * stride;
                long bit = 1L << (c & 63);
                for (int p = 0; p < hw; p++) {
                    if (xs.isNegative(img, g * cg + c, p)) {
                        planar[at + p] |= bit;
                    }
                }
            }
        }
    }

    /**
     * Group {@code g}'s popcounts {@code [rowsG][ldc]} (valid for positions below opos), in
     * the scratch's buffer; padded taps counted as +1 (see the class comment).
     */
    private int[] groupPopcounts(Plan pl, int g, Scratch s) {
        return groupPopcounts(pl, g, s, null);
    }

    /** The output step for positions {@code j0..j1-1} of the group's popcounts, once they are in. */
    private interface PositionsOut {
        void write(int[] pop, int j0, int j1);
    }

    /**
     * As {@link #groupPopcounts(Plan, int, Scratch)}, then (out not null) the output step of
     * the positions each part computed, in that part: the parts split the positions, so a part
     * writes its outputs while its popcounts are in cache and no part waits for another.
     */
    private int[] groupPopcounts(Plan pl, int g, Scratch s, PositionsOut out) {
        int pc = gemm.panelColumns();
        int q = pc / gemm.groupColumns();
        int panels = pl.panels;
        long[] cols = pl.direct ? null : s.cols(panels * depth * pc);
        int[] d = s.dots(rowsG * pl.ldc);
        long[] planar = s.planar;
        long[] padded = s.padded;
        int gBase = g * blocks * (pl.hw + 1);
        int aBase = g * rowsG * depth;
        long work = (long) rowsG * depth * pl.ldc;
        int parts = threads <= 1 || work < minParallelWords ? 1 : Math.min(threads, panels);
        Kernels.parallelFor(parts, part -> {
            int p0 = (int) ((long) panels * part / parts);
            int p1 = (int) ((long) panels * (part + 1) / parts);
            int j0 = p0 * pc;
            int j1 = Math.min(pl.opos, p1 * pc);
            if (pl.direct) {
                gemm.popcountsInPlace(weights, aBase, rowsG, depth, padded, g * pl.region, pl.starts, p0 * q,
                        pl.rowOffsets, j1 - j0, d, j0, pl.ldc);
            } else {
                unfold(pl, planar, gBase, cols, p0, p1, pc);
                gemm.popcounts(weights, aBase, rowsG, depth, cols, p0 * depth * pc, j1 - j0, d, j0, pl.ldc);
            }
            if (out != null && j1 > j0) {
                out.write(d, j0, j1);
            }
        });
        return d;
    }

    /**
     * im2col of words for panels {@code p0..p1-1}: {@code cols[p][tap * blocks + block][lane]},
     * or with several taps per word {@code cols[p][tap / tapsPerWord][lane]}, each tap's word
     * shifted to its bits (the words hold Cg &lt;= 32 channels, higher bits 0, so they do not
     * overlap).
     */
    private void unfold(Plan pl, long[] planar, int gBase, long[] cols, int p0, int p1, int pc) {
        int stride = pl.hw + 1;
        int[] src = pl.src;
        int ldc = pl.ldc;
        for (int p = p0; p < p1; p++) {
            int out = p * depth * pc;
            int j0 = p * pc;
            if (tapsPerWord > 1) {
                for (int t = 0; t < kc; t++) {
                    int slot = t % tapsPerWord;
                    int at = out + t / tapsPerWord * pc;
                    int run = pl.runStart[t * pl.panels + p];
                    if (slot == 0) {
                        if (run >= 0) {
                            System.arraycopy(planar, gBase + run, cols, at, pc);
                        } else {
                            gemm.gather(planar, gBase, src, t * ldc + j0, cols, at, pc);
                        }
                    } else if (run >= 0) {
                        gemm.orShifted(planar, gBase + run, slot * cg, cols, at, pc);
                    } else {
                        gemm.gatherShifted(planar, gBase, src, t * ldc + j0, slot * cg, cols, at, pc);
                    }
                }
                continue;
            }
            for (int t = 0; t < kc; t++) {
                int sb = t * ldc + j0;
                int run = pl.runStart[t * pl.panels + p];
                for (int w = 0; w < blocks; w++, out += pc) {
                    if (run >= 0) {
                        System.arraycopy(planar, gBase + w * stride + run, cols, out, pc);
                    } else {
                        gemm.gather(planar, gBase + w * stride, src, sb, cols, out, pc);
                    }
                }
            }
        }
    }

    private Plan plan(int[] xShape) {
        Plan p = plan;
        int[] spatial = Arrays.copyOfRange(xShape, 2, xShape.length);
        if (p != null && Arrays.equals(p.spatial, spatial) && xShape[1] == cg * group) {
            return p;
        }
        p = new Plan(spatial, geometry(xShape));
        plan = p;
        return p;
    }

    /** Everything that depends on the input's spatial shape; immutable once built. */
    private final class Plan {
        final int[] spatial;
        final int hw;
        final int opos;
        final int panels;
        final int ldc;
        /**
         * [tap][ldc]: source pixel of each (tap, position), or hw (the zero word) when padded or
         * past the end; null when {@link #direct}.
         */
        final int[] src;
        /**
         * Unless {@link #direct}, [tap][panel]: the source pixel of the panel's first position
         * when the panel's sources for that tap are consecutive real pixels (a panel inside the
         * map at stride 1, most of them), else -1. Such a panel's words are copied, not
         * gathered (a vector gather, with the bounds check of its index vector, per 8 words):
         * packed in, signs out, 32->32 @28 19.6 -> 18.2 us, 256->256 @14 123 -> 121 us in a
         * harness (and 64->64 @56 167 -> 159 us, before that layer read its input in place).
         */
        final int[] runStart;
        /**
         * True when the product reads the packed input in place, with no im2col: a 2-D conv of
         * stride 1 with more than 32 channels per group whose output rows are whole groups of
         * {@link BinaryGemm#groupColumns()} positions (56x56 and 112x112 maps, not 28x28,
         * 14x14 or 7x7). The input is then copied into a zero-padded layout per block,
         * {@code [paddedH][paddedW]}, and output position (y, x) under tap (i, j) reads word
         * {@code (y + i * dilation) * paddedW + x + j * dilation}: for G positions of one row,
         * G consecutive words. Padded taps read zero words, as in the im2col, so the border
         * corrections are the same. 64->64 at 56x56 drops its 12.6 us of unfolding, of which
         * the product's per-group loads take back about half: floats in and out 172 -> 166 us,
         * packed in and out 159 -> 148 us (medians of five alternating runs in a harness).
         */
        final boolean direct;
        final int inH;
        final int inW;
        final int padTop;
        final int padLeft;
        final int paddedW;
        /** Words per block of the padded layout; a group's blocks follow each other. */
        final int blockStride;
        /** Words per group of the padded layout. */
        final int region;
        /**
         * When {@link #direct}, the {@link BinaryGemm#popcountsInPlace} starts (per group of
         * output positions) and row offsets (per depth row) into the padded layout; else null.
         */
        final int[] starts;
        final int[] rowOffsets;
        /** Positions with at least one padded tap (ascending), and the index of their class of padded taps. */
        final int[] border;
        final int[] borderClass;
        /** Per group, [class][rowsG]: sum of the padded taps' weight sums, subtracted from the dot. */
        final int[][] corrections;
        /**
         * The corrections halved, or null when one is odd. {@code dot = full - 2 * pop - corr}
         * is {@code full - 2 * (pop + corr / 2)} when corr is even, which it is whenever Cg is
         * (each tap's sum {@code Cg - 2 * negatives} is), so the correction can be added to
         * the popcounts and the output computed by one pass over all positions. Per group,
         * {@code [row][run]}: the halved correction of each of {@link #runs}.
         */
        final int[][] halfCorrections;
        /**
         * The border positions as runs of one class at a constant step, {@code start, step,
         * count} each: a 3x3 window with pads of 1 has 8 (the four corners, the top and bottom
         * edges at step 1, the left and right edges at the row length). Where no correction
         * rows are kept, the fold adds one value per run at a stride.
         */
        final int[] runs;
        final int runCount;
        /**
         * Per group, {@code [row][position]}: the halved correction of every position (0
         * inside), when that table is small ({@value #CORRECTION_ROWS_MAX} values or fewer per
         * group, unless a test asks otherwise); else null. The fold is then one vector pass
         * per row instead of stores scattered over rows that have left L1: the vgg sample with
         * K 0.109-0.110 -> 0.096-0.098 ms per call. Larger tables (ResNet-18's 56x56 and 28x28
         * layers) made ResNet-18 slower, 6.2-6.6 -> 6.7-6.8 ms.
         */
        final int[][] correctionRows;
        /** {@link #within} all positions. */
        private final int[] allRuns;

        Plan(int[] spatial, ConvGeometry g) {
            this.spatial = spatial;
            this.hw = g.inCount();
            this.opos = g.outCount();
            int pc = gemm.panelColumns();
            this.panels = (opos + pc - 1) / pc;
            this.ldc = panels * pc;
            int gc = gemm.groupColumns();
            boolean strideOne = true;
            for (int st : g.strides) {
                strideOne &= st == 1;
            }
            this.direct = g.rank() == 2 && strideOne && tapsPerWord == 1 && g.out[1] % gc == 0;
            // The unfold's table; the in-place product reads no source table.
            this.src = direct ? null : new int[Math.multiplyExact(kc, ldc)];
            if (!direct) {
                Arrays.fill(src, hw);
            }
            int[] sources = g.tapSources();
            Map<BitSet, Integer> classes = new HashMap<>();
            int[] borderAll = new int[opos];
            int[] classAll = new int[opos];
            int nb = 0;
            for (int j = 0; j < opos; j++) {
                BitSet padded = null;
                for (int tap = 0; tap < kc; tap++) {
                    int flat = sources[j * kc + tap];
                    if (flat >= 0) {
                        if (!direct) {
                            src[tap * ldc + j] = flat;
                        }
                    } else {
                        if (padded == null) {
                            padded = new BitSet(kc);
                        }
                        padded.set(tap);
                    }
                }
                if (padded != null) {
                    borderAll[nb] = j;
                    classAll[nb++] = classes.computeIfAbsent(padded, k -> classes.size());
                }
            }
            this.runStart = direct ? null : new int[kc * panels];
            for (int tap = 0; tap < kc && !direct; tap++) {
                for (int p = 0; p < panels; p++) {
                    int at = tap * ldc + p * pc;
                    int first = src[at];
                    boolean run = p * pc + pc <= opos && first + pc <= hw;
                    for (int k = 1; k < pc && run; k++) {
                        run = src[at + k] == first + k;
                    }
                    runStart[tap * panels + p] = run ? first : -1;
                }
            }
            if (direct) {
                this.inH = g.in[0];
                this.inW = g.in[1];
                this.padTop = g.padBegin[0];
                this.padLeft = g.padBegin[1];
                this.paddedW = g.paddedIn(1);
                this.blockStride = Math.multiplyExact(g.paddedIn(0), paddedW);
                this.region = Math.multiplyExact(blocks, blockStride);
                int ow = g.out[1];
                // A start for every group of the panels; past the last position they read from 0,
                // columns that are never used.
                this.starts = new int[panels * (pc / gc)];
                for (int v = 0; v * gc < opos; v++) {
                    starts[v] = v * gc / ow * paddedW + v * gc % ow;
                }
                this.rowOffsets = new int[depth];
                int[] taps = g.paddedTapOffsets(paddedW);
                for (int tap = 0; tap < kc; tap++) {
                    for (int w = 0; w < blocks; w++) {
                        rowOffsets[tap * blocks + w] = w * blockStride + taps[tap];
                    }
                }
            } else {
                this.inH = 0;
                this.inW = 0;
                this.padTop = 0;
                this.padLeft = 0;
                this.paddedW = 0;
                this.blockStride = 0;
                this.region = 0;
                this.starts = null;
                this.rowOffsets = null;
            }
            this.border = Arrays.copyOf(borderAll, nb);
            this.borderClass = Arrays.copyOf(classAll, nb);
            this.corrections = new int[group][classes.size() * rowsG];
            for (Map.Entry<BitSet, Integer> e : classes.entrySet()) {
                BitSet set = e.getKey();
                int cb = e.getValue() * rowsG;
                for (int gi = 0; gi < group; gi++) {
                    for (int row = 0; row < rowsG; row++) {
                        int sum = 0;
                        int base = (gi * rowsG + row) * kc;
                        for (int tap = set.nextSetBit(0); tap >= 0; tap = set.nextSetBit(tap + 1)) {
                            sum += tapSums[base + tap];
                        }
                        corrections[gi][cb + row] = sum;
                    }
                }
            }
            int[] runClass = new int[nb];
            this.runs = runsOf(border, borderClass, runClass);
            this.runCount = runs.length / 3;
            this.allRuns = new int[4 * runCount];
            for (int r = 0; r < runCount; r++) {
                System.arraycopy(runs, 3 * r, allRuns, 4 * r, 3);
                allRuns[4 * r + 3] = r;
            }
            boolean even = true;
            int[][] half = new int[group][Math.multiplyExact(rowsG, runCount)];
            for (int gi = 0; gi < group; gi++) {
                for (int row = 0; row < rowsG; row++) {
                    for (int r = 0; r < runCount; r++) {
                        int corr = corrections[gi][runClass[r] * rowsG + row];
                        even &= (corr & 1) == 0;
                        half[gi][row * runCount + r] = corr >> 1;
                    }
                }
            }
            this.halfCorrections = even ? half : null;
            if (even && (long) rowsG * opos <= correctionRowsMax) {
                correctionRows = new int[group][rowsG * opos];
                for (int gi = 0; gi < group; gi++) {
                    for (int row = 0; row < rowsG; row++) {
                        for (int i = 0; i < nb; i++) {
                            correctionRows[gi][row * opos + border[i]] = corrections[gi][borderClass[i] * rowsG + row] >> 1;
                        }
                    }
                }
            } else {
                correctionRows = null;
            }
        }

        /**
         * Splits the positions of each class, in ascending order, into maximal runs at a
         * constant step: {@code start, step, count} per run; {@code runClass[r]} gets run r's class.
         */
        private static int[] runsOf(int[] border, int[] borderClass, int[] runClass) {
            int classes = 0;
            for (int c : borderClass) {
                classes = Math.max(classes, c + 1);
            }
            int[] out = new int[3 * border.length];
            int n = 0;
            int[] at = new int[border.length];
            for (int c = 0; c < classes; c++) {
                int k = 0;
                for (int i = 0; i < border.length; i++) {
                    if (borderClass[i] == c) {
                        at[k++] = border[i];
                    }
                }
                for (int i = 0; i < k; ) {
                    int step = i + 1 < k ? at[i + 1] - at[i] : 1;
                    int e = i + 1;
                    while (e < k && at[e] - at[e - 1] == step) {
                        e++;
                    }
                    runClass[n] = c;
                    out[3 * n] = at[i];
                    out[3 * n + 1] = step;
                    out[3 * n + 2] = e - i;
                    n++;
                    i = e;
                }
            }
            return Arrays.copyOf(out, 3 * n);
        }

        /**
         * The runs' positions in {@code j0..j1-1}: {@code first, step, count, run} for each run
         * that has some. Once per part and group, not per row: it divides.
         */
        int[] within(int j0, int j1) {
            if (j0 == 0 && j1 == opos) {
                return allRuns;
            }
            int[] out = new int[4 * runCount];
            int n = 0;
            for (int r = 0; r < runCount; r++) {
                int start = runs[3 * r];
                int step = runs[3 * r + 1];
                int k0 = start >= j0 ? 0 : (j0 - start + step - 1) / step;
                int k1 = start >= j1 ? 0 : Math.min(runs[3 * r + 2], (j1 - start + step - 1) / step);
                if (k1 > k0) {
                    out[n++] = start + k0 * step;
                    out[n++] = step;
                    out[n++] = k1 - k0;
                    out[n++] = r;
                }
            }
            return Arrays.copyOf(out, n);
        }
    }

    /** Per-thread buffers, grown on demand; every element a run reads is written first. */
    private static final class Scratch {
        long[] planar = new long[0];
        long[] padded = new long[0];
        long[] cols = new long[0];
        int[] dots = new int[0];
        float[] row = new float[0];

        long[] planar(int n) {
            if (planar.length < n) {
                planar = new long[n];
            }
            return planar;
        }

        long[] padded(int n) {
            if (padded.length < n) {
                padded = new long[n];
            }
            return padded;
        }

        long[] cols(int n) {
            if (cols.length < n) {
                cols = new long[n];
            }
            return cols;
        }

        int[] dots(int n) {
            if (dots.length < n) {
                dots = new int[n];
            }
            return dots;
        }

        float[] row(int n) {
            if (row.length < n) {
                row = new float[n];
            }
            return row;
        }
    }
}
