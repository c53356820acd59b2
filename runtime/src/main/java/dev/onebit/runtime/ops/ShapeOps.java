package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.Arrays;

import static dev.onebit.runtime.OpRegistry.MAX_OPSET;
import static dev.onebit.runtime.OpRegistry.MIN_OPSET;

/**
 * Operators that rearrange or describe tensors without arithmetic: reshaping, transposing,
 * joining, indexing, shape queries and constants. They work on any element type, and on
 * shape-only FLOAT values during shape inference. Pad and Slice live in {@link PadSlice}.
 */
final class ShapeOps {
    private ShapeOps() {
    }

    /** Adds this group's operators to {@code r}. */
    static void register(OpRegistry r) {
        r.register("Flatten", MIN_OPSET, MAX_OPSET, ShapeOps::flatten);
        r.register("Reshape", MIN_OPSET, 13, ctx -> reshape(ctx, false));
        r.register("Reshape", 14, MAX_OPSET, ctx -> reshape(ctx, ctx.node().attrInt("allowzero", 0) != 0));
        r.register("Transpose", MIN_OPSET, MAX_OPSET, ShapeOps::transpose);
        r.register("Squeeze", MIN_OPSET, 12, ctx -> squeeze(ctx, false));
        r.register("Squeeze", 13, MAX_OPSET, ctx -> squeeze(ctx, true));
        r.register("Unsqueeze", MIN_OPSET, 12, ctx -> unsqueeze(ctx, false));
        r.register("Unsqueeze", 13, MAX_OPSET, ctx -> unsqueeze(ctx, true));
        r.register("Concat", MIN_OPSET, MAX_OPSET, ShapeOps::concat);
        r.register("Shape", MIN_OPSET, MAX_OPSET, ShapeOps::shape);
        r.register("Gather", MIN_OPSET, MAX_OPSET, ShapeOps::gather);
        r.register("Constant", MIN_OPSET, MAX_OPSET, ShapeOps::constant);
        r.register("ConstantOfShape", 9, MAX_OPSET, ShapeOps::constantOfShape);
        r.register("Slice", MIN_OPSET, 9, PadSlice::sliceAttributes);
        r.register("Slice", 10, MAX_OPSET, PadSlice::sliceInputs);
        r.register("Pad", MIN_OPSET, 10, PadSlice::padAttributes);
        r.register("Pad", 11, MAX_OPSET, PadSlice::padInputs);
    }

    private static OpUtil.ShapeAware flatten(NodeContext ctx) {
        Node node = ctx.node();
        long axis = node.attrInt("axis", 1);
        return in -> {
            Value x = in[0];
            int r = x.rank();
            if (axis < -r || axis > r) {
                throw OpUtil.error(node, "axis " + axis + " is out of range for rank " + r);
            }
            int a = (int) (axis < 0 ? axis + r : axis);
            return new Value[] {OpUtil.reshaped(x, new int[] {OpUtil.product(x.shape, 0, a), OpUtil.product(x.shape, a, r)})};
        };
    }

    /** Reshape: 0 copies the input's dimension unless {@code allowZero}, -1 is inferred. */
    private static OpUtil.ShapeAware reshape(NodeContext ctx, boolean allowZero) {
        Node node = ctx.node();
        return in -> {
            Value x = in[0];
            long[] spec = OpUtil.longs(node, in.length > 1 ? in[1] : null, "shape");
            int[] out = new int[spec.length];
            int inferred = -1;
            long known = 1;
            for (int i = 0; i < spec.length; i++) {
                long v = spec[i];
                if (v == -1) {
                    if (inferred >= 0) {
                        throw OpUtil.error(node, "shape " + Arrays.toString(spec) + " has more than one -1");
                    }
                    inferred = i;
                    continue;
                }
                if (v == 0 && !allowZero) {
                    if (i >= x.rank()) {
                        throw OpUtil.error(node, "shape " + Arrays.toString(spec) + " copies dimension " + i
                                + " of a rank " + x.rank() + " input");
                    }
                    out[i] = x.shape[i];
                } else {
                    out[i] = OpUtil.dim(node, v);
                }
                known *= out[i];
            }
            if (inferred >= 0) {
                if (known == 0 || x.size() % known != 0) {
                    throw OpUtil.error(node, "cannot reshape " + Arrays.toString(x.shape) + " to " + Arrays.toString(spec));
                }
                out[inferred] = (int) (x.size() / known);
            }
            if (Value.count(out) != x.size()) {
                throw OpUtil.error(node, "cannot reshape " + Arrays.toString(x.shape) + " to " + Arrays.toString(spec));
            }
            return new Value[] {OpUtil.reshaped(x, out)};
        };
    }

