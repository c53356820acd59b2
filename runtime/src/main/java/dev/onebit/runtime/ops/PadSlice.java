package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.Value;

import java.util.Arrays;

/** Slice and Pad kernels (registered by {@link ShapeOps}); both are index tables over {@link IndexCopy}. */
final class PadSlice {
    private PadSlice() {
    }

    /** Slice before opset 10: starts, ends and optional axes are attributes, steps are 1. */
    static OpUtil.ShapeAware sliceAttributes(NodeContext ctx) {
        Node node = ctx.node();
        long[] starts = node.attrInts("starts", null);
        long[] ends = node.attrInts("ends", null);
        long[] axes = node.attrInts("axes", null);
        if (starts == null || ends == null) {
            throw ctx.error("attributes 'starts' and 'ends' are required");
        }
        return in -> new Value[] {slice(node, in[0], starts, ends, axes, null)};
    }

    /** Slice from opset 10: starts, ends, optional axes and steps are inputs. */
    static OpUtil.ShapeAware sliceInputs(NodeContext ctx) {
        Node node = ctx.node();
        return in -> new Value[] {slice(node, in[0],
                OpUtil.longs(node, in.length > 1 ? in[1] : null, "starts"),
                OpUtil.longs(node, in.length > 2 ? in[2] : null, "ends"),
                in.length > 3 && in[3] != null ? OpUtil.longs(node, in[3], "axes") : null,
                in.length > 4 && in[4] != null ? OpUtil.longs(node, in[4], "steps") : null)};
    }

    /** Python-style slicing along the given axes, with ONNX's clamping of out-of-range bounds. */
    static Value slice(Node node, Value x, long[] starts, long[] ends, long[] axes, long[] steps) {
        int r = x.rank();
        int n = starts.length;
        if (ends.length != n || (axes != null && axes.length != n) || (steps != null && steps.length != n)) {
            throw OpUtil.error(node, "starts, ends, axes and steps must have one length");
        }
        int[] stride = IndexCopy.strides(x.shape);
        int[] out = x.shape.clone();
        long[][] tables = new long[r][];
        int[] dims = axes == null ? null : OpUtil.axes(node, axes, r);
        for (int i = 0; i < n; i++) {
            int d = dims == null ? OpUtil.axis(node, i, r) : dims[i];
            long size = x.shape[d];
            long step = steps == null ? 1 : Math.max(steps[i], -Long.MAX_VALUE);
            if (step == 0) {
                throw OpUtil.error(node, "step 0 on axis " + d);
            }
            long s = starts[i] < 0 ? starts[i] + size : starts[i];
            long e = ends[i] < 0 ? ends[i] + size : ends[i];
            long count;
            if (step > 0) {
                s = clamp(s, 0, size);
                e = clamp(e, 0, size);
                count = e > s ? 1 + (e - s - 1) / step : 0;
            } else {
                s = clamp(s, 0, size - 1);
                e = clamp(e, -1, size - 1);
                count = s > e ? 1 + (s - e - 1) / -step : 0;
            }
            out[d] = (int) count;
            tables[d] = IndexCopy.linear(out[d], s, step, stride[d]);
        }
        for (int d = 0; d < r; d++) {
            if (tables[d] == null) {
                tables[d] = IndexCopy.linear(out[d], 0, 1, stride[d]);
            }
        }
        return IndexCopy.copy(x, out, tables, 0);
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** Pad before opset 11: pads and the constant value are attributes. */
    static OpUtil.ShapeAware padAttributes(NodeContext ctx) {
        Node node = ctx.node();
        long[] pads = node.attrInts("pads", null);
        if (pads == null) {
            throw ctx.error("attribute 'pads' is missing");
        }
        String mode = mode(ctx);
        float value = node.attrFloat("value", 0f);
        return in -> new Value[] {pad(node, in[0], pads, null, mode, value)};
    }

    /** Pad from opset 11: pads, optional constant_value and (opset 18) optional axes are inputs. */
    static OpUtil.ShapeAware padInputs(NodeContext ctx) {
        Node node = ctx.node();
        String mode = mode(ctx);
        return in -> {
            Value c = in.length > 2 ? in[2] : null;
            if (c != null && (c.size() != 1 || !c.hasData())) {
                throw OpUtil.error(node, "constant_value must be a scalar, got " + c);
            }
            long[] axes = in.length > 3 && in[3] != null ? OpUtil.longs(node, in[3], "axes") : null;
            return new Value[] {pad(node, in[0], OpUtil.longs(node, in.length > 1 ? in[1] : null, "pads"),
                    axes, mode, c == null ? 0 : c.get(0))};
        };
    }

    private static String mode(NodeContext ctx) {
        String mode = ctx.node().attrString("mode", "constant");
        boolean known = mode.equals("constant") || mode.equals("reflect") || mode.equals("edge")
                || (mode.equals("wrap") && ctx.opset() >= 19);
        if (!known) {
            throw ctx.error("unsupported mode '" + mode + "'");
        }
        return mode;
    }

    /**
     * Pads (or, with negative pads, crops) {@code x}. {@code pads} holds every padded axis'
     * begin amount, then every end amount; {@code axes} null means all axes.
     */
    static Value pad(Node node, Value x, long[] pads, long[] axes, String mode, double value) {
        int r = x.rank();
        int[] dims = axes == null ? null : OpUtil.axes(node, axes, r);
        int k = dims == null ? r : dims.length;
        if (pads.length != 2 * k) {
            throw OpUtil.error(node, "pads " + Arrays.toString(pads) + " must hold 2 values per axis, " + k + " axes");
        }
        long[] begin = new long[r];
        long[] end = new long[r];
        for (int i = 0; i < k; i++) {
            int d = dims == null ? i : dims[i];
            begin[d] = pads[i];
            end[d] = pads[i + k];
        }
        int[] stride = IndexCopy.strides(x.shape);
        int[] out = new int[r];
        long[][] tables = new long[r][];
        for (int d = 0; d < r; d++) {
            int n = x.shape[d];
            out[d] = OpUtil.dim(node, n + begin[d] + end[d]);
            if (n == 0 && out[d] > 0 && !mode.equals("constant")) {
                throw OpUtil.error(node, "cannot " + mode + "-pad an empty axis");
            }
            long[] t = new long[out[d]];
            for (int c = 0; c < t.length; c++) {
                long i = c - begin[d];
                if (i < 0 || i >= n) {
                    i = switch (mode) {
                        case "edge" -> i < 0 ? 0 : n - 1;
                        case "wrap" -> Math.floorMod(i, n);
                        case "reflect" -> reflect(i, n);
                        default -> -1;
                    };
                }
                t[c] = i < 0 ? IndexCopy.OUTSIDE : i * stride[d];
            }
            tables[d] = t;
        }
        return IndexCopy.copy(x, out, tables, value);
    }

    /** Mirror index without repeating the edge element; periodic, so pads wider than the axis keep bouncing. */
    private static long reflect(long i, int n) {
        if (n == 1) {
            return 0;
        }
        long period = 2L * (n - 1);
        long m = Math.floorMod(i, period);
        return m < n ? m : period - m;
    }
}
