package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Buffers;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.Arrays;

import static dev.onebit.runtime.OpRegistry.MAX_OPSET;
import static dev.onebit.runtime.OpRegistry.MIN_OPSET;

/** BatchNormalization (inference form), Softmax and LogSoftmax. */
final class NormalizationOps {
    private NormalizationOps() {
    }

    /** Adds this group's operators to {@code r}. */
    static void register(OpRegistry r) {
        r.register("BatchNormalization", MIN_OPSET, 8, NormalizationOps::batchNorm);
        r.register("BatchNormalization", 9, MAX_OPSET, NormalizationOps::batchNorm);
        r.register("Softmax", MIN_OPSET, 12, ctx -> softmax(ctx, false, true));
        r.register("Softmax", 13, MAX_OPSET, ctx -> softmax(ctx, false, false));
        r.register("LogSoftmax", MIN_OPSET, 12, ctx -> softmax(ctx, true, true));
        r.register("LogSoftmax", 13, MAX_OPSET, ctx -> softmax(ctx, true, false));
    }

    /**
     * Y = (X - mean) / sqrt(var + epsilon) * scale + B, folded into one multiply-add per element.
     * Parameters hold one value per channel (axis 1), or, for opset 7-8 with {@code spatial=0},
     * one per element of a batch item.
     */
    private static OpUtil.ShapeAware batchNorm(NodeContext ctx) {
        Node node = ctx.node();
        float eps = node.attrFloat("epsilon", 1e-5f);
        if (node.attrInt("training_mode", 0) != 0) {
            throw ctx.error("training mode is not supported");
        }
        for (int i = 1; i < node.outputs().size(); i++) {
            if (!node.output(i).isEmpty()) {
                throw ctx.error("only the inference form with one output is supported");
            }
        }
        if (ctx.opset() <= 8 && node.attr("spatial") != null) {
            long spatial = node.attrInt("spatial", 1);
            if (spatial != 0 && spatial != 1) {
                throw ctx.error("spatial must be 0 or 1, got " + spatial);
            }
        }
        float[][] folded = null;
        if (ctx.constant(1) != null && ctx.constant(2) != null && ctx.constant(3) != null && ctx.constant(4) != null) {
            folded = fold(node, floats(ctx.constant(1)), floats(ctx.constant(2)), floats(ctx.constant(3)),
                    floats(ctx.constant(4)), eps);
        }
        float[][] pre = folded;
        return in -> {
            Value x = in[0];
            if (x.rank() < 2) {
                throw OpUtil.error(node, "input must have rank >= 2, got " + Arrays.toString(x.shape));
            }
            if (!x.hasData()) {
                return new Value[] {Value.shapeOnly(x.shape)};
            }
            float[][] ab = pre != null ? pre : fold(node, in[1].floats, in[2].floats, in[3].floats, in[4].floats, eps);
            float[] a = ab[0];
            float[] b = ab[1];
            int channels = x.shape[1];
            int item = OpUtil.product(x.shape, 1, x.rank());
            // Per-channel parameters repeat over each channel's plane; per-element ones cover the item.
            int plane = a.length == channels ? item / Math.max(channels, 1) : a.length == item ? 1 : -1;
            if (plane < 0) {
                throw OpUtil.error(node, a.length + " parameters do not fit input " + Arrays.toString(x.shape));
            }
            float[] s = x.floats;
            if (s.length == 0) {
                return new Value[] {Value.ofFloats(x.shape, new float[0])};
            }
            // The loop below writes every element.
            float[] y = Buffers.floats(s.length);
            for (int base = 0, p = 0; base < s.length; base += plane, p = (p + 1) % a.length) {
                float ap = a[p];
                float bp = b[p];
                for (int i = base; i < base + plane; i++) {
                    y[i] = s[i] * ap + bp;
                }
            }
            return new Value[] {Value.ofFloats(x.shape, y)};
        };
    }

    private static float[] floats(Tensor t) {
        return t.toFloatArray();
    }

    private static float[][] fold(Node node, float[] scale, float[] bias, float[] mean, float[] var, float eps) {
        int n = scale.length;
        if (bias.length != n || mean.length != n || var.length != n) {
            throw OpUtil.error(node, "scale, B, mean and var must have one size");
        }
        float[] a = new float[n];
        float[] b = new float[n];
        for (int c = 0; c < n; c++) {
            a[c] = (float) (scale[c] / Math.sqrt(var[c] + (double) eps));
            b[c] = bias[c] - mean[c] * a[c];
        }
        return new float[][] {a, b};
    }

    /**
     * Softmax or LogSoftmax. Before opset 13 the input is viewed as 2-D, split at {@code axis}
     * (default 1), and normalized over the whole second part; from 13 only along {@code axis}
     * (default -1). The maximum is subtracted first so large inputs do not overflow.
     */
    private static OpUtil.ShapeAware softmax(NodeContext ctx, boolean log, boolean coerce2d) {
        Node node = ctx.node();
        long axisAttr = node.attrInt("axis", coerce2d ? 1 : -1);
        return in -> {
            Value x = in[0];
            int r = x.rank();
            int axis;
            if (coerce2d) {
                // The 2-D view may split after the last axis, so axis == rank is allowed.
                if (axisAttr < -r || axisAttr > r) {
                    throw OpUtil.error(node, "axis " + axisAttr + " is out of range for rank " + r);
                }
                axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
            } else {
                axis = OpUtil.axis(node, axisAttr, r);
            }
            if (!x.hasData()) {
                return new Value[] {Value.shapeOnly(x.shape)};
            }
            int outer = OpUtil.product(x.shape, 0, axis);
            int len = coerce2d ? OpUtil.product(x.shape, axis, r) : x.shape[axis];
            int inner = coerce2d ? 1 : OpUtil.product(x.shape, axis + 1, r);
            float[] s = x.floats;
            float[] y = new float[s.length];
            for (int o = 0; o < outer; o++) {
                for (int j = 0; j < inner; j++) {
                    int base = o * len * inner + j;
                    float max = Float.NEGATIVE_INFINITY;
                    for (int k = 0; k < len; k++) {
                        max = Math.max(max, s[base + k * inner]);
                    }
                    double sum = 0;
                    for (int k = 0; k < len; k++) {
                        float e = (float) Math.exp(s[base + k * inner] - max);
                        sum += e;
                        if (!log) {
                            y[base + k * inner] = e;
                        }
                    }
                    if (log) {
                        float logSum = (float) Math.log(sum);
                        for (int k = 0; k < len; k++) {
                            y[base + k * inner] = (s[base + k * inner] - max) - logSum;
                        }
                    } else {
                        float inv = (float) (1 / sum);
                        for (int k = 0; k < len; k++) {
                            y[base + k * inner] *= inv;
                        }
                    }
                }
            }
            return new Value[] {Value.ofFloats(x.shape, y)};
        };
    }
}