    private static OpUtil.ShapeAware transpose(NodeContext ctx) {
        Node node = ctx.node();
        long[] perm = node.attrInts("perm", null);
        if (perm != null) {
            OpUtil.axes(node, perm, perm.length);
        }
        return in -> {
            Value x = in[0];
            int r = x.rank();
            if (perm != null && perm.length != r) {
                throw OpUtil.error(node, "perm " + Arrays.toString(perm) + " does not fit rank " + r);
            }
            int[] stride = IndexCopy.strides(x.shape);
            int[] out = new int[r];
            long[][] tables = new long[r][];
            for (int d = 0; d < r; d++) {
                int from = perm == null ? r - 1 - d : (int) perm[d];
                out[d] = x.shape[from];
                tables[d] = IndexCopy.linear(out[d], 0, 1, stride[from]);
            }
            return new Value[] {IndexCopy.copy(x, out, tables, 0)};
        };
    }

    /** Squeeze; axes come from an attribute before opset 13 and from an optional input after. */
    private static OpUtil.ShapeAware squeeze(NodeContext ctx, boolean axesInput) {
        Node node = ctx.node();
        long[] attr = axesInput ? null : node.attrInts("axes", null);
        return in -> new Value[] {squeeze(node, in[0],
                axesInput && in.length > 1 && in[1] != null ? OpUtil.longs(node, in[1], "axes") : attr)};
    }

    /** Unsqueeze; axes come from a required attribute before opset 13 and from a required input after. */
    private static OpUtil.ShapeAware unsqueeze(NodeContext ctx, boolean axesInput) {
        Node node = ctx.node();
        long[] attr = axesInput ? null : node.attrInts("axes", null);
        if (!axesInput && attr == null) {
            throw ctx.error("attribute 'axes' is missing");
        }
        return in -> new Value[] {unsqueeze(node, in[0],
                axesInput ? OpUtil.longs(node, in.length > 1 ? in[1] : null, "axes") : attr)};
    }

    /** Removes the given size-1 axes, or every size-1 axis when {@code axes} is null. */
    static Value squeeze(Node node, Value x, long[] axes) {
        int r = x.rank();
        boolean[] drop = new boolean[r];
        if (axes == null) {
            for (int d = 0; d < r; d++) {
                drop[d] = x.shape[d] == 1;
            }
        } else {
            for (int d : OpUtil.axes(node, axes, r)) {
                if (x.shape[d] != 1) {
                    throw OpUtil.error(node, "cannot squeeze axis " + d + " of shape " + Arrays.toString(x.shape));
                }
                drop[d] = true;
            }
        }
        int[] out = new int[r];
        int k = 0;
        for (int d = 0; d < r; d++) {
            if (!drop[d]) {
                out[k++] = x.shape[d];
            }
        }
        return OpUtil.reshaped(x, Arrays.copyOf(out, k));
    }

    /** Inserts size-1 axes at the given positions of the output. */
    static Value unsqueeze(Node node, Value x, long[] axes) {
        int r = x.rank() + axes.length;
        boolean[] insert = new boolean[r];
        for (int d : OpUtil.axes(node, axes, r)) {
            insert[d] = true;
        }
        int[] out = new int[r];
        for (int d = 0, k = 0; d < r; d++) {
            out[d] = insert[d] ? 1 : x.shape[k++];
        }
        return OpUtil.reshaped(x, out);
    }

    private static OpUtil.ShapeAware concat(NodeContext ctx) {
        Node node = ctx.node();
        if (node.attr("axis") == null) {
            throw ctx.error("attribute 'axis' is missing");
        }
        long axisAttr = node.attrInt("axis", 0);
        return in -> {
            Value first = in[0];
            int r = first.rank();
            int axis = OpUtil.axis(node, axisAttr, r);
            int[] out = first.shape.clone();
            out[axis] = 0;
            boolean data = true;
            for (Value v : in) {
                if (v == null || v.rank() != r || v.isFloat() != first.isFloat() || (!v.isFloat() && v.type != first.type)) {
                    throw OpUtil.error(node, "inputs must have one type and rank, got " + Arrays.toString(in));
                }
                for (int d = 0; d < r; d++) {
                    if (d != axis && v.shape[d] != out[d]) {
                        throw OpUtil.error(node, "input shapes differ off the axis: " + Arrays.toString(in));
                    }
                }
                out[axis] += v.shape[axis];
                data &= v.hasData();
            }
            if (!data) {
                return new Value[] {Value.shapeOnly(out)};
            }
            Value y = OpUtil.allocate(first, out);
            Object dst = OpUtil.data(y);
            int outer = OpUtil.product(out, 0, axis);
            int inner = OpUtil.product(out, axis + 1, r);
            int at = 0;
            for (int o = 0; o < outer; o++) {
                for (Value v : in) {
                    int block = v.shape[axis] * inner;
                    System.arraycopy(OpUtil.data(v), o * block, dst, at, block);
                    at += block;
                }
            }
            return new Value[] {y};
        };
    }

