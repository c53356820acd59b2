package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.PackedSigns;
import dev.onebit.runtime.ResidualKernel;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.BinaryConvolution;
import dev.onebit.runtime.kernels.BwnConvolution;
import dev.onebit.runtime.kernels.Convolution;
import dev.onebit.runtime.kernels.Kernels;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The kernels of {@code BinaryConv} (semantics in {@link BinaryOps}): the XNOR convolution for
 * ±1 inputs, float or packed, with a packed-signs output for a Binarize reader; for real-valued
 * inputs one ±1 conv per plane and the output step (reference registry), or in the fast
 * registry the table-lookup conv ({@link BwnConvolution}) for one plane where it applies and
 * otherwise one conv with the effective weight.
 */
final class BinaryConvOp {
    private BinaryConvOp() {
    }

    /** The kernel of one BinaryConv node; {@code xnor} false gives the reference kernel. */
    static Kernel create(NodeContext ctx, boolean xnor) {
        Node node = ctx.node();
        Tensor b = ctx.constant(1);
        BinaryOps.checkWeight(ctx, b);
        int[] wShape = BinaryOps.weightShape(b);
        float[] alphaValues = ctx.constant(2).toFloatArray();
        int planes = b.shape()[0];
        Convolution.Params params = new Convolution.Params((int) node.attrInt("group", 1),
                FloatArgs.intsOrNull(ctx, "kernel_shape"), node.attrInts("strides", null),
                node.attrInts("dilations", null), node.attrInts("pads", null), node.attrString("auto_pad", "NOTSET"));
        float[] biasValues = BinaryOps.bias(ctx, wShape[0]);
        // The reference runs one ±1 conv per plane, then the output step (outputStep). For
        // real-valued inputs (BWN, CBD) the fast registry runs one conv with the effective weight
        // instead, its bias added in the GEMM's last pass (equal up to float rounding): K times
        // less work than K planes, and no separate pass over the output.
        boolean collapse = xnor;
        Convolution shapes = new Convolution(Kernels.floatGemm(), params, null, null, null);
        try {
            shapes.checkWeight(wShape);
        } catch (IllegalArgumentException e) {
            throw ctx.error(e.getMessage());
        }
        // Packed on first use (BinaryOps.memoize): a layer fed ±1 values never needs them. With
        // an activation scale (input 4, fixed per node) the bias comes after the scale, in the
        // output step; otherwise the GEMM adds it.
        boolean scaled = node.hasInput(4);
        Supplier<Convolution> effective = BinaryOps.memoize(() -> new Convolution(Kernels.floatGemm(), params,
                BinaryOps.effectiveWeight(b, alphaValues), wShape, scaled ? null : biasValues));
        float[] ones = new float[wShape[0]];
        Arrays.fill(ones, 1f);
        Supplier<Convolution[]> planeConvs = BinaryOps.memoize(() -> {
            Convolution[] p = new Convolution[planes];
            for (int k = 0; k < planes; k++) {
                p[k] = new Convolution(Kernels.floatGemm(), params, BinaryOps.planeWeight(b, k), wShape, null);
            }
            return p;
        });
        BinaryConvolution fast = null;
        if (xnor) {
            try {
                fast = new BinaryConvolution(Kernels.binaryGemm(), params, b, alphaValues);
            } catch (IllegalArgumentException | ArithmeticException e) {
                // Whatever the XNOR kernel cannot take, the reference kernel runs (or reports).
                fast = null;
            }
        }
        BinaryConvolution xnorConv = fast;
        // One plane (BWN) of stride 1 and one group, where it wins: the table-lookup conv on the
        // packed weight. K planes cost K lookups but one effective-weight GEMM, so CBD keeps the GEMM.
        Supplier<BwnConvolution> lookup = xnor && BwnConvolution.supports(params, b.shape())
                && BwnConvolution.beatsFloatGemm(b.shape())
                ? BinaryOps.memoize(() -> new BwnConvolution(params, b, alphaValues)) : null;
        Kernel kernel = new ResidualKernel() {
            @Override
            public Value runPlus(Value[] inputs, Value residual, boolean residualFirst) {
                Value x = inputs[0];
                Value scale = FloatArgs.optionalFloat(ctx, inputs, 4, "scale");
                if (xnorConv == null || x == null || residual == null || !residual.isFloat() || !residual.hasData()
                        || x.rank() < 3 || x.signs != null && !x.signs.isChannelLayoutOf(x.shape)
                        || x.signs == null && !x.isFloat()) {
                    return null;
                }
                try {
                    int[] shape = shapes.outputShape(x.shape, wShape);
                    if (!Arrays.equals(shape, residual.shape)) {
                        return null;
                    }
                    checkScale(scale, shape);
                    float[] y = xnorConv.runPlus(x.floats, x.signs, x.shape, scale == null ? null : scale.floats,
                            biasValues, residual.floats, residualFirst);
                    return y == null ? null : Value.ofFloats(shape, y);
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            @Override
            public Value[] runSigns(Value[] inputs) {
                Value x = inputs[0];
                Value scale = FloatArgs.optionalFloat(ctx, inputs, 4, "scale");
                if (xnorConv != null && scale == null && x != null && (x.signs == null || x.signs.isChannelLayoutOf(x.shape))) {
                    FloatArgs.requireRank(ctx, x, 3, "X");
                    try {
                        int[] shape = shapes.outputShape(x.shape, wShape);
                        PackedSigns s = xnorConv.runSigns(x.floats, x.signs, x.shape, biasValues);
                        if (s != null) {
                            return new Value[] {Value.ofSigns(shape, s)};
                        }
                    } catch (IllegalArgumentException | ArithmeticException e) {
                        throw ctx.error(e.getMessage());
                    }
                }
                // Floats are a valid answer (SignKernel): the Binarize reading them packs them.
                return run(inputs);
            }

            @Override
            public Value[] run(Value[] inputs) {
                Value x = inputs[0];
                if (x != null && x.signs != null) {
                    if (xnorConv != null && x.signs.isChannelLayoutOf(x.shape)) {
                        Value scale = FloatArgs.optionalFloat(ctx, inputs, 4, "scale");
                        FloatArgs.requireRank(ctx, x, 3, "X");
                        try {
                            int[] shape = shapes.outputShape(x.shape, wShape);
                            checkScale(scale, shape);
                            return new Value[] {Value.ofFloats(shape,
                                    xnorConv.run(x.signs, x.shape, scale == null ? null : scale.floats, biasValues))};
                        } catch (IllegalArgumentException | ArithmeticException e) {
                            throw ctx.error(e.getMessage());
                        }
                    }
                    inputs = inputs.clone();
                    inputs[0] = x.unpacked();
                }
                return runFloats(inputs);
            }

            private void checkScale(Value scale, int[] shape) {
                int positions = OpUtil.product(shape, 2, shape.length);
                if (scale != null && scale.size() != shape[0] * positions) {
                    throw ctx.error("scale has shape " + Arrays.toString(scale.shape) + ", expected ["
                            + shape[0] + ", 1, ...] with " + positions + " positions");
                }
            }

            private Value[] runFloats(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                Value scale = FloatArgs.optionalFloat(ctx, inputs, 4, "scale");
                try {
                    int[] shape = shapes.outputShape(x.shape, wShape);
                    int m = shape[1];
                    int positions = OpUtil.product(shape, 2, shape.length);
                    checkScale(scale, shape);
                    float[] sc = scale == null ? null : scale.floats;
                    if (xnorConv != null) {
                        float[] y = xnorConv.run(x.floats, x.shape, sc, biasValues);
                        if (y != null) {
                            return new Value[] {Value.ofFloats(shape, y)};
                        }
                    }
                    if (lookup != null && sc == null && x.rank() == 4) {
                        return new Value[] {Value.ofFloats(shape, lookup.get().run(x.floats, x.shape, biasValues))};
                    }
                    if (collapse && sc == null) {
                        return new Value[] {Value.ofFloats(shape, effective.get().run(x.floats, x.shape, null, null, null))};
                    }
                    if (collapse) {
                        return new Value[] {Value.ofFloats(shape, BinaryOps.outputStep(new float[][] {
                            effective.get().run(x.floats, x.shape, null, null, null)}, ones, shape[0], m, positions, sc,
                                biasValues))};
                    }
                    Convolution[] convs = planeConvs.get();
                    float[][] dots = new float[planes][];
                    for (int k = 0; k < planes; k++) {
                        dots[k] = convs[k].run(x.floats, x.shape, null, null, null);
                    }
                    return new Value[] {Value.ofFloats(shape,
                            BinaryOps.outputStep(dots, alphaValues, shape[0], m, positions, sc, biasValues))};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                try {
                    return new Value[] {Value.shapeOnly(shapes.outputShape(x.shape, wShape))};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }
        };
        return xnor ? kernel : BinaryOps.plain(kernel);
    }
}
