package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import static dev.onebit.runtime.ops.OpTester.assertLongs;
import static dev.onebit.runtime.ops.OpTester.assertValue;
import static dev.onebit.runtime.ops.OpTester.f;
import static dev.onebit.runtime.ops.OpTester.iota;
import static dev.onebit.runtime.ops.OpTester.l;
import static dev.onebit.runtime.ops.OpTester.l1;
import static dev.onebit.runtime.ops.OpTester.op;
import static dev.onebit.runtime.ops.OpTester.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ShapeOpsTest {

    @Test
    void reshapeCopiesZeroAndInfersMinusOne() {
        Value x = iota(2, 3, 4);
        assertArrayEquals(s(2, 12), op("Reshape", 13).input(x).input(l1(0, -1)).run().shape);
        assertArrayEquals(s(4, 3, 2), op("Reshape", 13).input(x).input(l1(-1, 3, 2)).run().shape);
        assertThrows(ModelException.class, () -> op("Reshape", 13).input(x).input(l1(-1, -1)).run());
        assertThrows(ModelException.class, () -> op("Reshape", 13).input(x).input(l1(5, -1)).run());
    }

    @Test
    void reshapeAllowZeroKeepsLiteralZero() {
        Value empty = Value.zeros(0, 3);
        Value y = op("Reshape", 14).attr("allowzero", Attribute.of(1L)).input(empty).input(l1(3, 0)).run();
        assertArrayEquals(s(3, 0), y.shape);
        // Without allowzero the 0 copies dimension 1 of the input.
        assertArrayEquals(s(3, 3), op("Reshape", 14).input(Value.zeros(3, 3)).input(l1(3, 0)).run().shape);
    }

    @Test
    void flattenWithNegativeAxis() {
        assertArrayEquals(s(6, 4), op("Flatten", 13).attr("axis", Attribute.of(-1L)).input(iota(2, 3, 4)).run().shape);
        assertArrayEquals(s(1, 24), op("Flatten", 13).attr("axis", Attribute.of(0L)).input(iota(2, 3, 4)).run().shape);
        assertArrayEquals(s(2, 12), op("Flatten", 9).input(Value.shapeOnly(2, 3, 4)).infer().shape);
    }

    @Test
    void transposeDefaultReversesAndPermutes() {
        assertValue(op("Transpose", 13).input(iota(2, 3)).run(), s(3, 2), 0, 3, 1, 4, 2, 5);
        Value y = op("Transpose", 13).attr("perm", Attribute.ofInts(1, 2, 0)).input(iota(2, 3, 4)).run();
        assertArrayEquals(s(3, 4, 2), y.shape);
        // y[c][h][n] = x[n][c][h]
        org.junit.jupiter.api.Assertions.assertEquals(1 * 12 + 2 * 4 + 3, y.floats[(2 * 4 + 3) * 2 + 1], 0f);
        assertThrows(ModelException.class,
                () -> op("Transpose", 13).attr("perm", Attribute.ofInts(0, 0)).kernel());
    }

    @Test
    void squeezeAndUnsqueezeWithNegativeAxes() {
        Value x = iota(1, 3, 1, 2);
        assertArrayEquals(s(3, 2), op("Squeeze", 11).input(x).run().shape);
        assertArrayEquals(s(1, 3, 2), op("Squeeze", 11).attr("axes", Attribute.ofInts(-2)).input(x).run().shape);
        assertArrayEquals(s(3, 1, 2), op("Squeeze", 13).input(x).input(l1(0)).run().shape);
        assertThrows(ModelException.class, () -> op("Squeeze", 13).input(x).input(l1(1)).run());
        Value v = iota(3, 4);
        assertArrayEquals(s(3, 4, 1), op("Unsqueeze", 11).attr("axes", Attribute.ofInts(-1)).input(v).run().shape);
        assertArrayEquals(s(1, 3, 1, 4), op("Unsqueeze", 13).input(v).input(l1(-2, 0)).run().shape);
    }

    @Test
    void concatFloatsAndLongs() {
        Value y = op("Concat", 13).attr("axis", Attribute.of(-1L)).input(iota(2, 1)).input(f(s(2, 2), 7, 8, 9, 10)).run();
        assertValue(y, s(2, 3), 0, 7, 8, 1, 9, 10);
        Value z = op("Concat", 13).attr("axis", Attribute.of(0L)).input(l1(1, 2)).input(l(s(0))).input(l1(3)).run();
        assertLongs(z, s(3), 1L, 2L, 3L);
        assertThrows(ModelException.class, () -> op("Concat", 13).input(l1(1)).kernel());
    }

    @Test
    void shapeOfShapeOnlyValueWithStartEnd() {
        Value x = Value.shapeOnly(2, 3, 4, 5);
        assertLongs(op("Shape", 13).input(x).infer(), s(4), 2L, 3L, 4L, 5L);
        assertLongs(op("Shape", 15).attr("start", Attribute.of(-3L)).attr("end", Attribute.of(-1L)).input(x).infer(),
                s(2), 3L, 4L);
        assertLongs(op("Shape", 15).attr("start", Attribute.of(10L)).input(x).infer(), s(0), new long[0]);
    }

    @Test
    void gatherNegativeIndicesAndMatrixIndices() {
        Value x = iota(3, 2);
        assertValue(op("Gather", 13).input(x).input(l(s(2, 2), 0, -1, 1, 1)).run(), s(2, 2, 2), 0, 1, 4, 5, 2, 3, 2, 3);
        assertValue(op("Gather", 13).attr("axis", Attribute.of(-1L)).input(x).input(l(s(), 1)).run(), s(3), 1, 3, 5);
        assertLongs(op("Gather", 13).input(l1(10, 20, 30)).input(l(s(), -1)).run(), s(), 30L);
        assertThrows(ModelException.class, () -> op("Gather", 13).input(x).input(l1(3)).run());
    }

    @Test
    void constantVariants() {
        assertValue(op("Constant", 13).attr("value", Attribute.of(Tensor.ofFloats(s(2), new float[] {1, 2}))).run(),
                s(2), 1, 2);
        assertLongs(op("Constant", 13).attr("value_ints", Attribute.ofInts(4, 5)).run(), s(2), 4L, 5L);
        assertValue(op("Constant", 13).attr("value_float", Attribute.of(1.5f)).run(), s(), 1.5f);
        assertThrows(ModelException.class, () -> op("Constant", 13).kernel());
    }

    @Test
    void constantOfShape() {
        assertValue(op("ConstantOfShape", 9).input(l1(2, 2)).run(), s(2, 2), 0, 0, 0, 0);
        Value y = op("ConstantOfShape", 9).attr("value", Attribute.of(Tensor.ofLongs(s(1), new long[] {7})))
                .input(l1(3)).run();
        assertLongs(y, s(3), 7L, 7L, 7L);
    }

    @Test
    void padModes() {
        Value x = f(s(1, 3), 1, 2, 3);
        Value pads = l1(0, 2, 0, 1);
        assertValue(op("Pad", 13).input(x).input(pads).input(f(s(), 9)).run(), s(1, 6), 9, 9, 1, 2, 3, 9);
        assertValue(op("Pad", 13).attr("mode", Attribute.of("reflect")).input(x).input(pads).run(),
                s(1, 6), 3, 2, 1, 2, 3, 2);
        assertValue(op("Pad", 13).attr("mode", Attribute.of("edge")).input(x).input(pads).run(),
                s(1, 6), 1, 1, 1, 2, 3, 3);
        assertValue(op("Pad", 19).attr("mode", Attribute.of("wrap")).input(x).input(pads).run(),
                s(1, 6), 2, 3, 1, 2, 3, 1);
        // Opset 2 form: attributes; negative pads crop.
        assertValue(op("Pad", 7).attr("pads", Attribute.ofInts(0, -1, 0, 1)).attr("value", Attribute.of(5f)).input(x).run(),
                s(1, 3), 2, 3, 5);
        // Opset 18 axes input: pad only the last axis.
        assertValue(op("Pad", 18).input(x).input(l1(1, 1)).input(null).input(l1(-1)).run(), s(1, 5), 0, 1, 2, 3, 0);
        assertThrows(ModelException.class, () -> op("Pad", 13).attr("mode", Attribute.of("wrap")).kernel());
    }

    @Test
    void sliceClampsAndSteps() {
        Value x = iota(2, 5);
        assertValue(op("Slice", 13).input(x).input(l1(1)).input(l1(Long.MAX_VALUE)).input(l1(-1)).input(l1(2)).run(),
                s(2, 2), 1, 3, 6, 8);
        assertValue(op("Slice", 13).input(x).input(l1(-1, 10)).input(l1(Long.MIN_VALUE, -10)).input(l1(0, 1))
                .input(l1(-1, -2)).run(), s(2, 3), 9, 7, 5, 4, 2, 0);
        assertValue(op("Slice", 9).attr("starts", Attribute.ofInts(1)).attr("ends", Attribute.ofInts(100))
                .input(x).run(), s(1, 5), 5, 6, 7, 8, 9);
        assertArrayEquals(s(2, 0), op("Slice", 13).input(x).input(l1(3)).input(l1(1)).input(l1(1)).run().shape);
    }

    @Test
    void shapeOnlyDataMovement() {
        Value y = op("Transpose", 13).input(Value.shapeOnly(2, 3)).infer();
        assertArrayEquals(s(3, 2), y.shape);
        assertFalse(y.hasData());
        assertArrayEquals(s(2, 4), op("Gather", 13).attr("axis", Attribute.of(1L))
                .input(Value.shapeOnly(2, 3)).input(l1(0, 1, 2, 2)).infer().shape);
    }
}
