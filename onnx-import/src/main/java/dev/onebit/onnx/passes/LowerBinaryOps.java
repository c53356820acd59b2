package dev.onebit.onnx.passes;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rewrites onebit's binary operators (see {@link BinaryOps}) into standard ONNX operators, so
 * that a binarized model opens in ONNX Runtime and Netron and computes the same function:
 * <ul>
 *   <li>{@code Binarize(x)} becomes {@code Where(Less(x, 0), -1, 1)} (ONNX's Sign would map 0 to 0);</li>
 *   <li>{@code BinaryConv} becomes one {@code Conv} per plane with its ±1 weight, each followed by a
 *       {@code Mul} with alpha shaped [1, M, 1, ...], the planes summed by {@code Add}, then
 *       {@code Mul} by the activation scale and {@code Add} of the bias;</li>
 *   <li>{@code BinaryMatMul} becomes {@code MatMul} with the ±1 weight transposed to [IN, OUT],
 *       {@code Mul} by alpha, {@code Add} of the bias, per plane;</li>
 *   <li>{@code ActivationScale(x)} becomes {@code AveragePool(ReduceMean(Abs(x), axes=[1]))} with
 *       the conv's window and {@code count_include_pad=1}.</li>
 * </ul>
 * The ±1 weights are stored as float32, so the exported file is about as large as the float
 * model: it is a simulation for inspection and cross-checking, not a compact format.
 */
public final class LowerBinaryOps {
    /** Opset the lowered graph needs at least (Where, and Less with broadcasting). */
    static final int MIN_DEFAULT_OPSET = 9;

    private final Graph.Builder out;
    private final Graph in;
    private final List<Node> nodes = new ArrayList<>();
    private int fresh;

    private LowerBinaryOps(Graph in) {
        this.in = in;
        this.out = in.toBuilder();
    }

    /**
     * The graph with every dev.onebit node replaced by standard operators; a graph without such
     * nodes is returned unchanged.
     *
     * @throws ModelException if a binary node's weights are not constants
     */
    public static Graph apply(Graph graph) {
        boolean any = graph.nodes().stream().anyMatch(LowerBinaryOps::isBinary);
        return any ? new LowerBinaryOps(graph).run() : graph;
    }

    private static boolean isBinary(Node n) {
        return n.domain().equals(OpRegistry.ONEBIT_DOMAIN);
    }

    private int opset() {
        return in.opset();
    }

    private Graph run() {
        if (opset() < MIN_DEFAULT_OPSET) {
            // Raising the opset could change the meaning of the graph's other nodes, so refuse.
            throw new ModelException("exporting binary layers as ONNX needs opset " + MIN_DEFAULT_OPSET
                    + " or later (Where); the model is opset " + opset());
        }
        for (Node n : in.nodes()) {
            if (!isBinary(n)) {
                nodes.add(n);
                continue;
            }
            switch (n.opType()) {
                case "Binarize" -> binarize(n);
                case "BinaryConv" -> binaryLayer(n, true);
                case "BinaryMatMul" -> binaryLayer(n, false);
                case "ActivationScale" -> activationScale(n);
                default -> throw new ModelException(n.describe() + ": no ONNX lowering for this operator");
            }
        }
        out.nodes(nodes);
        out.removeOpset(OpRegistry.ONEBIT_DOMAIN);
        // Binary nodes' own constants (B, alpha) are replaced by the lowered ones.
        out.initializers().keySet().removeIf(k -> in.initializer(k) != null && !isUsed(k));
        out.clearValueInfo();
        return out.build();
    }

    private boolean isUsed(String value) {
        for (Node n : nodes) {
            if (n.inputs().contains(value)) {
                return true;
            }
        }
        return in.outputs().stream().anyMatch(v -> v.name().equals(value));
    }

    private String name(Node base, String what) {
        return base.name() + "/onebit_" + what + "_" + fresh++;
    }

    private String constant(Node base, String what, Tensor t) {
        String name = name(base, what);
        out.initializer(name, t);
        return name;
    }

    private String add(Node base, String op, List<String> inputs, Map<String, Attribute> attrs, String output) {
        String y = output != null ? output : name(base, op.toLowerCase());
        nodes.add(Node.of(name(base, op), op, inputs, List.of(y), attrs));
        return y;
    }

    private void binarize(Node n) {
        String negative = add(n, "Less", List.of(n.input(0), constant(n, "zero", Tensor.scalar(0f))), Map.of(), null);
        add(n, "Where", List.of(negative, constant(n, "minus_one", Tensor.scalar(-1f)),
                constant(n, "one", Tensor.scalar(1f))), Map.of(), n.output(0));
    }

    private void binaryLayer(Node n, boolean conv) {
        Tensor b = in.initializer(n.input(1));
        Tensor alpha = in.initializer(n.input(2));
        if (b == null || alpha == null) {
            throw new ModelException(n.describe() + ": B and alpha must be constant tensors");
        }
        int[] bShape = b.shape();
        int planes = bShape[0];
        int m = bShape[1];
        int per = b.size() / (planes * m);
        float[] signs = b.toFloatArray();
        float[] alphas = alpha.toFloatArray();
        int rank = conv ? bShape.length - 1 : 2;
        String sum = null;
        for (int k = 0; k < planes; k++) {
            float[] plane = new float[m * per];
            System.arraycopy(signs, k * m * per, plane, 0, m * per);
            float[] a = new float[m];
            System.arraycopy(alphas, k * m, a, 0, m);
            String y;
            if (conv) {
                int[] wShape = BinaryOps.weightShape(b);
                Map<String, Attribute> attrs = new LinkedHashMap<>(n.attributes());
                attrs.remove("method");
                y = add(n, "Conv", List.of(n.input(0), constant(n, "sign_w", Tensor.ofFloats(wShape, plane))), attrs, null);
            } else {
                int in = per;
                float[] t = new float[plane.length];
                for (int o = 0; o < m; o++) {
                    for (int i = 0; i < in; i++) {
                        t[i * m + o] = plane[o * in + i];
                    }
                }
                y = add(n, "MatMul", List.of(n.input(0), constant(n, "sign_w", Tensor.ofFloats(new int[] {in, m}, t))),
                        Map.of(), null);
            }
            y = add(n, "Mul", List.of(y, constant(n, "alpha", Tensor.ofFloats(channelShape(m, rank, conv), a))), Map.of(), null);
            sum = sum == null ? y : add(n, "Add", List.of(sum, y), Map.of(), null);
        }
        if (conv && n.hasInput(4)) {
            sum = add(n, "Mul", List.of(sum, n.input(4)), Map.of(), null);
        }
        if (n.hasInput(3)) {
            Tensor bias = in.initializer(n.input(3));
            if (bias == null) {
                throw new ModelException(n.describe() + ": bias must be a constant tensor");
            }
            String reshaped = constant(n, "bias", Tensor.ofFloats(channelShape(m, rank, conv), bias.toFloatArray()));
            sum = add(n, "Add", List.of(sum, reshaped), Map.of(), null);
        }
        // The last node must write the original output name.
        Node last = nodes.remove(nodes.size() - 1);
        nodes.add(new Node(last.name(), last.opType(), last.domain(), last.inputs(), List.of(n.output(0)), last.attributes()));
    }

    /** [1, m, 1, ...] for a conv's channel axis; [m] for a fully connected layer's last axis. */
    private static int[] channelShape(int m, int rank, boolean conv) {
        if (!conv) {
            return new int[] {m};
        }
        int[] s = new int[rank];
        java.util.Arrays.fill(s, 1);
        s[1] = m;
        return s;
    }

    private void activationScale(Node n) {
        String abs = add(n, "Abs", List.of(n.input(0)), Map.of(), null);
        String mean;
        Map<String, Attribute> reduce = new LinkedHashMap<>();
        reduce.put("keepdims", Attribute.of(1));
        if (opset() >= 18) {
            mean = add(n, "ReduceMean", List.of(abs, constant(n, "axes", Tensor.ofLongs(new int[] {1}, new long[] {1}))),
                    reduce, null);
        } else {
            reduce.put("axes", Attribute.ofInts(1));
            mean = add(n, "ReduceMean", List.of(abs), reduce, null);
        }
        Map<String, Attribute> pool = new LinkedHashMap<>(n.attributes());
        pool.put("count_include_pad", Attribute.of(1));
        Attribute dilations = pool.remove("dilations");
        if (dilations != null && java.util.Arrays.stream(dilations.asInts()).anyMatch(d -> d != 1)) {
            if (opset() < 19) {
                throw new ModelException(n.describe() + ": a dilated activation scale needs AveragePool's "
                        + "dilations, which ONNX has from opset 19; this graph is opset " + opset());
            }
            pool.put("dilations", dilations);
        }
        add(n, "AveragePool", List.of(mean), pool, n.output(0));
    }
}
