package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.ShapeInference;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Pass {@value #NAME}: folds an inference BatchNormalization that directly follows a binary
 * layer into that layer's alpha and bias, so that alpha and BN become one per-channel affine
 * (scale {@code s = gamma / sqrt(var + eps)}, then {@code alpha' = s * alpha},
 * {@code bias' = s * (bias - mean) + beta}).
 *
 * <p>Where {@code s} is negative, the channel's sign bits are flipped in every plane and
 * {@code |s|} is used, so every alpha stays positive as the binarizer's conventions promise
 * (and the fast kernels' integer thresholds need). The binary node then writes the BN's output
 * value, which keeps the float graph's value names valid for comparisons.
 *
 * <p>A BN after a Conv the policy kept in float (the first layer) is folded into its weight and
 * bias the same way ({@code W' = s W}, {@code b' = s (b - mean) + beta}).
 *
 * <p>Applied after {@link Calibration} (which fits the binary layers' own outputs, before any
 * BN); the result computes the same function up to float rounding, with fewer nodes and
 * 3 of every 4 per-channel BN vectors gone from the container.
 */
public final class BatchNormFolding {
    /** The pass name. */
    public static final String NAME = "fold-batchnorm";

    private BatchNormFolding() {
    }

    /** The graph with every foldable BatchNormalization merged into its binary producer. */
    public static Graph apply(Graph g) {
        Map<String, Integer> readers = new HashMap<>();
        for (Node n : g.nodes()) {
            for (String in : n.inputs()) {
                readers.merge(in, 1, Integer::sum);
            }
        }
        g.outputs().forEach(o -> readers.merge(o.name(), 1, Integer::sum));
        Map<String, Node> producers = new HashMap<>();
        for (Node n : g.nodes()) {
            n.outputs().forEach(o -> producers.put(o, n));
        }
        Graph.Builder b = g.toBuilder();
        List<Node> nodes = new ArrayList<>(g.nodes());
        boolean changed = false;
        for (Node bn : g.nodes()) {
            if (!bn.domain().isEmpty() || !bn.opType().equals("BatchNormalization") || bn.outputs().size() != 1) {
                continue;
            }
            Node layer = producers.get(bn.input(0));
            if (layer == null || readers.getOrDefault(layer.output(0), 0) != 1) {
                continue;
            }
            Node folded = isFloatConv(layer, g) ? foldIntoFloatConv(g, b, layer, bn)
                    : BinaryOps.isBinaryLayer(layer) ? foldIntoBinaryLayer(g, b, layer, bn) : null;
            if (folded != null) {
                nodes.set(nodes.indexOf(layer), folded);
                nodes.remove(bn);
                changed = true;
            }
        }
        if (!changed) {
            return g;
        }
        b.nodes(nodes);
        GraphEdit.prune(b, g.outputs());
        return ShapeInference.infer(b.clearValueInfo().build());
    }

    /** A standard Conv with a constant weight (and bias, if any): a layer the policy kept in float. */
    private static boolean isFloatConv(Node n, Graph g) {
        return n.domain().isEmpty() && n.opType().equals("Conv") && n.outputs().size() == 1
                && g.initializer(n.input(1)) != null && (!n.hasInput(2) || g.initializer(n.input(2)) != null);
    }

    /**
     * A binary layer followed by BN becomes one layer with {@code alpha'[k][o] = |s[o]| alpha[k][o]}
     * and the signs of channel o flipped where {@code s[o] < 0} (alpha stays positive), bias as
     * for a float conv. Null when its constants are missing or the BN's parameters do not fit.
     */
    private static Node foldIntoBinaryLayer(Graph g, Graph.Builder b, Node layer, Node bn) {
        Tensor bits = g.initializer(layer.input(1));
        Tensor alpha = g.initializer(layer.input(2));
        Tensor bias = layer.hasInput(3) ? g.initializer(layer.input(3)) : null;
        if (bits == null || alpha == null || (layer.hasInput(3) && bias == null)) {
            return null;
        }
        int planes = bits.shape()[0];
        int m = bits.shape()[1];
        Affine bnAffine = Affine.of(g, bn, m);
        if (bnAffine == null) {
            return null;
        }
        float[] a = alpha.toFloatArray();
        float[] c = bias == null ? new float[m] : bias.toFloatArray();
        float[] signs = bits.toFloatArray();
        int per = bits.size() / (planes * m);
        for (int o = 0; o < m; o++) {
            double s = bnAffine.scale(o);
            c[o] = bnAffine.shift(o, c[o]);
            for (int k = 0; k < planes; k++) {
                a[k * m + o] = (float) (a[k * m + o] * Math.abs(s));
                if (s < 0) {
                    int base = (k * m + o) * per;
                    for (int j = 0; j < per; j++) {
                        signs[base + j] = -signs[base + j];
                    }
                }
            }
        }
        b.initializer(layer.input(1), Tensor.ofSigns(bits.shape(), signs));
        b.initializer(layer.input(2), Tensor.ofFloats(alpha.shape(), a));
        return withBias(b, layer, 3, c, bn.output(0));
    }

    /**
     * A float Conv followed by BN becomes one Conv with {@code W'[o] = s[o] W[o]} and
     * {@code b'[o] = s[o] (b[o] - mean[o]) + beta[o]}, as ONNX Runtime's optimizer does at load
     * time; here it is done once, in the container. Null when the BN's parameters do not fit.
     */
    private static Node foldIntoFloatConv(Graph g, Graph.Builder b, Node conv, Node bn) {
        Tensor weight = g.initializer(conv.input(1));
        Tensor bias = conv.hasInput(2) ? g.initializer(conv.input(2)) : null;
        int m = weight.shape()[0];
        Affine bnAffine = Affine.of(g, bn, m);
        if (bnAffine == null || !weight.type().isFloatingPoint()) {
            return null;
        }
        float[] w = weight.toFloatArray();
        float[] c = bias == null ? new float[m] : bias.toFloatArray();
        int per = w.length / m;
        for (int o = 0; o < m; o++) {
            double s = bnAffine.scale(o);
            c[o] = bnAffine.shift(o, c[o]);
            for (int j = 0; j < per; j++) {
                w[o * per + j] = (float) (w[o * per + j] * s);
            }
        }
        b.initializer(conv.input(1), Tensor.ofFloats(weight.shape(), w));
        return withBias(b, conv, 2, c, bn.output(0));
    }

    /**
     * The layer writing {@code output} (the BN's) with {@code bias} as its input {@code at}: the
     * layer's own bias initializer is overwritten, or a fresh one is added when it had none.
     */
    private static Node withBias(Graph.Builder b, Node layer, int at, float[] bias, String output) {
        String biasName = layer.hasInput(at) ? layer.input(at) : layer.name() + ".bias";
        for (int i = 2; !layer.hasInput(at) && b.initializers().containsKey(biasName); i++) {
            biasName = layer.name() + ".bias" + i;
        }
        b.initializer(biasName, Tensor.ofFloats(new int[] {bias.length}, bias));
        List<String> inputs = new ArrayList<>(layer.inputs());
        while (inputs.size() <= at) {
            inputs.add("");
        }
        inputs.set(at, biasName);
        return new Node(layer.name(), layer.opType(), layer.domain(), inputs, List.of(output), layer.attributes());
    }

    /**
     * An inference BatchNormalization as {@code y = s * (x - mean) + beta} with
     * {@code s = gamma / sqrt(var + eps)}, computed in double.
     */
    private record Affine(float[] gamma, float[] beta, float[] mean, float[] var, float eps) {
        /** The BN's constants for {@code m} channels, or null when one is missing or has another size. */
        static Affine of(Graph g, Node bn, int m) {
            float[][] v = new float[4][];
            for (int i = 0; i < 4; i++) {
                Tensor t = g.initializer(bn.input(i + 1));
                if (t == null || t.size() != m) {
                    return null;
                }
                v[i] = t.toFloatArray();
            }
            return new Affine(v[0], v[1], v[2], v[3], bn.attrFloat("epsilon", 1e-5f));
        }

        double scale(int o) {
            return gamma[o] / Math.sqrt((double) var[o] + eps);
        }

        /** The folded bias of channel o whose bias before the BN was {@code bias}. */
        float shift(int o, float bias) {
            return (float) (scale(o) * (bias - mean[o]) + beta[o]);
        }
    }
}
