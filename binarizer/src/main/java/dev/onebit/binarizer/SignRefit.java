package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ConvGeometry;
import dev.onebit.runtime.kernels.FloatGemm;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.Offsets;
import dev.onebit.runtime.kernels.PackedMatrix;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Calibration's sign refit of a BWN or CBD layer: its signs, alphas and bias chosen for what
 * the layer computes on the calibration images rather than for its weights alone.
 *
 * <p>{@code B = sign(W)} is the best ±1 weight in the weights' own norm, but a layer's error is
 * the error of its output, and the inputs it sees are far from isotropic: most of a weight
 * row's directions carry little input variance. With the layer's im2col input rows x (taken
 * from the binarized network, its earlier layers already calibrated; one row per image for a
 * fully connected layer) and the float network's output y of the same images and positions,
 * the refit minimises, per output channel o,
 * <pre>   E (y_o - sum_k alpha_k * b_k . x - beta)²   over b_k in {-1, +1}^n, alpha_k, beta.</pre>
 * With G the covariance of x and c the covariance of x and y_o, the best alphas and beta for
 * given rows are the least-squares ones, {@code alpha = M^-1 v} with {@code M[k][l] = b_k' G b_l}
 * and {@code v[k] = b_k . c}, and what is left to maximise is the explained variance
 * {@code v' M^-1 v} ({@code (b.c)² / b'Gb} for one plane). Starting from the binarizer's
 * signs, sweeps over planes and weights flip each sign that raises it, until a sweep flips
 * nothing or after {@value #MAX_SWEEPS} sweeps. Every accepted flip lowers the output error on
 * the calibration images.
 *
 * <p>G and c are shrunk toward the float layer, as if {@code n / 10} more rows of uncorrelated
 * inputs of the mean variance had shown the float weights' output: nothing next to the
 * hundreds of thousands of rows of a conv, it keeps a fully connected layer (1,000 rows for
 * 1,000 images, fewer than its 1,152 or 1,568 weights per row) from fitting the calibration
 * images' noise. Measured on the full test set: without shrinkage refitting vgg's classifier
 * layer lost 0.47 points; with {@code n} rows of it plain gained nothing; {@code n / 10} gives
 * +0.6 (plain) and +0.2 (vgg) over leaving fully connected layers to the moment fit.
 *
 * <p>Applies to BinaryConv (one group, no activation scale) and BinaryMatMul (input
 * {@code [N, IN]}) layers of bwn and cbd, whose inputs are real-valued, with rows of at most
 * {@value #MAX_ROW} weights; the others, and layers with binary inputs (xnor, bireal), keep
 * the moment fit.
 *
 * <p>Deterministic for given batches: each batch's sums are made in a fixed order and merged
 * in batch order (the float block products round as the JVM's GEMM engine does).
 */
final class SignRefit {
    /**
     * Longest weight row refitted (256 channels x 3 x 3): a batch's sums hold {@code n²} doubles
     * until all batches are merged, and G costs {@code n²} multiply-adds per im2col row. Longer
     * rows keep the moment fit.
     */
    static final int MAX_ROW = 2304;
    /**
     * im2col rows a layer's sums take at most, by taking every k-th output position: a 56x56
     * layer of 1,000 images has 3 million rows, far more than G needs, at n² multiply-adds each.
     */
    static final long MAX_ROWS = 1L << 17;
    /** Most sweeps over a channel's rows. */
    static final int MAX_SWEEPS = 8;
    /** im2col rows accumulated in float before they are added to the double sums. */
    private static final int BLOCK = 256;

    private final Site site;
    private final String input;
    private final int outputs;
    private final int per;
    private final int[] kernel;
    private final Node layer;
    private final Executor floatRun;
    /** The float layer's effective weight rows {@code [outputs][per]}, the refit's prior; null when unknown. */
    private final float[] floatWeight;
    private final String floatInput;
    private final List<Value> batches;
    private final Sums[] perBatch;
    private final int totalImages;
    private double flippedFraction = Double.NaN;

    private SignRefit(Site site, Node layer, int[] bShape, Graph floatGraph, List<Value> batches) {
        this.site = site;
        this.outputs = bShape[1];
        this.kernel = Arrays.copyOfRange(bShape, 3, bShape.length);
        int n = 1;
        for (int d = 2; d < bShape.length; d++) {
            n *= bShape[d];
        }
        this.per = n;
        this.layer = layer;
        this.input = layer.input(0);
        this.batches = batches;
        this.floatRun = Executor.create(Calibration.cut(floatGraph, Set.of(site.output)));
        float[] w = null;
        for (Node f : floatGraph.nodes()) {
            if (f.name().equals(layer.name()) && Layer.isLayerOp(f)) {
                Layer l = Layer.of(floatGraph, f);
                w = l.weight() != null && l.weight().length == outputs * per ? l.weight() : null;
            }
        }
        this.floatWeight = w;
        this.floatInput = floatGraph.inputs().get(0).name();
        this.perBatch = new Sums[batches.size()];
        int images = 0;
        for (Value v : batches) {
            images += v.shape[0];
        }
        this.totalImages = images;
    }

    /** The refit of {@code site} in {@code g}, or null when the site keeps the moment fit (see the class comment). */
    static SignRefit of(Graph g, Site site, Graph floatGraph, List<Value> batches) {
        if (site.floatLayer || !site.target.equals(site.output)) {
            return null;
        }
        Node n = null;
        for (Node m : g.nodes()) {
            if (m.name().equals(site.node)) {
                n = m;
            }
        }
        boolean conv = n != null && n.opType().equals("BinaryConv");
        if (n == null || !(conv || n.opType().equals("BinaryMatMul")) || n.hasInput(4) || n.attrInt("group", 1) != 1) {
            return null;
        }
        String method = n.attrString("method", "");
        Tensor b = g.initializer(n.input(1));
        if (!(method.equals(Method.BWN.id()) || method.equals(Method.CBD.id())) || b == null
                || b.rank() < (conv ? 4 : 3)) {
            return null;
        }
        int[] shape = b.shape();
        long per = b.size() / ((long) shape[0] * shape[1]);
        // The input must be [N, C, spatial...] for a conv and [N, IN] for a fully connected layer.
        ValueInfo x = g.valueInfo().get(n.input(0));
        if (per > MAX_ROW || x == null || x.shape() == null || x.shape().rank() != shape.length - 1) {
            return null;
        }
        return new SignRefit(site, n, shape, floatGraph, batches);
    }

    /** The layer's node name. */
    String layer() {
        return layer.name();
    }

    /** Of the layer's signs, the fraction {@link #apply} flipped (NaN before it ran). */
    double flippedFraction() {
        return flippedFraction;
    }

    /** The binarized graph's value the refit needs per batch: the layer's input. */
    String input() {
        return input;
    }

    /**
     * Adds batch {@code index}: {@code x} is the layer's input in the binarized graph for it; the
     * float graph is run on the same images for the target. Called from several threads at once,
     * for different batches.
     */
    void add(Value x, int index) {
        Value y = floatRun.run(Map.of(floatInput, batches.get(index)), Set.of(site.output)).get(site.output);
        perBatch[index] = sums(x, y);
    }

    private Sums sums(Value x, Value y) {
        // A fully connected layer's [N, IN] input is a conv's with no spatial axes: one row per image.
        if (!x.isFloat() || x.rank() != kernel.length + 2 || y.rank() != x.rank() || y.shape[1] != outputs) {
            throw new IllegalArgumentException("sign refit of " + layer.describe() + ": unexpected input "
                    + Arrays.toString(x.shape) + " or float output " + Arrays.toString(y.shape));
        }
        int[] in = Arrays.copyOfRange(x.shape, 2, x.shape.length);
        ConvGeometry geo = ConvGeometry.of(in, kernel, layer.attrInts("strides", null),
                layer.attrInts("dilations", null), layer.attrInts("pads", null), layer.attrString("auto_pad", "NOTSET"),
                false);
        if (x.shape[1] * geo.kernelCount() != per || y.size() != x.shape[0] * outputs * geo.outCount()) {
            throw new IllegalArgumentException("sign refit of " + layer.describe() + ": input " + Arrays.toString(x.shape)
                    + " does not fit weight rows of " + per);
        }
        long rowsAll = (long) totalImages * geo.outCount();
        int step = (int) Math.min(geo.outCount(), Math.max(1, (rowsAll + MAX_ROWS - 1) / MAX_ROWS));
        return Sums.of(x.floats, x.shape[0], x.shape[1], geo, y.floats, outputs, step);
    }

    /**
     * Merges the batches' sums, refits every output channel and returns the graph with the
     * layer's new signs, alpha and bias. A channel whose input or target has no variance on
     * the calibration images keeps its signs and alpha and gets the bias that matches the mean.
     */
    Graph apply(Graph g) {
        Sums total = perBatch[0];
        for (int i = 1; i < perBatch.length; i++) {
            total.merge(perBatch[i]);
        }
        double rowsTotal = total.rows;
        int n = per;
        double[] mx = new double[n];
        for (int j = 0; j < n; j++) {
            mx[j] = total.sx[j] / rowsTotal;
        }
        // The covariance, made exactly symmetric (the float blocks' two triangles may round apart).
        double[] cov = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) {
                double v = (total.g[i * n + j] + total.g[j * n + i]) / (2 * rowsTotal) - mx[i] * mx[j];
                cov[i * n + j] = v;
                cov[j * n + i] = v;
            }
        }
        // Shrinkage toward the float weights (class comment): n / 10 rows of uncorrelated inputs.
        double trace = 0;
        for (int j = 0; j < n; j++) {
            trace += cov[j * n + j];
        }
        double shrink = 0.1 * trace / rowsTotal;
        for (int j = 0; j < n; j++) {
            cov[j * n + j] += shrink;
        }
        Tensor bT = g.initializer(layer.input(1));
        int planes = bT.shape()[0];
        float[] signs = bT.toFloatArray();
        float[] before = signs.clone();
        float[] alpha = g.initializer(layer.input(2)).toFloatArray();
        float[] prior = floatWeight;
        if (prior == null) {
            prior = new float[outputs * n];
            for (int k = 0; k < planes; k++) {
                for (int i = 0; i < prior.length; i++) {
                    prior[i] += alpha[k * outputs + i / n] * signs[k * outputs * n + i];
                }
            }
        }
        float[] bias = new float[outputs];
        double[][] b = new double[planes][n];
        double[] c = new double[n];
        for (int o = 0; o < outputs; o++) {
            double my = total.sy[o] / rowsTotal;
            for (int j = 0; j < n; j++) {
                c[j] = total.c[j * outputs + o] / rowsTotal - mx[j] * my + shrink * prior[o * n + j];
            }
            for (int k = 0; k < planes; k++) {
                for (int j = 0; j < n; j++) {
                    b[k][j] = signs[(k * outputs + o) * n + j];
                }
            }
            double[] a = refitChannel(cov, c, b, MAX_SWEEPS);
            double shift = my;
            for (int k = 0; k < planes; k++) {
                if (a != null) {
                    alpha[k * outputs + o] = (float) a[k];
                    for (int j = 0; j < n; j++) {
                        signs[(k * outputs + o) * n + j] = (float) b[k][j];
                    }
                }
                // Without a fit (no input variance along the rows) only the mean is matched.
                shift -= alpha[k * outputs + o] * dot(b[k], mx);
            }
            bias[o] = (float) shift;
        }
        // alpha >= 0 and in decreasing order per channel, as the binarizer leaves planes.
        BinaryPlanes refitted = new BinaryPlanes(planes, outputs, n, signs, alpha);
        refitted.canonicalize();
        long changed = 0;
        for (int i = 0; i < signs.length; i++) {
            changed += signs[i] != before[i] ? 1 : 0;
        }
        this.flippedFraction = (double) changed / signs.length;
        int[] shape = bT.shape();
        return site.rewrite(g, refitted.bits(Arrays.copyOfRange(shape, 1, shape.length)),
                refitted.alphaTensor().toFloatArray(), bias);
    }

    /**
     * Refits one output channel's K sign rows {@code b[k]} (±1, changed in place) to maximise
     * {@code v' M^-1 v}, {@code M[k][l] = b_k' G b_l}, {@code v[k] = b_k . c}: the output
     * variance the least-squares alphas explain. Sweeps over planes and weights flip each sign
     * that raises it (O(K³) per candidate from running products {@code G b_k}, O(n) per
     * accepted flip) until a sweep flips nothing or after {@code maxSweeps} sweeps.
     *
     * @param cov G, {@code n x n} row-major, symmetric
     * @return the least-squares alphas {@code M^-1 v} of the final rows (of either sign), or
     *     null, with the rows untouched, when M is not positive definite
     */
    static double[] refitChannel(double[] cov, double[] c, double[][] b, int maxSweeps) {
        int planes = b.length;
        int n = c.length;
        double[][] gb = new double[planes][n];
        double[] m = new double[planes * planes];
        double[] v = new double[planes];
        for (int k = 0; k < planes; k++) {
            for (int i = 0; i < n; i++) {
                double acc = 0;
                for (int j = 0; j < n; j++) {
                    acc += cov[i * n + j] * b[k][j];
                }
                gb[k][i] = acc;
            }
            v[k] = dot(b[k], c);
        }
        for (int k = 0; k < planes; k++) {
            for (int l = 0; l < planes; l++) {
                m[k * planes + l] = dot(b[k], gb[l]);
            }
        }
        double[] work = new double[planes * planes + planes];
        double f = explained(m, v, planes, work, null);
        if (Double.isNaN(f)) {
            return null;
        }
        double[] m2 = new double[m.length];
        double[] v2 = new double[planes];
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            int flips = 0;
            for (int k = 0; k < planes; k++) {
                double[] bk = b[k];
                for (int j = 0; j < n; j++) {
                    double bj = bk[j];
                    System.arraycopy(m, 0, m2, 0, m.length);
                    System.arraycopy(v, 0, v2, 0, planes);
                    v2[k] = v[k] - 2 * bj * c[j];
                    for (int l = 0; l < planes; l++) {
                        if (l != k) {
                            double d = -2 * bj * gb[l][j];
                            m2[k * planes + l] += d;
                            m2[l * planes + k] += d;
                        }
                    }
                    m2[k * planes + k] = m[k * planes + k] - 4 * bj * gb[k][j] + 4 * cov[j * n + j];
                    double f2 = explained(m2, v2, planes, work, null);
                    // The margin keeps rounding from flipping a sign back and forth.
                    if (f2 > f * (1 + 1e-12)) {
                        double[] gk = gb[k];
                        for (int i = 0; i < n; i++) {
                            gk[i] -= 2 * bj * cov[j * n + i];
                        }
                        bk[j] = -bj;
                        System.arraycopy(m2, 0, m, 0, m.length);
                        System.arraycopy(v2, 0, v, 0, planes);
                        f = f2;
                        flips++;
                    }
                }
            }
            if (flips == 0) {
                break;
            }
        }
        double[] alpha = new double[planes];
        explained(m, v, planes, work, alpha);
        return alpha;
    }

    /**
     * {@code v' M^-1 v} through the Cholesky factor of M (K x K), or NaN when M is not
     * positive definite (a pivot at or below 1e-12 of the largest diagonal entry); with
     * {@code alpha} non-null, also {@code M^-1 v} into it.
     */
    static double explained(double[] m, double[] v, int k, double[] work, double[] alpha) {
        double[] l = work;
        double scale = 0;
        for (int i = 0; i < k; i++) {
            scale = Math.max(scale, m[i * k + i]);
        }
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double sum = m[i * k + j];
                for (int p = 0; p < j; p++) {
                    sum -= l[i * k + p] * l[j * k + p];
                }
                if (i == j) {
                    if (!(sum > 1e-12 * scale)) {
                        return Double.NaN;
                    }
                    l[i * k + i] = Math.sqrt(sum);
                } else {
                    l[i * k + j] = sum / l[j * k + j];
                }
            }
        }
        // y = L^-1 v (in work's tail); v' M^-1 v = |y|².
        int y = k * k;
        double f = 0;
        for (int i = 0; i < k; i++) {
            double sum = v[i];
            for (int p = 0; p < i; p++) {
                sum -= l[i * k + p] * work[y + p];
            }
            work[y + i] = sum / l[i * k + i];
            f += work[y + i] * work[y + i];
        }
        if (alpha != null) {
            for (int i = k - 1; i >= 0; i--) {
                double sum = work[y + i];
                for (int p = i + 1; p < k; p++) {
                    sum -= l[p * k + i] * alpha[p];
                }
                alpha[i] = sum / l[i * k + i];
            }
        }
        return f;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /**
     * Sums over im2col rows: of x (n), of x x' (n x n), of x y'
     * ({@code [n][outputs]}), of y, and the row count.
     */
    static final class Sums {
        final int n;
        final int outputs;
        final double[] sx;
        final double[] g;
        final double[] c;
        final double[] sy;
        long rows;

        /**
         * The sums of a batch: im2col rows of {@code x} ({@code [images, channels, spatial...]})
         * under the geometry's windows, padded taps 0, in (image, output position) order, each
         * paired with {@code y[image][o][position]}; of each image's positions only every
         * {@code step}-th, from {@code image % step} on.
         */
        static Sums of(float[] x, int images, int channels, ConvGeometry geo, float[] y, int outputs, int step) {
            int positions = geo.outCount();
            int taps = geo.kernelCount();
            int plane = geo.inCount();
            int per = channels * taps;
            int[] src = geo.tapSources();
            Sums s = new Sums(per, outputs);
            float[] rows = new float[BLOCK * per];
            float[] ys = new float[BLOCK * outputs];
            float[] gBlock = new float[per * per];
            float[] cBlock = new float[per * outputs];
            int r = 0;
            for (int img = 0; img < images; img++) {
                // Every step-th position, starting at a different one in each image.
                for (int p = img % step; p < positions; p += step) {
                    int row = r * per;
                    for (int c = 0; c < channels; c++) {
                        int xb = (img * channels + c) * plane;
                        for (int t = 0; t < taps; t++) {
                            int at = src[p * taps + t];
                            rows[row + c * taps + t] = at < 0 ? 0f : x[xb + at];
                        }
                    }
                    for (int o = 0; o < outputs; o++) {
                        ys[r * outputs + o] = y[(img * outputs + o) * positions + p];
                    }
                    if (++r == BLOCK) {
                        s.add(rows, ys, r, gBlock, cBlock);
                        r = 0;
                    }
                }
            }
            s.add(rows, ys, r, gBlock, cBlock);
            return s;
        }

        Sums(int n, int outputs) {
            this.n = n;
            this.outputs = outputs;
            sx = new double[n];
            g = new double[n * n];
            c = new double[n * outputs];
            sy = new double[outputs];
        }

        /**
         * Adds {@code count} rows ({@code x[r * n + j]}, {@code ys[r * outputs + o]}): the block's
         * x'x and x'y as float products ({@link FloatGemm}), then added to the double sums.
         */
        void add(float[] x, float[] ys, int count, float[] gBlock, float[] cBlock) {
            if (count == 0) {
                return;
            }
            FloatGemm gemm = Kernels.floatGemm();
            // A = x' (n x count) is x read with swapped strides; B = x (count x n) and y in place.
            PackedMatrix xt = gemm.pack(x, 0, 1, n, n, count, 1f);
            int[] rowsOfX = Offsets.strided(count, n);
            gemm.multiply(xt, n, x, 0, rowsOfX, Offsets.strided(n, 1), null, 0, false, gBlock, 0, n, 1);
            gemm.multiply(xt, outputs, ys, 0, Offsets.strided(count, outputs), Offsets.strided(outputs, 1), null, 0,
                    false, cBlock, 0, outputs, 1);
            for (int k = 0; k < g.length; k++) {
                g[k] += gBlock[k];
            }
            for (int k = 0; k < c.length; k++) {
                c[k] += cBlock[k];
            }
            for (int r = 0; r < count; r++) {
                for (int j = 0; j < n; j++) {
                    sx[j] += x[r * n + j];
                }
                for (int o = 0; o < outputs; o++) {
                    sy[o] += ys[r * outputs + o];
                }
            }
            rows += count;
        }

        void merge(Sums other) {
            for (int k = 0; k < g.length; k++) {
                g[k] += other.g[k];
            }
            for (int k = 0; k < c.length; k++) {
                c[k] += other.c[k];
            }
            for (int k = 0; k < n; k++) {
                sx[k] += other.sx[k];
            }
            for (int k = 0; k < outputs; k++) {
                sy[k] += other.sy[k];
            }
            rows += other.rows;
        }
    }
}
