package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Convolution;
import dev.onebit.runtime.kernels.Kernels;

/** Conv (float32, NCHW, 1 to 3 spatial axes; grouped and depthwise included). */
final class ConvOps {
    private ConvOps() {
    }

    static void register(OpRegistry r) {
        r.register("Conv", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, ConvOps::conv);
    }

    private static Kernel conv(NodeContext ctx) {
        Node node = ctx.node();
        long group = node.attrInt("group", 1);
        if (group < 1 || group > Integer.MAX_VALUE) {
            throw ctx.error("group " + group + " is out of range");
        }
        Convolution.Params params = new Convolution.Params((int) group, FloatArgs.intsOrNull(ctx, "kernel_shape"),
                node.attrInts("strides", null), node.attrInts("dilations", null), node.attrInts("pads", null),
                node.attrString("auto_pad", "NOTSET"));
        Tensor w = ctx.constant(1);
        Tensor b = node.hasInput(2) ? ctx.constant(2) : null;
        Convolution conv;
        try {
            if (w != null && !w.type().isFloatingPoint()) {
                throw new IllegalArgumentException("weight must be float, got " + w.type());
            }
            conv = new Convolution(Kernels.floatGemm(), params, w == null ? null : w.toFloatArray(),
                    w == null ? null : w.shape(), w == null || b == null ? null : b.toFloatArray());
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw ctx.error(e.getMessage());
        }
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = input(ctx, inputs);
                Value wv = FloatArgs.floatInput(ctx, inputs, 1, "W");
                Value bv = FloatArgs.optionalFloat(ctx, inputs, 2, "B");
                try {
                    int[] shape = conv.outputShape(x.shape, wv.shape);
                    float[] y = conv.run(x.floats, x.shape, wv.floats, wv.shape, bv == null ? null : bv.floats);
                    return new Value[] {Value.ofFloats(shape, y)};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value x = input(ctx, inputs);
                Value wv = FloatArgs.floatInput(ctx, inputs, 1, "W");
                try {
                    return new Value[] {Value.shapeOnly(conv.outputShape(x.shape, wv.shape))};
                } catch (IllegalArgumentException | ArithmeticException e) {
                    throw ctx.error(e.getMessage());
                }
            }
        };
    }

    private static Value input(NodeContext ctx, Value[] inputs) {
        Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
        FloatArgs.requireRank(ctx, x, 3, "X");
        return x;
    }
}
