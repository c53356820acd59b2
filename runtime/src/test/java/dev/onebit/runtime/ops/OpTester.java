package dev.onebit.runtime.ops;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Kernel;
import dev.onebit.runtime.NodeContext;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Builds one node, prepares its kernel from the standard registry and runs it on given values. */
final class OpTester {
    private final String opType;
    private final int opset;
    private final Map<String, Attribute> attrs = new LinkedHashMap<>();
    private final List<String> inputNames = new ArrayList<>();
    private final List<Value> inputs = new ArrayList<>();
    private final Map<String, Tensor> constants = new HashMap<>();
    private int outputs = 1;

    private OpTester(String opType, int opset) {
        this.opType = opType;
        this.opset = opset;
    }

    /** A node of {@code opType} in a model of the given default-domain opset. */
    static OpTester op(String opType, int opset) {
        return new OpTester(opType, opset);
    }

    OpTester attr(String key, Attribute a) {
        attrs.put(key, a);
        return this;
    }

    OpTester input(Value v) {
        inputNames.add(v == null ? "" : "in" + inputNames.size());
        inputs.add(v);
        return this;
    }

    /** An input that is also known to the kernel as a constant at creation. */
    OpTester constant(Value v) {
        input(v);
        constants.put(inputNames.get(inputNames.size() - 1), v.toTensor());
        return this;
    }

    OpTester outputs(int n) {
        outputs = n;
        return this;
    }

    /** The prepared kernel; throws what the factory throws. */
    Kernel kernel() {
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) {
            outs.add("out" + i);
        }
        Node node = Node.of("n", opType, inputNames, outs, attrs);
        OpRegistry.Entry e = OpRegistry.standard().find("", opType, opset);
        assertNotNull(e, opType + " not registered for opset " + opset);
        return e.factory().create(new NodeContext(node, opset, constants::get));
    }

    Value[] runAll() {
        return kernel().run(inputs.toArray(new Value[0]));
    }

    Value run() {
        return runAll()[0];
    }

    Value infer() {
        return kernel().inferShapes(inputs.toArray(new Value[0]))[0];
    }

    static Value f(int[] shape, float... data) {
        return Value.ofFloats(shape, data);
    }

    static Value l(int[] shape, long... data) {
        return Value.ofLongs(shape, data);
    }

    static Value l1(long... data) {
        return Value.ofLongs(new int[] {data.length}, data);
    }

    static int[] s(int... dims) {
        return dims;
    }

    /** A float value 0, 1, 2, ... of the given shape. */
    static Value iota(int... shape) {
        float[] d = new float[Value.count(shape)];
        for (int i = 0; i < d.length; i++) {
            d[i] = i;
        }
        return Value.ofFloats(shape, d);
    }

    static void assertValue(Value v, int[] shape, float... data) {
        assertArrayEquals(shape, v.shape, "shape");
        assertArrayEquals(data, v.floats, 1e-5f, "data");
    }

    static void assertLongs(Value v, int[] shape, long... data) {
        assertArrayEquals(shape, v.shape, "shape");
        assertArrayEquals(data, v.longs, "data");
    }
}
