package dev.onebit.runtime.ops;

import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.SignKernel;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.BinaryDense;
import dev.onebit.runtime.kernels.BwnDense;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.PackedMatrix;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * The kernels of {@code BinaryMatMul} (semantics in {@link BinaryOps}): the XNOR dense layer for
 * ±1 rows, float or packed (a flattened [C, pixels] item read through a permuted weight); the
 * table-lookup {@link BwnDense} for real-valued rows; the reference's one float product per
 * ±1 plane and the output step.
 */
final class BinaryMatMulOp {
    /**
     * Rows up to which a several-plane BinaryMatMul with real-valued input runs on {@link BwnDense}
     * rather than one folded float product (measured: it wins at 1-2 rows for K up to 3).
     */
    private static final int BWN_MAX_ROWS_PER_EXTRA_PLANE = 2;

    private BinaryMatMulOp() {
    }

    /** The kernel of one BinaryMatMul node; {@code xnor} false gives the reference kernel. */
    static Kernel create(NodeContext ctx, boolean xnor) {
        Node node = ctx.node();
        Tensor b = ctx.constant(1);
        BinaryOps.checkWeight(ctx, b);
        int[] wShape = BinaryOps.weightShape(b);
        if (wShape.length != 2) {
            throw ctx.error("B must have shape [planes, OUT, IN], has " + Arrays.toString(b.shape()));
        }
        int out = wShape[0];
        int in = wShape[1];
        float[] bias = BinaryOps.bias(ctx, out);
        var gemm = Kernels.floatGemm();
        int planes = b.shape()[0];
        float[] alphaValues = ctx.constant(2).toFloatArray();
        // W is [OUT][IN] = B^T of X·B, packed once as the left operand: the effective weight when
        // the fast registry folds several planes into one product, else one ±1 plane each.
        // Packed on first use, like BinaryConvOp's float convs: ±1 and BWN rows never need them.
        boolean collapse = xnor && planes > 1;
        Supplier<PackedMatrix[]> packedPlanes = BinaryOps.memoize(() -> {
            PackedMatrix[] p = new PackedMatrix[collapse ? 1 : planes];
            for (int k = 0; k < p.length; k++) {
                p[k] = gemm.pack(collapse ? BinaryOps.effectiveWeight(b, alphaValues) : BinaryOps.planeWeight(b, k), 0,
                        in, 1, out, in, 1f);
            }
            return p;
        });
        BinaryDense xnorDense = xnor ? new BinaryDense(Kernels.binaryGemm(), b, alphaValues) : null;
        // Real-valued rows (BWN, CBD) on the packed weight itself: 2-10x the float product with one
        // plane at any batch; with several planes it costs about K products, so only for a row or two.
        BwnDense bwnDense = xnor ? new BwnDense(Kernels.bwnGemm(), b, alphaValues) : null;
        // The effective weight already holds alpha: its output step scales by one.
        float[] ones = new float[out];
        Arrays.fill(ones, 1f);
        Kernel kernel = new SignKernel() {
            @Override
            public Value[] runSigns(Value[] inputs) {
                // Floats are a valid answer (SignKernel): the Binarize reading them packs them.
                return run(inputs);
            }

            @Override
            public Value[] run(Value[] inputs) {
                Value x = inputs[0];
                if (x != null && x.signs != null) {
                    int[] shape = outShape(x);
                    if (xnorDense != null && x.rank() == 2) {
                        return new Value[] {Value.ofFloats(shape, xnorDense.run(x.signs, bias))};
                    }
                    inputs = inputs.clone();
                    inputs[0] = x.unpacked();
                }
                x = FloatArgs.floatInput(ctx, inputs, 0, "X");
                int[] shape = outShape(x);
                int rows = x.size() / Math.max(1, in);
                if (xnorDense != null) {
                    float[] y = xnorDense.run(x.floats, rows, bias);
                    if (y != null) {
                        return new Value[] {Value.ofFloats(shape, y)};
                    }
                }
                if (bwnDense != null && (planes == 1 || rows <= BWN_MAX_ROWS_PER_EXTRA_PLANE)) {
                    return new Value[] {Value.ofFloats(shape, bwnDense.run(x.floats, rows, bias))};
                }
                PackedMatrix[] packed = packedPlanes.get();
                float[][] dots = new float[packed.length][];
                for (int k = 0; k < dots.length; k++) {
                    dots[k] = new float[Math.multiplyExact(rows, out)];
                    MatMulOps.product(gemm, rows, out, in, 1f, x.floats, 0, in, 1, null, 0, 0, 0, packed[k], null,
                            false, dots[k], 0);
                }
                float[] a = collapse ? ones : alphaValues;
                return new Value[] {Value.ofFloats(shape, BinaryOps.outputStep(dots, a, rows, out, 1, null, bias))};
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
        return xnor ? kernel : BinaryOps.plain(kernel);
    }
}
