package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import static dev.onebit.runtime.ops.OpTester.assertLongs;
import static dev.onebit.runtime.ops.OpTester.assertValue;
import static dev.onebit.runtime.ops.OpTester.f;
import static dev.onebit.runtime.ops.OpTester.iota;
import static dev.onebit.runtime.ops.OpTester.l;
import static dev.onebit.runtime.ops.OpTester.op;
import static dev.onebit.runtime.ops.OpTester.s;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ElementwiseOpsTest {

    @Test
    void broadcastsBothWays() {
        // [3,1] + [4] -> [3,4]: each operand is repeated along the other's axis.
        Value y = op("Add", 13).input(f(s(3, 1), 0, 10, 20)).input(f(s(4), 1, 2, 3, 4)).run();
        assertValue(y, s(3, 4), 1, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24);
    }

    @Test
    void broadcastsPerChannel() {
        // NCHW minus a [C,1,1] tensor: the middle axis varies, the others repeat.
        Value x = iota(2, 3, 2, 2);
        Value y = op("Sub", 7).input(x).input(f(s(3, 1, 1), 0, 100, 200)).run();
        assertEquals(24, y.size());
        for (int i = 0; i < 24; i++) {
            int c = (i / 4) % 3;
            assertEquals(i - 100f * c, y.floats[i], 0f, "at " + i);
        }
    }

    @Test
    void broadcastsScalarOnLeftAndMiddleOnes() {
        Value y = op("Div", 14).input(f(s(), 12)).input(f(s(2, 1, 3), 1, 2, 3, 4, 6, 12)).run();
        assertValue(y, s(2, 1, 3), 12, 6, 4, 3, 2, 1);
        Value z = op("Mul", 14).input(iota(2, 1, 3)).input(f(s(1, 4, 1), 1, 2, 3, 4)).run();
        assertArrayEquals(s(2, 4, 3), z.shape);
        assertEquals(5f * 4, z.floats[(1 * 4 + 3) * 3 + 2], 0f);
    }

    @Test
    void rejectsIncompatibleShapes() {
        ModelException e = assertThrows(ModelException.class,
                () -> op("Add", 13).input(iota(2, 3)).input(iota(2)).run());
        assertTrue(e.getMessage().contains("do not broadcast"), e.getMessage());
    }

    @Test
    void integerArithmeticTruncatesAndWraps() {
        Value q = op("Div", 13).input(l(s(4), 7, -7, 7, -7)).input(l(s(4), 2, 2, -2, -2)).run();
        assertLongs(q, s(4), 3L, -3L, -3L, 3L);
        Value w = op("Add", 14).input(Value.ofLongs(DataType.UINT8, s(2), new long[] {250, 3}))
                .input(Value.ofLongs(DataType.UINT8, s(1), new long[] {10})).run();
        assertEquals(DataType.UINT8, w.type);
        assertArrayEquals(new long[] {4, 13}, w.longs);
    }

    @Test
    void preluBroadcastsSlopeOnly() {
        Value y = op("PRelu", 9).input(f(s(2, 2), -1, 2, -3, 4)).input(f(s(2), 0.5f, 0.25f)).run();
        assertValue(y, s(2, 2), -0.5f, 2, -1.5f, 4);
        assertThrows(ModelException.class, () -> op("PRelu", 9).input(f(s(2), -1, 1)).input(iota(2, 2)).run());
    }

    @Test
    void activations() {
        Value x = f(s(4), -2, -0.5f, 0, 3);
        assertValue(op("Relu", 14).input(x).run(), s(4), 0, 0, 0, 3);
        assertValue(op("LeakyRelu", 16).input(x).run(), s(4), -0.02f, -0.005f, 0, 3);
        assertValue(op("LeakyRelu", 16).attr("alpha", Attribute.of(0.5f)).input(x).run(), s(4), -1, -0.25f, 0, 3);
        assertValue(op("HardSigmoid", 7).input(x).run(), s(4), 0.1f, 0.4f, 0.5f, 1);
        assertValue(op("Sign", 13).input(x).run(), s(4), -1, -1, 0, 1);
        assertValue(op("Sigmoid", 13).input(f(s(2), 0, -200)).run(), s(2), 0.5f, 0);
        assertValue(op("Tanh", 13).input(f(s(1), 100)).run(), s(1), 1);
    }

    @Test
    void clipBeforeOpset11UsesAttributes() {
        Value x = f(s(4), -5, -1, 1, 5);
        assertValue(op("Clip", 7).attr("min", Attribute.of(-2f)).input(x).run(), s(4), -2, -1, 1, 5);
        assertValue(op("Clip", 7).attr("max", Attribute.of(2f)).input(x).run(), s(4), -5, -1, 1, 2);
        // Clip-6's default bounds are the largest finite floats, so infinities are clamped.
        assertValue(op("Clip", 7).input(f(s(2), Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY)).run(),
                s(2), -Float.MAX_VALUE, Float.MAX_VALUE);
        assertValue(op("Clip", 11).input(f(s(1), Float.POSITIVE_INFINITY)).run(), s(1), Float.POSITIVE_INFINITY);
    }

    @Test
    void clipFromOpset11AllowsOmittedInputs() {
        Value x = f(s(4), -5, -1, 1, 5);
        assertValue(op("Clip", 13).input(x).run(), s(4), -5, -1, 1, 5);
        assertValue(op("Clip", 13).input(x).input(null).input(f(s(), 2)).run(), s(4), -5, -1, 1, 2);
        assertValue(op("Clip", 11).input(x).input(f(s(), -2)).run(), s(4), -2, -1, 1, 5);
        Value ints = op("Clip", 13).input(l(s(3), -9, 0, 9)).input(l(s(), -1)).input(l(s(), 1)).run();
        assertArrayEquals(new long[] {-1, 0, 1}, ints.longs);
    }

    @Test
    void dropoutIsIdentityWithFullMask() {
        Value x = iota(2, 2);
        Value[] out = op("Dropout", 13).input(x).outputs(2).runAll();
        assertValue(out[0], s(2, 2), 0, 1, 2, 3);
        assertEquals(DataType.BOOL, out[1].type);
        assertArrayEquals(new long[] {1, 1, 1, 1}, out[1].longs);
        Value train = Value.ofLongs(DataType.BOOL, s(), new long[] {1});
        assertThrows(ModelException.class, () -> op("Dropout", 13).input(x).input(f(s(), 0.5f)).input(train).run());
        assertValue(op("Dropout", 13).input(x).input(f(s(), 0f)).input(train).run(), s(2, 2), 0, 1, 2, 3);
    }

    @Test
    void castBetweenFloatIntAndBool() {
        Value x = f(s(4), -1.7f, 0, 0.5f, 300);
        Value i64 = op("Cast", 13).attr("to", Attribute.of(7L)).input(x).run();
        assertLongs(i64, s(4), -1L, 0L, 0L, 300L);
        Value b = op("Cast", 13).attr("to", Attribute.of(9L)).input(x).run();
        assertEquals(DataType.BOOL, b.type);
        assertArrayEquals(new long[] {1, 0, 1, 1}, b.longs);
        assertValue(op("Cast", 13).attr("to", Attribute.of(1L)).input(l(s(2), 3, -4)).run(), s(2), 3, -4);
        assertThrows(ModelException.class, () -> op("Cast", 13).attr("to", Attribute.of(8L)).kernel());
    }

    @Test
    void shapeOnlyInputsGiveShapeOnlyOutputs() {
        Value y = op("Add", 13).input(Value.shapeOnly(2, 3, 1)).input(Value.shapeOnly(4)).infer();
        assertArrayEquals(s(2, 3, 4), y.shape);
        assertFalse(y.hasData());
        assertFalse(op("Relu", 13).input(Value.shapeOnly(5)).infer().hasData());
    }
}
