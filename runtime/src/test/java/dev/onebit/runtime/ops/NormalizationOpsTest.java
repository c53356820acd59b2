package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import static dev.onebit.runtime.ops.OpTester.assertValue;
import static dev.onebit.runtime.ops.OpTester.f;
import static dev.onebit.runtime.ops.OpTester.iota;
import static dev.onebit.runtime.ops.OpTester.op;
import static dev.onebit.runtime.ops.OpTester.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class NormalizationOpsTest {

    @Test
    void softmaxOpset11NormalizesOverTheFlattenedTail() {
        Value x = f(s(1, 2, 2), 0, 0, 0, 0);
        // Axis 1 before opset 13: the 2x2 tail is one row of four.
        assertValue(op("Softmax", 11).input(x).run(), s(1, 2, 2), 0.25f, 0.25f, 0.25f, 0.25f);
        // From 13 the default axis is -1 and only that axis is normalized.
        assertValue(op("Softmax", 13).input(x).run(), s(1, 2, 2), 0.5f, 0.5f, 0.5f, 0.5f);
        assertValue(op("Softmax", 13).attr("axis", Attribute.of(1L)).input(x).run(), s(1, 2, 2), 0.5f, 0.5f, 0.5f, 0.5f);
    }

    @Test
    void softmaxAlongMiddleAxisIsStrided() {
        Value x = f(s(1, 2, 2), 0, 1, 1, 1);
        Value y = op("Softmax", 13).attr("axis", Attribute.of(-2L)).input(x).run();
        float e = (float) (1 / (1 + Math.E));
        assertValue(y, s(1, 2, 2), e, 0.5f, 1 - e, 0.5f);
    }

    @Test
    void softmaxIsStableForLargeInputs() {
        Value y = op("Softmax", 13).input(f(s(2), 10000, 10000)).run();
        assertValue(y, s(2), 0.5f, 0.5f);
        Value z = op("LogSoftmax", 13).input(f(s(2), 10000, 10000)).run();
        assertValue(z, s(2), (float) -Math.log(2), (float) -Math.log(2));
    }

    @Test
    void logSoftmaxOpset7DefaultAxisOne() {
        Value z = op("LogSoftmax", 7).input(f(s(2, 2), 1, 1, 3, 3)).run();
        float v = (float) -Math.log(2);
        assertValue(z, s(2, 2), v, v, v, v);
        assertThrows(ModelException.class, () -> op("Softmax", 13).attr("axis", Attribute.of(2L)).input(iota(2, 2)).run());
    }

    @Test
    void batchNormPerChannel() {
        Value x = f(s(1, 2, 1, 2), 1, 2, 3, 4);
        Value scale = f(s(2), 2, 1);
        Value bias = f(s(2), 0, 1);
        Value mean = f(s(2), 1, 3);
        Value var = f(s(2), 4, 1);
        Value y = op("BatchNormalization", 15).attr("epsilon", Attribute.of(0f))
                .constant(x).constant(scale).constant(bias).constant(mean).constant(var).run();
        assertValue(y, s(1, 2, 1, 2), 0, 1, 1, 2);
        // Same numbers with run-time (non-constant) parameters.
        Value z = op("BatchNormalization", 9).attr("epsilon", Attribute.of(0f))
                .input(x).input(scale).input(bias).input(mean).input(var).run();
        assertValue(z, s(1, 2, 1, 2), 0, 1, 1, 2);
    }

    @Test
    void batchNormOpset7PerElementWhenNotSpatial() {
        Value x = f(s(2, 1, 2), 1, 2, 3, 4);
        Value one = f(s(1, 2), 1, 1);
        Value y = op("BatchNormalization", 7).attr("spatial", Attribute.of(0L)).attr("epsilon", Attribute.of(0f))
                .input(x).input(one).input(f(s(1, 2), 0, 10)).input(f(s(1, 2), 1, 2)).input(one).run();
        assertValue(y, s(2, 1, 2), 0, 10, 2, 12);
    }

    @Test
    void batchNormRejectsTrainingOutputs() {
        Value x = iota(1, 1, 1);
        ModelException e = assertThrows(ModelException.class,
                () -> op("BatchNormalization", 15).attr("training_mode", Attribute.of(1L)).input(x).kernel());
        assertEquals(true, e.getMessage().contains("training"));
        assertThrows(ModelException.class, () -> op("BatchNormalization", 9).outputs(3).input(x).kernel());
    }
}
