package dev.onebit.binarizer;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One layer as {@link Calibration} sees it: the node, its output y, and the value whose
 * channel statistics must match the float graph's (y itself, or the shortcut's sum for a
 * Bi-Real layer). Besides the binary layers, the float Conv and Gemm layers downstream of a
 * binary one (normally the classifier) are sites too: their weights are right, but their
 * inputs have drifted, and refitting their per-channel output (for the classifier, each class's
 * logit) recovered 0.6 (plain), 0.85 (vgg) and 14 (resnet) top-1 points for BWN.
 */
final class Site {
    final String node;
    final String output;
    final String target;
    final int channelAxis;
    /** The BatchNormalization between a Bi-Real conv and its Add, or null. */
    final String batchNorm;
    /** True for a float layer downstream of binary ones (see the class comment). */
    final boolean floatLayer;

    private Site(String node, String output, String target, int channelAxis, String batchNorm) {
        this(node, output, target, channelAxis, batchNorm, false);
    }

    private Site(String node, String output, String target, int channelAxis, String batchNorm, boolean floatLayer) {
        this.floatLayer = floatLayer;
        this.node = node;
        this.output = output;
        this.target = target;
        this.channelAxis = channelAxis;
        this.batchNorm = batchNorm;
    }

    /**
     * The sites of {@code g} that can be fitted against {@code reference}: float layers a pass
     * added (Bi-Real's 1x1 shortcut convs) have no counterpart there and are left out.
     */
    static List<Site> find(Graph g, Graph reference) {
        Set<String> produced = new HashSet<>();
        reference.nodes().forEach(n -> produced.addAll(n.outputs()));
        List<Site> out = new ArrayList<>(find(g));
        out.removeIf(s -> s.floatLayer && !produced.contains(s.target));
        return out;
    }

    /** The binary layers of {@code g}, and the float layers downstream of them, in topological order. */
    static List<Site> find(Graph g) {
        List<Site> out = new ArrayList<>();
        Set<String> drifted = new HashSet<>();
        for (Node n : g.nodes()) {
            boolean downstream = n.inputs().stream().anyMatch(drifted::contains);
            if (downstream || BinaryOps.isBinaryLayer(n)) {
                drifted.addAll(n.outputs());
            }
            if (downstream && isFloatSite(g, n)) {
                out.add(new Site(n.name(), n.output(0), n.output(0), n.opType().equals("Conv") ? 1 : -1, null, true));
                continue;
            }
            if (!BinaryOps.isBinaryLayer(n)) {
                continue;
            }
            String y = n.output(0);
            // BinaryMatMul's features are on the last axis; rank 2 is all the samples produce.
            int axis = n.opType().equals("BinaryConv") ? 1 : -1;
            Node add = node(g, n.name() + RealShortcutPass.ADD_SUFFIX);
            if (add == null || !Method.BIREAL.id().equals(n.attrString("method", ""))) {
                out.add(new Site(n.name(), y, y, axis, null));
                continue;
            }
            Node body = producer(g, add.input(0));
            String bn = null;
            if (body != null && body.opType().equals("BatchNormalization") && body.input(0).equals(y)) {
                bn = body.name();
            } else if (body != n) {
                throw new IllegalArgumentException(add.describe() + " does not add to the output of " + n.describe());
            }
            out.add(new Site(n.name(), y, add.output(0), axis, bn));
        }
        return out;
    }

    int axis(int rank) {
        return channelAxis >= 0 ? channelAxis : rank - 1;
    }

    /** Per channel {a, b}: scale and shift of y, from the float moments and the binarized run's. */
    double[][] fit(Graph g, ChannelMoments want, ChannelMoments got) {
        int c = want.channels;
        double[] a = new double[c];
        double[] b = new double[c];
        double[] slope = batchNorm == null ? null : slope(node(g, batchNorm), g);
        for (int ch = 0; ch < c; ch++) {
            double mt = want.meanY(ch);
            double st = Math.sqrt(want.varY(ch));
            if (target.equals(output)) {
                double sy = Math.sqrt(got.varY(ch));
                a[ch] = st > 0 && sy > 0 ? st / sy : 1;
                b[ch] = mt - a[ch] * got.meanY(ch);
                continue;
            }
            double gs = slope == null ? 1 : slope[ch];
            double varY = gs * gs * got.varY(ch);
            double covYS = gs * got.covYS(ch);
            double covYX = covYS - varY;
            double varX = Math.max(0, got.varS(ch) - 2 * covYS + varY);
            double meanY = gs * got.meanY(ch);
            double meanX = got.meanS(ch) - meanY;
            if (Math.abs(gs) < 1e-12) {
                a[ch] = 1;
                b[ch] = 0;
                continue;
            }
            a[ch] = sumScale(varY, covYX, varX, st * st);
            b[ch] = (mt - a[ch] * meanY - meanX) / gs;
        }
        return new double[][] {a, b};
    }

