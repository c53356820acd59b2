package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Node;
import dev.onebit.runtime.Buffers;
import dev.onebit.runtime.KernelFactory;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.Arrays;
import java.util.function.LongUnaryOperator;

import static dev.onebit.runtime.OpRegistry.MAX_OPSET;
import static dev.onebit.runtime.OpRegistry.MIN_OPSET;

/**
 * Element-wise operators: arithmetic with broadcasting, activations, Clip, Identity, Dropout
 * (inference form) and Cast.
 */
final class ElementwiseOps {
    private ElementwiseOps() {
    }

    /**
     * A float activation applied to a whole array; one call per tensor keeps the element loop
     * monomorphic. It must write every element of y (which comes from {@link Buffers}, stale).
     */
    @FunctionalInterface
    interface FloatMap {
        void apply(float[] x, float[] y);
    }

    /** Adds this group's operators to {@code r}. */
    static void register(OpRegistry r) {
        r.register("Add", MIN_OPSET, MAX_OPSET, binary(Broadcast.ADD));
        r.register("Sub", MIN_OPSET, MAX_OPSET, binary(Broadcast.SUB));
        r.register("Mul", MIN_OPSET, MAX_OPSET, binary(Broadcast.MUL));
        r.register("Div", MIN_OPSET, MAX_OPSET, binary(Broadcast.DIV));
        r.register("PRelu", MIN_OPSET, MAX_OPSET, binary(Broadcast.PRELU));
        r.register("Relu", MIN_OPSET, MAX_OPSET, unary(ctx -> (x, y) -> {
            for (int i = 0; i < x.length; i++) {
                y[i] = Math.max(x[i], 0f);
            }
        }, v -> Math.max(v, 0)));
        r.register("LeakyRelu", MIN_OPSET, MAX_OPSET, unary(ctx -> {
            float alpha = ctx.node().attrFloat("alpha", 0.01f);
            return (x, y) -> {
                for (int i = 0; i < x.length; i++) {
                    y[i] = x[i] < 0 ? alpha * x[i] : x[i];
                }
            };
        }, null));
        r.register("Sigmoid", MIN_OPSET, MAX_OPSET, unary(ctx -> (x, y) -> {
            for (int i = 0; i < x.length; i++) {
                y[i] = (float) (1 / (1 + Math.exp(-x[i])));
            }
        }, null));
        r.register("Tanh", MIN_OPSET, MAX_OPSET, unary(ctx -> (x, y) -> {
            for (int i = 0; i < x.length; i++) {
                y[i] = (float) Math.tanh(x[i]);
            }
        }, null));
        r.register("Sign", 9, MAX_OPSET, unary(ctx -> (x, y) -> {
            for (int i = 0; i < x.length; i++) {
                y[i] = Math.signum(x[i]);
            }
        }, Long::signum));
        r.register("HardSigmoid", MIN_OPSET, MAX_OPSET, unary(ctx -> {
            float alpha = ctx.node().attrFloat("alpha", 0.2f);
            float beta = ctx.node().attrFloat("beta", 0.5f);
            return (x, y) -> {
                for (int i = 0; i < x.length; i++) {
                    y[i] = Math.max(0f, Math.min(1f, alpha * x[i] + beta));
                }
            };
        }, null));
        r.register("Identity", MIN_OPSET, MAX_OPSET, ctx -> (OpUtil.ShapeAware) in -> new Value[] {in[0]});
        r.register("Clip", MIN_OPSET, 10, ElementwiseOps::clipAttributes);
        r.register("Clip", 11, MAX_OPSET, ElementwiseOps::clipInputs);
        r.register("Dropout", MIN_OPSET, 11, ctx -> dropout(ctx, false));
        r.register("Dropout", 12, MAX_OPSET, ctx -> dropout(ctx, true));
        r.register("Cast", MIN_OPSET, MAX_OPSET, ElementwiseOps::cast);
    }