    /** Shape, with the opset-15 {@code start}/{@code end} attributes (clamped like Python slices). */
    private static OpUtil.ShapeAware shape(NodeContext ctx) {
        long start = ctx.node().attrInt("start", 0);
        Long end = ctx.node().attr("end") == null ? null : ctx.node().attrInt("end", 0);
        return in -> {
            int[] s = in[0].shape;
            int r = s.length;
            int from = clampIndex(start, r);
            int to = end == null ? r : clampIndex(end, r);
            long[] dims = new long[Math.max(0, to - from)];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = s[from + i];
            }
            return new Value[] {Value.ofLongs(new int[] {dims.length}, dims)};
        };
    }

    private static int clampIndex(long i, int r) {
        return (int) Math.max(0, Math.min(r, i < 0 ? i + r : i));
    }

    private static OpUtil.ShapeAware gather(NodeContext ctx) {
        Node node = ctx.node();
        long axisAttr = node.attrInt("axis", 0);
        return in -> {
            Value x = in[0];
            long[] idx = OpUtil.longs(node, in.length > 1 ? in[1] : null, "indices");
            int[] ishape = in[1].shape;
            int r = x.rank();
            int axis = OpUtil.axis(node, axisAttr, r);
            int dim = x.shape[axis];
            int outer = OpUtil.product(x.shape, 0, axis);
            int inner = OpUtil.product(x.shape, axis + 1, r);
            long[] pick = new long[idx.length];
            for (int i = 0; i < idx.length; i++) {
                long k = idx[i] < 0 ? idx[i] + dim : idx[i];
                if (k < 0 || k >= dim) {
                    throw OpUtil.error(node, "index " + idx[i] + " is out of range for axis size " + dim);
                }
                pick[i] = k * inner;
            }
            long[][] tables = {IndexCopy.linear(outer, 0, 1, (long) dim * inner), pick, IndexCopy.linear(inner, 0, 1, 1)};
            Value flat = IndexCopy.copy(x, new int[] {outer, idx.length, inner}, tables, 0);
            int[] out = new int[r - 1 + ishape.length];
            System.arraycopy(x.shape, 0, out, 0, axis);
            System.arraycopy(ishape, 0, out, axis, ishape.length);
            System.arraycopy(x.shape, axis + 1, out, axis + ishape.length, r - axis - 1);
            return new Value[] {OpUtil.reshaped(flat, out)};
        };
    }

    /** Constant: exactly one of value, value_float(s), value_int(s). */
    private static OpUtil.ShapeAware constant(NodeContext ctx) {
        Node node = ctx.node();
        Tensor t = null;
        int found = 0;
        for (String key : node.attributes().keySet()) {
            Attribute a = node.attr(key);
            switch (key) {
                case "value" -> t = a.asTensor();
                case "value_float" -> t = Tensor.scalar(a.asFloat());
                case "value_floats" -> t = Tensor.ofFloats(new int[] {a.asFloats().length}, a.asFloats());
                case "value_int" -> t = Tensor.ofLongs(new int[0], new long[] {a.asInt()});
                case "value_ints" -> t = Tensor.ofLongs(new int[] {a.asInts().length}, a.asInts());
                default -> throw ctx.error("attribute '" + key + "' is not supported");
            }
            found++;
        }
        if (found != 1) {
            throw ctx.error("needs exactly one value attribute, got " + found);
        }
        Tensor value = t;
        return in -> new Value[] {Value.of(value)};
    }

    private static OpUtil.ShapeAware constantOfShape(NodeContext ctx) {
        Node node = ctx.node();
        Attribute a = node.attr("value");
        Tensor t = a == null ? Tensor.scalar(0f) : a.asTensor();
        if (t.size() != 1) {
            throw ctx.error("value must hold one element, has " + t.size());
        }
        Value fill = Value.of(t);
        return in -> {
            long[] spec = OpUtil.longs(node, in[0], "shape");
            int[] out = new int[spec.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = OpUtil.dim(node, spec[i]);
            }
            Value y = OpUtil.allocate(fill, out);
            if (y.isFloat()) {
                Arrays.fill(y.floats, fill.floats[0]);
            } else {
                Arrays.fill(y.longs, fill.longs[0]);
            }
            return new Value[] {y};
        };
    }
}
