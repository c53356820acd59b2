package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.BinaryGemm;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.ReferenceConv;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dev.onebit operators against hand-computed values and ONNX Conv with the effective weight. */
class BinaryOpsTest {

    /** Runs one dev.onebit node; inputs given as tensors are constants, values are run-time inputs. */
    private static Value run(String op, Map<String, Attribute> attrs, Object... inputs) {
        List<String> names = new ArrayList<>();
        Map<String, Tensor> constants = new HashMap<>();
        Value[] values = new Value[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            String name = inputs[i] == null ? "" : "in" + i;
            names.add(name);
            if (inputs[i] instanceof Tensor t) {
                constants.put(name, t);
                values[i] = Value.of(t);
            } else {
                values[i] = (Value) inputs[i];
            }
        }
        Node node = new Node("n", op, OpRegistry.ONEBIT_DOMAIN, names, List.of("y"), attrs);
        OpRegistry.Entry e = OpRegistry.standard().find(OpRegistry.ONEBIT_DOMAIN, op, OpRegistry.ONEBIT_OPSET);
        return e.factory().create(new NodeContext(node, OpRegistry.ONEBIT_OPSET, constants::get)).run(values)[0];
    }

    private static float[] randoms(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    @Test
    void bitLayoutIsLsbFirstAndOneMeansMinusOne() {
        Tensor t = Tensor.ofSigns(new int[] {10}, new float[] {-1, 0, 2, -0.5f, 1, 1, 1, 1, -3, 4});
        assertEquals(DataType.BIT, t.type());
        assertEquals(2, t.bytes().remaining());
        assertEquals(0b0000_1001, t.bytes().get(0) & 0xFF);
        assertEquals(0b0000_0001, t.bytes().get(1) & 0xFF);
        assertArrayEquals(new float[] {-1, 1, 1, -1, 1, 1, 1, 1, -1, 1}, t.toFloatArray());
    }

    @Test
    void binarizeMapsZeroToPlusOne() {
        Value y = run("Binarize", Map.of(), Value.ofFloats(new int[] {1, 4}, new float[] {-2f, 0f, -0f, 3f}));
        assertArrayEquals(new float[] {-1, 1, 1, 1}, y.floats);
    }

    /** The branch-free sign agrees with {@code x < 0 ? -1 : 1} on every kind of float, NaNs and zeros included. */
    @Test
    void branchFreeSignsMatchTheCompare() {
        List<Float> special = List.of(0f, -0f, 1f, -1f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL,
                -Float.MIN_NORMAL, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
                Float.NaN, Float.intBitsToFloat(0xFFC00000), Float.intBitsToFloat(0xFF800001),
                Float.intBitsToFloat(0x7F800001), Float.intBitsToFloat(0xFFFFFFFF));
        Random rnd = new Random(3);
        float[] x = new float[special.size() + 10_000];
        for (int i = 0; i < special.size(); i++) {
            x[i] = special.get(i);
        }
        for (int i = special.size(); i < x.length; i++) {
            // Any bit pattern: every exponent, both signs, subnormals and NaN payloads.
            x[i] = Float.intBitsToFloat(rnd.nextInt());
        }
        List<BinaryGemm> engines = new ArrayList<>(List.of(Kernels.scalarBinaryGemm()));
        if (Kernels.vectorBinaryGemm() != null) {
            engines.add(Kernels.vectorBinaryGemm());
        }
        for (BinaryGemm gemm : engines) {
            // Offsets and a length that is no multiple of any vector, so the tails run too.
            float[] y = new float[x.length + 3];
            gemm.signs(x, 1, y, 3, x.length - 1);
            for (int i = 1; i < x.length; i++) {
                float want = x[i] < 0 ? -1f : 1f;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[i + 2]),
                        gemm.name() + ", x bits " + Integer.toHexString(Float.floatToRawIntBits(x[i])));
            }
        }
    }

    @Test
    void effectiveWeightSumsThePlanes() {
        // Two planes, two outputs of three weights.
        Tensor b = Tensor.ofSigns(new int[] {2, 2, 3}, new float[] {1, -1, 1, -1, -1, -1, 1, 1, -1, 1, -1, 1});
        float[] w = BinaryOps.effectiveWeight(b, new float[] {0.5f, 2f, 0.25f, 1f});
        assertArrayEquals(new float[] {0.75f, -0.25f, 0.25f, -1f, -3f, -1f}, w);
    }

    /** BinaryConv with bias and pads equals the reference Conv of the effective weight, grouped too. */
    @Test
    void binaryConvIsConvWithTheEffectiveWeight() {
        Random r = new Random(7);
        for (int group : new int[] {1, 2}) {
            int c = 4;
            int m = 6;
            int[] bShape = {3, m, c / group, 3, 3};
            Tensor b = Tensor.ofSigns(bShape, randoms(r, (int) Tensor.elementCount(bShape)));
            float[] alpha = new float[3 * m];
            for (int i = 0; i < alpha.length; i++) {
                alpha[i] = 0.1f + r.nextFloat();
            }
            float[] bias = randoms(r, m);
            Value x = Value.ofFloats(new int[] {2, c, 5, 6}, randoms(r, 2 * c * 30));
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            attrs.put("group", Attribute.of(group));
            attrs.put("pads", Attribute.ofInts(1, 0, 2, 1));
            attrs.put("strides", Attribute.ofInts(1, 2));
            Value y = run("BinaryConv", attrs, x, b, Tensor.ofFloats(new int[] {3, m}, alpha),
                    Tensor.ofFloats(new int[] {m}, bias));
            float[] w = BinaryOps.effectiveWeight(b, alpha);
            int[] wShape = BinaryOps.weightShape(b);
            var geometry = dev.onebit.runtime.kernels.ConvGeometry.of(new int[] {5, 6}, new int[] {3, 3},
                    new long[] {1, 2}, null, new long[] {1, 0, 2, 1}, "NOTSET", false);
            float[] expected = ReferenceConv.conv(x.floats, x.shape, w, wShape, bias, group, geometry);
            assertEquals(expected.length, y.size());
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], y.floats[i], 1e-4f * (1 + Math.abs(expected[i])), "element " + i);
            }
        }
    }

    @Test
    void binaryMatMulIsXTimesWTransposed() {
        Tensor b = Tensor.ofSigns(new int[] {1, 2, 3}, new float[] {1, -1, 1, -1, -1, 1});
        Value x = Value.ofFloats(new int[] {2, 3}, new float[] {1, 2, 3, -1, 0, 4});
        Value y = run("BinaryMatMul", Map.of(), x, b, Tensor.ofFloats(new int[] {1, 2}, new float[] {2f, 0.5f}),
                Tensor.ofFloats(new int[] {2}, new float[] {10f, 0f}));
        // W = [[2, -2, 2], [-0.5, -0.5, 0.5]]
        assertArrayEquals(new int[] {2, 2}, y.shape);
        assertArrayEquals(new float[] {2 - 4 + 6 + 10, -0.5f - 1 + 1.5f, -2 + 8 + 10, 0.5f + 2}, y.floats, 1e-6f);
    }

    /** K = box filter of the channel mean of |x|, zero padding counted, as XNOR-Net defines it. */
    @Test
    void activationScaleIsTheBoxFilteredChannelMean() {
        // Two channels, 2x2: mean |x| = [[1, 2], [3, 4]].
        Value x = Value.ofFloats(new int[] {1, 2, 2, 2}, new float[] {1, -2, 3, 4, -1, 2, -3, 4});
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", Attribute.ofInts(3, 3));
        attrs.put("pads", Attribute.ofInts(1, 1, 1, 1));
        Value k = run("ActivationScale", attrs, x);
        assertArrayEquals(new int[] {1, 1, 2, 2}, k.shape);
        float all = (1 + 2 + 3 + 4) / 9f;
        assertArrayEquals(new float[] {all, all, all, all}, k.floats, 1e-6f);
    }

    @Test
    void weightsMustBeConstantBits() {
        Value x = Value.ofFloats(new int[] {1, 3}, new float[3]);
        Tensor floatB = Tensor.ofFloats(new int[] {1, 2, 3}, new float[6]);
        var e = assertThrows(dev.onebit.ir.ModelException.class, () -> run("BinaryMatMul", Map.of(), x, floatB,
                Tensor.ofFloats(new int[] {1, 2}, new float[2])));
        assertTrue(e.getMessage().contains("BIT"), e.getMessage());
    }
}