    /** The a &gt; 0 with {@code a² vy + 2 a cyx + vx = target}, or the fallback the class comment of Calibration gives. */
    static double sumScale(double vy, double cyx, double vx, double target) {
        if (!(vy > 0)) {
            return 1;
        }
        double disc = cyx * cyx - vy * (vx - target);
        if (disc >= 0) {
            double root = (-cyx + Math.sqrt(disc)) / vy;
            if (root > 0) {
                return root;
            }
        } else if (-cyx / vy > 0) {
            return -cyx / vy;
        }
        return target > 0 ? Math.sqrt(target / vy) : 1;
    }

    /**
     * A float Conv, or a Gemm with a per-column (or absent) C, whose weight is a constant: its
     * output channels can take a scale and shift by rewriting weight and bias.
     */
    private static boolean isFloatSite(Graph g, Node n) {
        if (!n.domain().isEmpty() || n.inputs().size() < 2 || g.initializer(n.input(1)) == null) {
            return false;
        }
        if (n.opType().equals("Conv")) {
            return !n.hasInput(2) || g.initializer(n.input(2)) != null;
        }
        if (!n.opType().equals("Gemm") || g.initializer(n.input(1)).rank() != 2) {
            return false;
        }
        if (!n.hasInput(2)) {
            return true;
        }
        Tensor c = g.initializer(n.input(2));
        int outputs = g.initializer(n.input(1)).shape()[n.attrInt("transB", 0) != 0 ? 0 : 1];
        return c != null && n.attrFloat("beta", 1f) != 0f && c.size() == outputs;
    }

    /** The graph with a folded into the layer's scale (alpha or weight) and {@code a * bias + b} into its bias. */
    Graph fold(Graph g, double[][] ab) {
        Node floatLayer = node(g, node);
        if (floatLayer.domain().isEmpty()) {
            return foldFloat(g, floatLayer, ab[0], ab[1]);
        }
        Node n = floatLayer;
        double[] a = ab[0];
        double[] b = ab[1];
        Tensor alphaT = g.initializer(n.input(2));
        float[] alpha = alphaT.toFloatArray();
        int outputs = alphaT.shape()[1];
        for (int i = 0; i < alpha.length; i++) {
            alpha[i] = (float) (alpha[i] * a[i % outputs]);
        }
        float[] bias = new float[outputs];
        if (n.hasInput(3)) {
            bias = g.initializer(n.input(3)).toFloatArray();
        }
        for (int o = 0; o < outputs; o++) {
            bias[o] = (float) (a[o] * bias[o] + b[o]);
        }
        Graph.Builder builder = g.toBuilder();
        String alphaName = writeTensor(builder, g, n, n.input(2), n.name() + ".alpha",
                Tensor.ofFloats(alphaT.shape(), alpha));
        String biasName = writeTensor(builder, g, n, n.input(3), n.name() + ".bias",
                Tensor.ofFloats(new int[] {outputs}, bias));
        List<String> inputs = new ArrayList<>(n.inputs());
        while (inputs.size() < 4) {
            inputs.add("");
        }
        inputs.set(2, alphaName);
        inputs.set(3, biasName);
        List<Node> nodes = new ArrayList<>(g.nodes());
        nodes.set(nodes.indexOf(n), n.withInputs(inputs));
        return builder.nodes(nodes).build();
    }

    /** The graph with the binary layer's B, alpha and bias replaced (see {@link SignRefit}). */
    Graph rewrite(Graph g, Tensor bits, float[] alpha, float[] bias) {
        Node n = node(g, node);
        Tensor alphaT = g.initializer(n.input(2));
        Graph.Builder builder = g.toBuilder();
        String bName = writeTensor(builder, g, n, n.input(1), n.name() + ".B", bits);
        String alphaName = writeTensor(builder, g, n, n.input(2), n.name() + ".alpha", Tensor.ofFloats(alphaT.shape(), alpha));
        String biasName = writeTensor(builder, g, n, n.hasInput(3) ? n.input(3) : "", n.name() + ".bias",
                Tensor.ofFloats(new int[] {bias.length}, bias));
        List<String> inputs = new ArrayList<>(n.inputs());
        while (inputs.size() < 4) {
            inputs.add("");
        }
        inputs.set(1, bName);
        inputs.set(2, alphaName);
        inputs.set(3, biasName);
        List<Node> nodes = new ArrayList<>(g.nodes());
        nodes.set(nodes.indexOf(n), n.withInputs(inputs));
        return builder.nodes(nodes).build();
    }

