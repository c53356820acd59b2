package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Convolution;
import dev.onebit.runtime.kernels.ConvGeometry;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.ReferencePool;

import java.util.Arrays;

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
 */
public final class BinaryOps {
    private BinaryOps() {
    }

    static void register(OpRegistry r) {
        int v = OpRegistry.ONEBIT_OPSET;
        r.register(OpRegistry.ONEBIT_DOMAIN, "Binarize", v, v, BinaryOps::binarize);
        r.register(OpRegistry.ONEBIT_DOMAIN, "BinaryConv", v, v, BinaryOps::binaryConv);
        r.register(OpRegistry.ONEBIT_DOMAIN, "BinaryMatMul", v, v, BinaryOps::binaryMatMul);
        r.register(OpRegistry.ONEBIT_DOMAIN, "ActivationScale", v, v, BinaryOps::activationScale);
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

    /** B's shape without the plane axis: the shape of the effective weight. */
    public static int[] weightShape(Tensor b) {
        int[] s = b.shape();
        return Arrays.copyOfRange(s, 1, s.length);
    }

    private static Kernel binarize(NodeContext ctx) {
        return inputs -> {
            Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
            float[] y = new float[x.size()];
            for (int i = 0; i < y.length; i++) {
                y[i] = x.floats[i] < 0 ? -1f : 1f;
            }
            return new Value[] {Value.ofFloats(x.shape, y)};
        };
    }

    /** B and alpha must be constants: they are the layer's weights. */
    private static float[] weight(NodeContext ctx, Tensor b) {
        Tensor alpha = ctx.constant(2);
        if (b == null || alpha == null) {
            throw ctx.error("B and alpha must be constant tensors");
        }
        try {
            return effectiveWeight(b, alpha.toFloatArray());
        } catch (IllegalArgumentException e) {
            throw ctx.error(e.getMessage());
        }
    }

    private static Kernel binaryConv(NodeContext ctx) {
        Node node = ctx.node();
        Tensor b = ctx.constant(1);
        float[] w = weight(ctx, b);
        int[] wShape = weightShape(b);
        Tensor bias = node.hasInput(3) ? ctx.constant(3) : null;
        if (node.hasInput(3) && bias == null) {
            throw ctx.error("bias must be a constant tensor");
        }
        Convolution.Params params = new Convolution.Params((int) node.attrInt("group", 1),
                FloatArgs.intsOrNull(ctx, "kernel_shape"), node.attrInts("strides", null),
                node.attrInts("dilations", null), node.attrInts("pads", null), node.attrString("auto_pad", "NOTSET"));
        Convolution conv;
        try {
            // No bias here: it is added after the optional per-position scale.
            conv = new Convolution(Kernels.floatGemm(), params, w, wShape, null);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw ctx.error(e.getMessage());
        }
        float[] biasValues = bias == null ? null : bias.toFloatArray();
        if (biasValues != null && biasValues.length != wShape[0]) {
            throw ctx.error("bias has " + biasValues.length + " values, expected " + wShape[0]);
        }
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                Value scale = FloatArgs.optionalFloat(ctx, inputs, 4, "scale");
                try {
                    int[] shape = conv.outputShape(x.shape, wShape);
                    float[] y = conv.run(x.floats, x.shape, null, null, null);
                    int m = shape[1];
                    int positions = y.length / Math.max(1, shape[0] * m);
                    if (scale != null && scale.size() != shape[0] * positions) {
                        throw ctx.error("scale has shape " + Arrays.toString(scale.shape) + ", expected ["
                                + shape[0] + ", 1, ...] with " + positions + " positions");
                    }
                    for (int n = 0; n < shape[0]; n++) {
                        for (int o = 0; o < m; o++) {
                            int base = (n * m + o) * positions;
                            float add = biasValues == null ? 0f : biasValues[o];
                            for (int p = 0; p < positions; p++) {
                                float v = y[base + p];
                                if (scale != null) {
                                    v *= scale.floats[n * positions + p];
                                }
                                y[base + p] = v + add;
                            }
                        }
                    }
                    return new Value[] {Value.ofFloats(shape, y)};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                try {
                    return new Value[] {Value.shapeOnly(conv.outputShape(x.shape, wShape))};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }
        };
    }

    private static Kernel binaryMatMul(NodeContext ctx) {
        Node node = ctx.node();
        Tensor b = ctx.constant(1);
        float[] w = weight(ctx, b);
        int[] wShape = weightShape(b);
        if (wShape.length != 2) {
            throw ctx.error("B must have shape [planes, OUT, IN], has " + Arrays.toString(b.shape()));
        }
        int out = wShape[0];
        int in = wShape[1];
        Tensor biasT = node.hasInput(3) ? ctx.constant(3) : null;
        if (node.hasInput(3) && biasT == null) {
            throw ctx.error("bias must be a constant tensor");
        }
        float[] bias = biasT == null ? null : biasT.toFloatArray();
        if (bias != null && bias.length != out) {
            throw ctx.error("bias has " + bias.length + " values, expected " + out);
        }
        var gemm = Kernels.floatGemm();
        // W is [OUT][IN] = B^T of X·B, packed once as the left operand.
        var packed = gemm.pack(w, 0, in, 1, out, in, 1f);
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                int[] shape = outShape(x);
                int rows = x.size() / Math.max(1, in);
                float[] y = new float[Math.multiplyExact(rows, out)];
                MatMulOps.product(gemm, rows, out, in, 1f, x.floats, 0, in, 1, null, 0, 0, 0, packed, bias, false, y, 0);
                return new Value[] {Value.ofFloats(shape, y)};
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                return new Value[] {Value.shapeOnly(outShape(FloatArgs.floatInput(ctx, inputs, 0, "X")))};
            }

            private int[] outShape(Value x) {
                if (x.rank() < 1 || x.shape[x.rank() - 1] != in) {
                    throw ctx.error("X has shape " + Arrays.toString(x.shape) + ", its last axis must be " + in);
                }
                int[] s = x.shape.clone();
                s[s.length - 1] = out;
                return s;
            }
        };
    }

    private static Kernel activationScale(NodeContext ctx) {
        Node node = ctx.node();
        int[] kernel = FloatArgs.intsOrNull(ctx, "kernel_shape");
        if (kernel == null) {
            throw ctx.error("kernel_shape is required");
        }
        return inputs -> {
            Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
            FloatArgs.requireRank(ctx, x, 3, "X");
            ConvGeometry g;
            try {
                g = ConvGeometry.of(Arrays.copyOfRange(x.shape, 2, x.rank()), kernel, node.attrInts("strides", null),
                        node.attrInts("dilations", null), node.attrInts("pads", null),
                        node.attrString("auto_pad", "NOTSET"), false);
            } catch (IllegalArgumentException e) {
                throw ctx.error(e.getMessage());
            }
            int n = x.shape[0];
            int c = x.shape[1];
            int plane = g.inCount();
            float[] a = new float[n * plane];
            for (int i = 0; i < n; i++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = (i * c + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        a[i * plane + p] += Math.abs(x.floats[base + p]);
                    }
                }
                for (int p = 0; p < plane; p++) {
                    a[i * plane + p] /= c;
                }
            }
            int[] aShape = x.shape.clone();
            aShape[1] = 1;
            float[] k = ReferencePool.pool(a, aShape, g, false, true, null);
            int[] kShape = aShape.clone();
            System.arraycopy(g.out, 0, kShape, 2, g.rank());
            return new Value[] {Value.ofFloats(kShape, k)};
        };
    }
}
