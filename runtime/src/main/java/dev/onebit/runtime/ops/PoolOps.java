package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Node;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.PoolWindow;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ConvGeometry;
import dev.onebit.runtime.kernels.Pooling;
import dev.onebit.runtime.kernels.ReferencePool;

import java.util.Arrays;

/** MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool on float NCHW data (MaxPool also on 8-bit integers). */
final class PoolOps {
    private PoolOps() {
    }

    static void register(OpRegistry r) {
        r.register("MaxPool", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, ctx -> pool(ctx, true));
        r.register("AveragePool", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, ctx -> pool(ctx, false));
        r.register("GlobalAveragePool", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, ctx -> global(ctx, true));
        r.register("GlobalMaxPool", OpRegistry.MIN_OPSET, OpRegistry.MAX_OPSET, ctx -> global(ctx, false));
    }

    private static Kernel pool(NodeContext ctx, boolean max) {
        Node node = ctx.node();
        int[] kernel = FloatArgs.intsOrNull(ctx, "kernel_shape");
        if (kernel == null) {
            throw ctx.error("kernel_shape is required");
        }
        long[] strides = node.attrInts("strides", null);
        long[] pads = node.attrInts("pads", null);
        // Before opset 10 (MaxPool) / 19 (AveragePool) the attribute did not exist: windows are dense.
        long[] dilations = node.attrInts("dilations", null);
        String autoPad = node.attrString("auto_pad", "NOTSET");
        boolean ceil = node.attrInt("ceil_mode", 0) != 0;
        boolean includePad = node.attrInt("count_include_pad", 0) != 0;
        boolean columnMajor = node.attrInt("storage_order", 0) != 0;
        boolean wantIndices = max && node.outputs().size() > 1 && !node.output(1).isEmpty();
        return new PoolWindow() {
            @Override
            public ConvGeometry window(int[] inputShape) {
                return geometry(Value.shapeOnly(inputShape));
            }

            private ConvGeometry geometry(Value x) {
                FloatArgs.requireRank(ctx, x, 3, "X");
                try {
                    return ConvGeometry.of(Arrays.copyOfRange(x.shape, 2, x.rank()), kernel, strides, dilations,
                            pads, autoPad, ceil);
                } catch (IllegalArgumentException e) {
                    throw ctx.error(e.getMessage());
                }
            }

            @Override
            public Value[] run(Value[] inputs) {
                Value x = inputs.length > 0 ? inputs[0] : null;
                if (max && x != null && (x.type == DataType.INT8 || x.type == DataType.UINT8)) {
                    return maxPoolBytes(x);
                }
                x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                ConvGeometry g = geometry(x);
                int[] shape = Pooling.outputShape(x.shape, g);
                long[] indices = wantIndices ? new long[Value.count(shape)] : null;
                float[] y;
                if (g.rank() > 3) {
                    y = ReferencePool.pool(x.floats, x.shape, g, max, includePad, indices);
                    if (indices != null && columnMajor) {
                        throw ctx.error("storage_order 1 is supported for up to 3 spatial axes");
                    }
                } else if (max) {
                    y = Pooling.maxPool(x.floats, x.shape, g, indices, columnMajor);
                } else {
                    y = Pooling.averagePool(x.floats, x.shape, g, includePad);
                }
                Value out = Value.ofFloats(shape, y);
                return indices == null ? new Value[] {out} : new Value[] {out, Value.ofLongs(shape, indices)};
            }

            /** MaxPool on 8-bit integers (opset 12): every such value is exact in float. */
            private Value[] maxPoolBytes(Value x) {
                float[] f = new float[x.size()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = x.longs[i];
                }
                Value[] out = run(new Value[] {Value.ofFloats(x.shape, f)});
                long[] l = new long[out[0].size()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = (long) out[0].floats[i];
                }
                out[0] = Value.ofLongs(x.type, out[0].shape, l);
                return out;
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value x = inputs.length > 0 ? inputs[0] : null;
                if (max && x != null && (x.type == DataType.INT8 || x.type == DataType.UINT8)) {
                    return maxPoolBytes(x);
                }
                x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                int[] shape = Pooling.outputShape(x.shape, geometry(x));
                Value out = Value.shapeOnly(shape);
                return wantIndices ? new Value[] {out, Value.ofLongs(shape, new long[Value.count(shape)])} : new Value[] {out};
            }
        };
    }

    private static Kernel global(NodeContext ctx, boolean avg) {
        return new Kernel() {
            @Override
            public Value[] run(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                return new Value[] {Value.ofFloats(shape(x), Pooling.global(x.floats, x.shape, avg))};
            }

            @Override
            public Value[] inferShapes(Value[] inputs) {
                Value x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                FloatArgs.requireRank(ctx, x, 3, "X");
                return new Value[] {Value.shapeOnly(shape(x))};
            }
        };
    }

    private static int[] shape(Value x) {
        int[] s = x.shape.clone();
        Arrays.fill(s, 2, s.length, 1);
        return s;
    }
}