    /** A float Conv or Gemm with output channel o scaled by a[o] and shifted by b[o]. */
    private static Graph foldFloat(Graph g, Node n, double[] a, double[] b) {
        Tensor wT = g.initializer(n.input(1));
        float[] w = wT.toFloatArray();
        int[] ws = wT.shape();
        boolean conv = n.opType().equals("Conv");
        boolean transB = n.attrInt("transB", 0) != 0;
        int outputs = conv || transB ? ws[0] : ws[1];
        int per = w.length / outputs;
        for (int i = 0; i < w.length; i++) {
            // Conv [M, ...] and transposed Gemm [N, K] hold a channel per row; plain Gemm [K, N] per column.
            int o = conv || transB ? i / per : i % outputs;
            w[i] = (float) (w[i] * a[o]);
        }
        float beta = conv || !n.hasInput(2) ? 1f : n.attrFloat("beta", 1f);
        float[] bias = n.hasInput(2) ? g.initializer(n.input(2)).toFloatArray() : new float[outputs];
        for (int o = 0; o < outputs; o++) {
            // Gemm adds beta * C, so the shift goes into C divided by beta.
            bias[o] = (float) (a[o] * bias[o] + b[o] / beta);
        }
        Graph.Builder builder = g.toBuilder();
        String wName = writeTensor(builder, g, n, n.input(1), n.name() + ".weight", Tensor.ofFloats(ws, w));
        int[] biasShape = n.hasInput(2) ? g.initializer(n.input(2)).shape() : new int[] {outputs};
        String biasName = writeTensor(builder, g, n, n.hasInput(2) ? n.input(2) : "", n.name() + ".bias",
                Tensor.ofFloats(biasShape, bias));
        List<String> inputs = new ArrayList<>(n.inputs());
        while (inputs.size() < 3) {
            inputs.add("");
        }
        inputs.set(1, wName);
        inputs.set(2, biasName);
        Node rewritten = n.withInputs(inputs);
        if (!conv && !n.hasInput(2)) {
            // A Gemm without C ignores beta; with the new C it must be 1.
            Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
            attrs.put("beta", Attribute.of(1f));
            rewritten = rewritten.withAttributes(attrs);
        }
        List<Node> nodes = new ArrayList<>(g.nodes());
        nodes.set(nodes.indexOf(n), rewritten);
        return builder.nodes(nodes).build();
    }

    /** Replaces initializer {@code name} read by {@code node}, or adds a fresh one when it is absent or others read it too. */
    private static String writeTensor(Graph.Builder b, Graph g, Node node, String name, String fallbackBase, Tensor t) {
        boolean own = !name.isEmpty() && g.initializer(name) != null;
        for (Node n : g.nodes()) {
            own &= n == node || !n.inputs().contains(name);
        }
        if (own) {
            b.initializer(name, t);
            return name;
        }
        String fresh = fallbackBase;
        for (int i = 2; g.initializer(fresh) != null || g.valueInfo().containsKey(fresh) || producer(g, fresh) != null; i++) {
            fresh = fallbackBase + "_" + i;
        }
        b.initializer(fresh, t);
        return fresh;
    }

    /** BatchNormalization's per-channel slope {@code scale / sqrt(var + epsilon)}. */
    private static double[] slope(Node bn, Graph g) {
        Tensor scaleT = g.initializer(bn.input(1));
        Tensor varT = g.initializer(bn.input(4));
        if (scaleT == null || varT == null) {
            throw new IllegalArgumentException(bn.describe() + ": scale and variance must be constant to calibrate through it");
        }
        float[] scale = scaleT.toFloatArray();
        float[] var = varT.toFloatArray();
        double eps = bn.attrFloat("epsilon", 1e-5f);
        double[] s = new double[scale.length];
        for (int c = 0; c < s.length; c++) {
            s[c] = scale[c] / Math.sqrt(var[c] + eps);
        }
        return s;
    }

    private static Node node(Graph g, String name) {
        for (Node n : g.nodes()) {
            if (n.name().equals(name)) {
                return n;
            }
        }
        return null;
    }

    private static Node producer(Graph g, String value) {
        for (Node n : g.nodes()) {
            if (n.outputs().contains(value)) {
                return n;
            }
        }
        return null;
    }
}