    /** A broadcasting binary operator on two tensors of one type; PRelu only broadcasts its slope. */
    private static KernelFactory binary(int op) {
        return ctx -> {
            Node node = ctx.node();
            return (OpUtil.ShapeAware) in -> {
                Value a = in[0];
                Value b = in[1];
                if (a == null || b == null) {
                    throw OpUtil.error(node, "needs two inputs");
                }
                if (a.isFloat() != b.isFloat() || (!a.isFloat() && a.type != b.type)) {
                    throw OpUtil.error(node, "input types differ: " + a.type + " and " + b.type);
                }
                int[] out;
                try {
                    out = Broadcast.shape(a.shape, b.shape);
                } catch (IllegalArgumentException e) {
                    throw OpUtil.error(node, e.getMessage());
                }
                if (op == Broadcast.PRELU && !Arrays.equals(out, a.shape)) {
                    throw OpUtil.error(node, "slope " + Arrays.toString(b.shape) + " does not broadcast to X "
                            + Arrays.toString(a.shape));
                }
                if (!a.isFloat()) {
                    return new Value[] {Value.ofLongs(a.type, out,
                            Broadcast.longs(op, a.type, a.longs, a.shape, b.longs, b.shape, out))};
                }
                if (!a.hasData() || !b.hasData()) {
                    return new Value[] {Value.shapeOnly(out)};
                }
                return new Value[] {Value.ofFloats(out, Broadcast.floats(op, a.floats, a.shape, b.floats, b.shape, out))};
            };
        };
    }

    /** Makes the float map of a node; runs at kernel creation so attributes are checked then. */
    @FunctionalInterface
    private interface MapFactory {
        FloatMap create(NodeContext ctx);
    }

    /**
     * A one-input element-wise operator.
     *
     * @param ints the operator on integer elements, or null when only floats are supported
     */
    private static KernelFactory unary(MapFactory floats, LongUnaryOperator ints) {
        return ctx -> {
            Node node = ctx.node();
            FloatMap f = floats.create(ctx);
            return (OpUtil.ShapeAware) in -> {
                Value x = in[0];
                if (!x.isFloat()) {
                    if (ints == null) {
                        throw OpUtil.error(node, "does not support " + x.type + " input");
                    }
                    long[] y = new long[x.longs.length];
                    for (int i = 0; i < y.length; i++) {
                        y[i] = OpUtil.narrow(x.type, ints.applyAsLong(x.longs[i]));
                    }
                    return new Value[] {Value.ofLongs(x.type, x.shape, y)};
                }
                if (!x.hasData()) {
                    return new Value[] {Value.shapeOnly(x.shape)};
                }
                float[] y = Buffers.floats(x.floats.length);
                f.apply(x.floats, y);
                return new Value[] {Value.ofFloats(x.shape, y)};
            };
        };
    }

    /**
     * Clip before opset 11: bounds are attributes. Their defaults are the largest finite floats,
     * as Clip-6 specifies, so infinities are clamped to them; from opset 11 an omitted bound
     * means no bound at all.
     */
    private static OpUtil.ShapeAware clipAttributes(NodeContext ctx) {
        float min = ctx.node().attrFloat("min", -Float.MAX_VALUE);
        float max = ctx.node().attrFloat("max", Float.MAX_VALUE);
        return in -> new Value[] {clip(in[0], min, max, (long) Math.ceil(min), (long) Math.floor(max))};
    }

    /** Clip from opset 11: bounds are optional scalar inputs, "" when omitted. */
    private static OpUtil.ShapeAware clipInputs(NodeContext ctx) {
        Node node = ctx.node();
        return in -> {
            Value x = in[0];
            if (x.isFloat() && !x.hasData()) {
                return new Value[] {Value.shapeOnly(x.shape)};
            }
            Value lo = in.length > 1 ? in[1] : null;
            Value hi = in.length > 2 ? in[2] : null;
            for (Value bound : new Value[] {lo, hi}) {
                if (bound != null && (bound.size() != 1 || bound.isFloat() != x.isFloat() || !bound.hasData())) {
                    throw OpUtil.error(node, "min and max must be scalars of the input's type, got " + bound);
                }
            }
            float min = lo == null ? Float.NEGATIVE_INFINITY : (float) lo.get(0);
            float max = hi == null ? Float.POSITIVE_INFINITY : (float) hi.get(0);
            long lmin = lo == null || lo.isFloat() ? Long.MIN_VALUE : lo.longs[0];
            long lmax = hi == null || hi.isFloat() ? Long.MAX_VALUE : hi.longs[0];
            return new Value[] {clip(x, min, max, lmin, lmax)};
        };
    }

