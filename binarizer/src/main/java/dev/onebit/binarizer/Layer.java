package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A Conv, Gemm or MatMul node seen as a layer: its data input, output, effective weight
 * {@code [O, ...]} and bias (see the package conventions), or why it cannot be binarized.
 *
 * @param node the float node
 * @param input the value the layer reads (Conv's X, Gemm's A, MatMul's first input)
 * @param weight effective weight, row-major {@code weightShape}; null when unsupported
 * @param weightShape {@code [O, C/group, kernel...]} for Conv, {@code [OUT, IN]} otherwise; null when unsupported
 * @param bias per-output bias, or null
 * @param unsupported why it must stay float, or null
 */
record Layer(Node node, String input, float[] weight, int[] weightShape, float[] bias, String unsupported) {

    /** The op types that are layers. */
    static boolean isLayerOp(Node n) {
        return n.domain().isEmpty() && (n.opType().equals("Conv") || n.opType().equals("Gemm") || n.opType().equals("MatMul"));
    }

    /** Every layer of the graph, in graph order. */
    static List<Layer> find(Graph g) {
        List<Layer> out = new ArrayList<>();
        for (Node n : g.nodes()) {
            if (isLayerOp(n)) {
                out.add(of(g, n));
            }
        }
        return out;
    }

    static Layer of(Graph g, Node n) {
        return switch (n.opType()) {
            case "Conv" -> conv(g, n);
            case "Gemm" -> gemm(g, n);
            default -> matMul(g, n);
        };
    }

    /** The layer's output value. */
    String output() {
        return node.output(0);
    }

    /** Number of output channels (rows of the effective weight). */
    int outputs() {
        return weightShape[0];
    }

    /** Number of weights. */
    long params() {
        if (weightShape != null) {
            return weight.length;
        }
        return 0;
    }

    private static Layer unsupported(Node n, String why) {
        return new Layer(n, n.input(0), null, null, null, why);
    }

    private static Layer conv(Graph g, Node n) {
        Tensor w = g.initializer(n.input(1));
        if (w == null) {
            return unsupported(n, "weight is not a constant initializer");
        }
        if (w.rank() < 3) {
            return unsupported(n, "weight has shape " + Arrays.toString(w.shape()));
        }
        float[] bias = null;
        if (n.hasInput(2)) {
            Tensor b = g.initializer(n.input(2));
            if (b == null) {
                return unsupported(n, "bias is not a constant initializer");
            }
            bias = b.toFloatArray();
        }
        return new Layer(n, n.input(0), w.toFloatArray(), w.shape(), bias, null);
    }

    private static Layer gemm(Graph g, Node n) {
        if (n.attrInt("transA", 0) != 0) {
            return unsupported(n, "transA=1");
        }
        Tensor b = g.initializer(n.input(1));
        if (b == null) {
            return unsupported(n, "B is not a constant initializer");
        }
        if (b.rank() != 2) {
            return unsupported(n, "B has shape " + Arrays.toString(b.shape()));
        }
        boolean transB = n.attrInt("transB", 0) != 0;
        float alpha = n.attrFloat("alpha", 1f);
        float beta = n.attrFloat("beta", 1f);
        int[] s = b.shape();
        int out = transB ? s[0] : s[1];
        int in = transB ? s[1] : s[0];
        float[] src = b.toFloatArray();
        float[] w = new float[out * in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                w[o * in + i] = alpha * (transB ? src[o * in + i] : src[i * out + o]);
            }
        }
        float[] bias = null;
        if (n.hasInput(2) && beta != 0f) {
            Tensor c = g.initializer(n.input(2));
            if (c == null) {
                return unsupported(n, "C is not a constant initializer");
            }
            bias = perOutput(c, out);
            if (bias == null) {
                return unsupported(n, "C of shape " + Arrays.toString(c.shape()) + " is not a per-output bias");
            }
            for (int o = 0; o < out; o++) {
                bias[o] *= beta;
            }
        }
        return new Layer(n, n.input(0), w, new int[] {out, in}, bias, null);
    }

    /** C broadcast to {@code [out]} when it is a scalar, {@code [1]}, {@code [out]}, {@code [1, out]} or {@code [1, 1]}; else null. */
    private static float[] perOutput(Tensor c, int out) {
        int[] s = c.shape();
        float[] v = c.toFloatArray();
        boolean leadingOnes = true;
        for (int d = 0; d < s.length - 1; d++) {
            leadingOnes &= s[d] == 1;
        }
        if (!leadingOnes || s.length > 2) {
            return null;
        }
        if (v.length == 1) {
            float[] b = new float[out];
            Arrays.fill(b, v[0]);
            return b;
        }
        return v.length == out ? v : null;
    }

    private static Layer matMul(Graph g, Node n) {
        Tensor b = g.initializer(n.input(1));
        if (b == null) {
            return unsupported(n, "weight (second input) is not a constant initializer");
        }
        if (b.rank() != 2) {
            return unsupported(n, "weight has shape " + Arrays.toString(b.shape()) + ", not [IN, OUT]");
        }
        int in = b.shape()[0];
        int out = b.shape()[1];
        float[] src = b.toFloatArray();
        float[] w = new float[out * in];
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                w[o * in + i] = src[i * out + o];
            }
        }
        return new Layer(n, n.input(0), w, new int[] {out, in}, null, null);
    }
}
