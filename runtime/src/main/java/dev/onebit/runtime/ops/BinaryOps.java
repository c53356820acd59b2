package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Buffers;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.PackedSigns;
import dev.onebit.runtime.ScaleKernel;
import dev.onebit.runtime.SignKernel;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ActivationScales;
import dev.onebit.runtime.kernels.BinaryConvolution;
import dev.onebit.runtime.kernels.BinaryDense;
import dev.onebit.runtime.kernels.BwnDense;
import dev.onebit.runtime.kernels.ConvGeometry;
import dev.onebit.runtime.kernels.Kernels;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * onebit's binary operators, domain {@value OpRegistry#ONEBIT_DOMAIN}, version 1, with their
 * reference kernels. This is where their semantics are defined; everything else (the
 * binarizer, the {@code .bnn} container, the ONNX export, the fast kernels) follows it.
 *
 * <h2>Conventions</h2>
 * <ul>
 *   <li>sign(x) = -1 for x &lt; 0, +1 otherwise: <b>sign(0) = +1</b> (ONNX's Sign gives 0).</li>
 *   <li>Binary weights are {@link DataType#BIT} tensors: 1 bit per weight, <b>bit 1 means -1</b>,
 *       element k of the row-major tensor in bit k % 8 of byte k / 8.</li>
 *   <li>A layer with K binary planes has the effective real weight
 *       {@code W[o] = sum_k alpha[k][o] * B[k][o]} (K = 1 for BWN, XNOR and Bi-Real; K &gt; 1 for
 *       CBD). For ±1 inputs the dot product with one plane row of n weights is
 *       {@code n - 2 * popcount(a XOR w)} on bit-packed words.</li>
 *   <li>Zero padding is applied to the layer's input as it is, after any sign: padded taps
 *       contribute 0, exactly as ONNX Conv pads (so a padded tap is neither +1 nor -1).</li>
 * </ul>
 *
 * <h2>Operators</h2>
 * <dl>
 *   <dt>{@code Binarize(X) -> Y}</dt>
 *   <dd>Y = sign(X), elementwise, float -1/+1.</dd>
 *
 *   <dt>{@code BinaryConv(X, B, alpha[, bias[, scale]]) -> Y}</dt>
 *   <dd>ONNX Conv with weight W as above. X float [N, C, spatial...]; B BIT
 *       [K, M, C/group, kernel...]; alpha float [K, M]; bias float [M] (optional); scale float
 *       [N, 1, out spatial...] (optional, XNOR-Net's activation scale K, see
 *       {@code ActivationScale}). Y = Conv(X, W) * scale + bias. Attributes: Conv's
 *       ({@code group, kernel_shape, strides, pads, dilations, auto_pad}) and {@code method}
 *       (a string saying how the layer was made: bwn, xnor, bireal, cbd; informational).</dd>
 *
 *   <dt>{@code BinaryMatMul(X, B, alpha[, bias]) -> Y}</dt>
 *   <dd>A fully connected layer: X float [..., IN]; B BIT [K, OUT, IN]; alpha [K, OUT]; bias
 *       [OUT] (optional). {@code Y[..., o] = sum_i X[..., i] * W[o][i] + bias[o]}. Attribute
 *       {@code method} as for BinaryConv.</dd>
 *
 *   <dt>{@code ActivationScale(X) -> K}</dt>
 *   <dd>XNOR-Net's input scale for the conv that follows: A = mean over channels of |X|
 *       ([N, 1, spatial...]), then K = A box-filtered over the conv's window: the mean of the
 *       kernel-size window at every output position, with the conv's strides, pads and
 *       dilations, padded taps counting as 0 (count_include_pad). Attributes:
 *       {@code kernel_shape, strides, pads, dilations, auto_pad}, copied from the conv.</dd>
 * </dl>
 *
 * <h2>Kernels</h2>
 * The <em>reference kernels</em> here compute BinaryConv and BinaryMatMul as one float Conv or
 * product per plane with the ±1 weight {@code B[k]}, then the output step
 * {@code y = alpha[0][o] * dot_0 (+ alpha[k][o] * dot_k ...) (* scale) + bias}, each operation
 * rounded to float in that order ({@code outputStep}); they define the results. When a layer's
 * input X is ±1 (every element exactly -1f or +1f, as after {@code Binarize}, also through a
 * MaxPool or a reshape), the <em>XNOR kernels</em> {@link BinaryConvolution} and
 * {@link BinaryDense} compute the same thing on bit-packed words: per plane the integer dot
 * product {@code valid - 2 * popcount(x XOR b)} (padded taps counting 0), then the same output
 * step. A dot product of ±1 values is an integer, exact in float however it is summed, so the
 * two give the same bits, and a binary network computes the same signs layer after layer
 * whichever kernels run: a difference in the last bit would flip a sign now and then and
 * change a prediction. With real-valued inputs and several planes (CBD) the standard registry
 * folds the planes into one product with the effective weight {@code sum_k alpha[k] B[k]}:
 * one product instead of K, equal to the reference up to float rounding. A BinaryMatMul with
 * real-valued rows (BWN, and CBD at a row or two) runs on {@link BwnDense}, a table-lookup
 * product on the packed weight, equal to the reference up to float rounding as well.
 *
 * <p>Whether X is ±1 is decided by the data at run time, not by the graph: the XNOR kernel
 * verifies every element while it packs the bits (one compare each, fused with the packing)
 * and hands the run back to the reference kernel when one is not ±1 (a BWN or CBD layer with
 * real-valued inputs is rejected after its first few values). So there is no attribute to
 * keep in sync with the graph, a graph means the same whichever kernel runs, and any producer
 * of ±1 values (Binarize, a MaxPool or Reshape of it, a graph input) gets the fast path.
 *
 * <p>The system property {@code onebit.kernels=reference} makes the standard registry use the
 * reference kernels only; {@link OpRegistry#reference()} gives such a registry in any JVM, for
 * comparing the two on whole graphs.
 */
public final class BinaryOps {
    private BinaryOps() {
    }

    /** Registers the operators; {@code xnor} false leaves the binary layers on their reference kernels. */
    static void register(OpRegistry r, boolean xnor) {
        int v = OpRegistry.ONEBIT_OPSET;
        r.register(OpRegistry.ONEBIT_DOMAIN, "Binarize", v, v, ctx -> xnor ? packingBinarize(ctx) : binarize(ctx));
        r.register(OpRegistry.ONEBIT_DOMAIN, "BinaryConv", v, v, ctx -> BinaryConvOp.create(ctx, xnor));
        r.register(OpRegistry.ONEBIT_DOMAIN, "BinaryMatMul", v, v, ctx -> BinaryMatMulOp.create(ctx, xnor));
        r.register(OpRegistry.ONEBIT_DOMAIN, "ActivationScale", v, v, BinaryOps::activationScale);
    }

    /** True for a binary layer: a BinaryConv or BinaryMatMul node of onebit's domain. */
    public static boolean isBinaryLayer(Node n) {
        return n.domain().equals(OpRegistry.ONEBIT_DOMAIN)
                && (n.opType().equals("BinaryConv") || n.opType().equals("BinaryMatMul"));
    }

    /**
     * True for a binary layer's packed weight B (input 1): it must be a constant, and the
     * layer's kernels take it from the node's constants when they are made, never as a value
     * at run time (so an executor need not unpack it to floats).
     */
    public static boolean isWeightInput(Node n, int input) {
        return input == 1 && isBinaryLayer(n);
    }

    /**
     * The effective real weight {@code W[o][j] = sum_k alpha[k][o] * B[k][o][j]} of a binary
     * layer, shaped as B without its leading plane axis.
     *
     * @throws IllegalArgumentException if B is not BIT or alpha does not fit it
     */
    public static float[] effectiveWeight(Tensor b, float[] alpha) {
        if (b.type() != DataType.BIT) {
            throw new IllegalArgumentException("B must be a BIT tensor, got " + b.type());
        }
        int[] s = b.shape();
        if (s.length < 3) {
            throw new IllegalArgumentException("B must have rank >= 3 ([planes, outputs, ...]), has shape "
                    + Arrays.toString(s));
        }
        int planes = s[0];
        int outputs = s[1];
        if (alpha.length != planes * outputs) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " values, B " + Arrays.toString(s)
                    + " needs " + planes + " x " + outputs);
        }
        int per = b.size() / Math.max(1, planes * outputs);
        float[] w = new float[outputs * per];
        for (int k = 0; k < planes; k++) {
            for (int o = 0; o < outputs; o++) {
                float a = alpha[k * outputs + o];
                int base = (k * outputs + o) * per;
                for (int j = 0; j < per; j++) {
                    w[o * per + j] += b.isNegativeBit(base + j) ? -a : a;
                }
            }
        }
        return w;
    }

    /**
     * Plane {@code k} of B as -1f/+1f floats, shaped as B without its plane axis: what the
     * reference kernels multiply the input with before scaling by alpha.
     */
    public static float[] planeWeight(Tensor b, int k) {
        int[] s = b.shape();
        int per = b.size() / s[0];
        float[] w = new float[per];
        for (int j = 0; j < per; j++) {
            w[j] = b.isNegativeBit(k * per + j) ? -1f : 1f;
        }
        return w;
    }

    /**
     * The output step every kernel of a binary layer shares, in this order of float operations:
     * {@code y = alpha[0][o] * dot_0}, then {@code y += alpha[k][o] * dot_k} for each further
     * plane, then {@code y * scale} (when there is a scale), then {@code + bias}. For ±1 inputs
     * the per-plane dot products are integers, exact in float whichever kernel sums them, so
     * the reference and the XNOR kernels give the same bits.
     *
     * @param dots per plane, {@code [N, M, positions]}; overwritten by plane 0's result
     * @param scale {@code [N, positions]}, or null
     * @param bias {@code [M]}, or null
     */
    static float[] outputStep(float[][] dots, float[] alpha, int n, int m, int positions, float[] scale, float[] bias) {
        float[] y = dots[0];
        if (dots.length == 1 && scale == null) {
            // The common case as a loop the JIT vectorizes (same operations: multiply, then add).
            for (int i = 0; i < n; i++) {
                for (int o = 0; o < m; o++) {
                    int base = (i * m + o) * positions;
                    float a = alpha[o];
                    float add = bias == null ? 0f : bias[o];
                    for (int p = 0; p < positions; p++) {
                        y[base + p] = a * y[base + p] + add;
                    }
                }
            }
            return y;
        }
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < m; o++) {
                int base = (i * m + o) * positions;
                float add = bias == null ? 0f : bias[o];
                for (int p = 0; p < positions; p++) {
                    float v = alpha[o] * y[base + p];
                    for (int k = 1; k < dots.length; k++) {
                        v += alpha[k * m + o] * dots[k][base + p];
                    }
                    if (scale != null) {
                        v *= scale[i * positions + p];
                    }
                    y[base + p] = v + add;
                }
            }
        }
        return y;
    }

    /**
     * A binary layer's bias (input 3): its values, or null without one.
     *
     * @throws dev.onebit.ir.ModelException if it is not a constant of {@code outputs} values
     */
    static float[] bias(NodeContext ctx, int outputs) {
        if (!ctx.node().hasInput(3)) {
            return null;
        }
        Tensor t = ctx.constant(3);
        if (t == null) {
            throw ctx.error("bias must be a constant tensor");
        }
        float[] bias = t.toFloatArray();
        if (bias.length != outputs) {
            throw ctx.error("bias has " + bias.length + " values, expected " + outputs);
        }
        return bias;
    }

    /** B's shape without the plane axis: the shape of the effective weight. */
    public static int[] weightShape(Tensor b) {
        int[] s = b.shape();
        return Arrays.copyOfRange(s, 1, s.length);
    }

    private static Kernel binarize(NodeContext ctx) {
        return inputs -> {
            Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
            float[] y = Buffers.floats(x.size());
            Kernels.binaryGemm().signs(x.floats, 0, y, 0, y.length);
            return new Value[] {Value.ofFloats(x.shape, y)};
        };
    }

    /**
     * Binarize that can leave its result packed ({@link dev.onebit.runtime.SignKernel}): the
     * signs of a float input are packed directly, and packed input is already its own sign.
     */
    private static Kernel packingBinarize(NodeContext ctx) {
        Kernel floats = binarize(ctx);
        return new SignKernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = inputs[0];
                return x != null && x.signs != null ? new Value[] {x.unpacked()} : floats.run(inputs);
            }

            @Override
            public Value[] runSigns(Value[] inputs) {
                Value x = inputs[0];
                if (x != null && x.signs != null) {
                    return new Value[] {x};
                }
                x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                if (x.rank() < 2 || x.shape[0] == 0) {
                    return floats.run(inputs);
                }
                return new Value[] {Value.ofSigns(x.shape, PackedSigns.pack(x.floats, x.shape, Kernels.binaryGemm()))};
            }
        };
    }

    /** B and alpha must be constants: they are the layer's weights. */
    static float[] weight(NodeContext ctx, Tensor b) {
        checkWeight(ctx, b);
        return effectiveWeight(b, ctx.constant(2).toFloatArray());
    }

    /** Fails as {@link #weight} would, without computing the effective weight. */
    static void checkWeight(NodeContext ctx, Tensor b) {
        Tensor alpha = ctx.constant(2);
        if (b == null || alpha == null) {
            throw ctx.error("B and alpha must be constant tensors");
        }
        if (b.type() != DataType.BIT) {
            throw ctx.error("B must be a BIT tensor, got " + b.type());
        }
        int[] s = b.shape();
        if (s.length < 3) {
            throw ctx.error("B must have rank >= 3 ([planes, outputs, ...]), has shape " + Arrays.toString(s));
        }
        if (alpha.size() != s[0] * s[1]) {
            throw ctx.error("alpha has " + alpha.size() + " values, B " + Arrays.toString(s) + " needs " + s[0] + " x "
                    + s[1]);
        }
    }

    /**
     * A supplier computing its value once, on first use, for any number of threads: the float
     * fallbacks of the binary layers, which hold the weight as floats (32 times its bits) and
     * which a layer fed ±1 values (or a BWN dense layer) never needs.
     */
    static <T> Supplier<T> memoize(Supplier<T> compute) {
        return new Supplier<>() {
            private volatile T value;

            @Override
            public T get() {
                T v = value;
                if (v == null) {
                    synchronized (this) {
                        v = value;
                        if (v == null) {
                            v = compute.get();
                            value = v;
                        }
                    }
                }
                return v;
            }
        };
    }

    /** The kernel without its packed-signs side, for the reference registry. */
    static Kernel plain(Kernel k) {
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                return k.run(inputs);
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                return k.inferShapes(inputs);
            }
        };
    }

    private static Kernel activationScale(NodeContext ctx) {
        Node node = ctx.node();
        int[] kernel = FloatArgs.intsOrNull(ctx, "kernel_shape");
        if (kernel == null) {
            throw ctx.error("kernel_shape is required");
        }
        return new ScaleKernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                ConvGeometry g = geometry(x.shape);
                return new Value[] {Value.ofFloats(shape(x.shape, g), ActivationScales.of(x.floats, x.shape, g))};
            }

            @Override
            public Value fromChannelSums(float[] sums, int[] xShape) {
                if (xShape.length < 3) {
                    throw ctx.error("X must have rank >= 3, has shape " + Arrays.toString(xShape));
                }
                ConvGeometry g = geometry(xShape);
                return Value.ofFloats(shape(xShape, g), ActivationScales.fromSums(sums, xShape[0], xShape[1], g));
            }

            private ConvGeometry geometry(int[] xShape) {
                try {
                    return ConvGeometry.of(Arrays.copyOfRange(xShape, 2, xShape.length), kernel,
                            node.attrInts("strides", null), node.attrInts("dilations", null),
                            node.attrInts("pads", null), node.attrString("auto_pad", "NOTSET"), false);
                } catch (IllegalArgumentException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            private static int[] shape(int[] xShape, ConvGeometry g) {
                int[] kShape = xShape.clone();
                kShape[1] = 1;
                System.arraycopy(g.out, 0, kShape, 2, g.rank());
                return kShape;
            }
        };
    }
}