    private static Value clip(Value x, float min, float max, long lmin, long lmax) {
        if (!x.isFloat()) {
            long[] y = new long[x.longs.length];
            for (int i = 0; i < y.length; i++) {
                y[i] = Math.min(Math.max(x.longs[i], lmin), lmax);
            }
            return Value.ofLongs(x.type, x.shape, y);
        }
        if (!x.hasData()) {
            return Value.shapeOnly(x.shape);
        }
        float[] s = x.floats;
        float[] y = new float[s.length];
        for (int i = 0; i < y.length; i++) {
            // min then max, as ONNX defines it: with min > max every element becomes max.
            y[i] = Math.min(Math.max(s[i], min), max);
        }
        return Value.ofFloats(x.shape, y);
    }

    /**
     * Dropout at inference: the output is the input and the optional mask keeps everything.
     * From opset 12 training mode may be requested by an input; it is honoured only when it
     * changes nothing (ratio 0), since onebit does not generate random masks.
     */
    private static OpUtil.ShapeAware dropout(NodeContext ctx, boolean inputs) {
        Node node = ctx.node();
        boolean wantMask = node.outputs().size() > 1 && !node.output(1).isEmpty();
        // Dropout-7..9 typed the mask like the data; from 10 it is bool.
        boolean boolMask = ctx.opset() >= 10;
        return in -> {
            if (inputs && in.length > 2 && in[2] != null && in[2].get(0) != 0) {
                double ratio = in.length > 1 && in[1] != null ? in[1].get(0) : 0.5;
                if (ratio != 0) {
                    throw OpUtil.error(node, "training mode with ratio " + ratio + " is not supported");
                }
            }
            Value x = in[0];
            if (!wantMask) {
                return new Value[] {x};
            }
            Value mask;
            if (boolMask) {
                long[] ones = new long[x.size()];
                Arrays.fill(ones, 1);
                mask = Value.ofLongs(DataType.BOOL, x.shape, ones);
            } else {
                float[] ones = new float[x.size()];
                Arrays.fill(ones, 1f);
                mask = Value.ofFloats(x.shape, ones);
            }
            return new Value[] {x, mask};
        };
    }

    /** Cast between float and the integer/bool types onebit represents; DOUBLE is carried as float. */
    private static OpUtil.ShapeAware cast(NodeContext ctx) {
        Node node = ctx.node();
        if (node.attr("to") == null) {
            throw ctx.error("attribute 'to' is missing");
        }
        DataType to;
        try {
            to = DataType.fromOnnx((int) node.attrInt("to", 0));
        } catch (IllegalArgumentException e) {
            throw ctx.error("cannot cast to " + e.getMessage().replace("unsupported tensor element ", ""));
        }
        return in -> {
            Value x = in[0];
            if (to.isFloatingPoint()) {
                if (x.isFloat()) {
                    return new Value[] {x};
                }
                float[] y = new float[x.longs.length];
                for (int i = 0; i < y.length; i++) {
                    y[i] = x.longs[i];
                }
                return new Value[] {Value.ofFloats(x.shape, y)};
            }
            long[] y = new long[x.size()];
            if (x.isFloat()) {
                if (!x.hasData()) {
                    // Integers always carry data during shape inference; the values are unknowable.
                    return new Value[] {Value.ofLongs(to, x.shape, y)};
                }
                for (int i = 0; i < y.length; i++) {
                    float f = x.floats[i];
                    y[i] = to == DataType.BOOL ? (f != 0 ? 1 : 0) : OpUtil.narrow(to, (long) f);
                }
            } else {
                for (int i = 0; i < y.length; i++) {
                    y[i] = OpUtil.narrow(to, x.longs[i]);
                }
            }
            return new Value[] {Value.ofLongs(to, x.shape, y)};
        };
    }
}
