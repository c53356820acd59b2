package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * One binary layer as {@link Calibration} sees it: the node, its output y, and the value whose
 * channel statistics must match the float graph's (y itself, or the shortcut's sum for a
 * Bi-Real layer).
 */
final class Site {
    final String node;
    final String output;
    final String target;
    final int channelAxis;
    /** The BatchNormalization between a Bi-Real conv and its Add, or null. */
    final String batchNorm;

    private Site(String node, String output, String target, int channelAxis, String batchNorm) {
        this.node = node;
        this.output = output;
        this.target = target;
        this.channelAxis = channelAxis;
        this.batchNorm = batchNorm;
    }

    /** The binary layers of {@code g}, in topological order. */
    static List<Site> find(Graph g) {
        List<Site> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (!InputBinarizationPass.isBinaryLayer(n)) {
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

    /** The graph with a folded into alpha and {@code a * bias + b} into the bias. */
    Graph fold(Graph g, double[][] ab) {
        Node n = node(g, node);
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
