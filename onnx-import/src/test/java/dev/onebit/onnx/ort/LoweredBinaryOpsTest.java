package dev.onebit.onnx.ort;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxExporter;
import dev.onebit.onnx.passes.LowerBinaryOps;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graph using every dev.onebit operator, run by onebit, against the same graph lowered to
 * standard ONNX and run by ONNX Runtime: outputs agree to rtol 1e-4. Inputs include exact
 * zeros, where sign(0) = +1 must survive the lowering.
 */
class LoweredBinaryOpsTest {

    private static Graph binaryGraph(int opset, int planes, Random r) {
        int c = 3;
        int m = 4;
        Map<String, Attribute> conv = new LinkedHashMap<>();
        conv.put("kernel_shape", Attribute.ofInts(3, 3));
        conv.put("pads", Attribute.ofInts(1, 1, 1, 1));
        conv.put("strides", Attribute.ofInts(2, 2));
        Map<String, Attribute> convWithMethod = new LinkedHashMap<>(conv);
        convWithMethod.put("method", Attribute.of(planes > 1 ? "cbd" : "xnor"));
        int[] bShape = {planes, m, c, 3, 3};
        return Graph.builder("binary")
                .opset("", opset)
                .opset(OpRegistry.ONEBIT_DOMAIN, OpRegistry.ONEBIT_OPSET)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(2, c, 7, 7)))
                .initializer("B", Tensor.ofSigns(bShape, gauss(r, (int) Tensor.elementCount(bShape))))
                .initializer("alpha", Tensor.ofFloats(new int[] {planes, m}, positive(r, planes * m)))
                .initializer("bias", Tensor.ofFloats(new int[] {m}, gauss(r, m)))
                .initializer("shape", Tensor.ofLongs(new int[] {2}, new long[] {2, m * 16}))
                .initializer("B2", Tensor.ofSigns(new int[] {planes, 5, m * 16}, gauss(r, planes * 5 * m * 16)))
                .initializer("alpha2", Tensor.ofFloats(new int[] {planes, 5}, positive(r, planes * 5)))
                .initializer("bias2", Tensor.ofFloats(new int[] {5}, gauss(r, 5)))
                .node(new Node("sign", "Binarize", OpRegistry.ONEBIT_DOMAIN, List.of("x"), List.of("sx"), Map.of()))
                .node(new Node("beta", "ActivationScale", OpRegistry.ONEBIT_DOMAIN, List.of("x"), List.of("k"), conv))
                .node(new Node("bconv", "BinaryConv", OpRegistry.ONEBIT_DOMAIN, List.of("sx", "B", "alpha", "bias", "k"),
                        List.of("y"), convWithMethod))
                .node(Node.of("flat", "Reshape", List.of("y", "shape"), List.of("f"), Map.of()))
                .node(new Node("fc", "BinaryMatMul", OpRegistry.ONEBIT_DOMAIN, List.of("f", "B2", "alpha2", "bias2"),
                        List.of("logits"), Map.of()))
                .output(new ValueInfo("logits", DataType.FLOAT, null))
                .build();
    }

    private static float[] gauss(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static float[] positive(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = 0.05f + r.nextFloat();
        }
        return v;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void lowersToWhatOnnxRuntimeComputesAlike(int planes) throws Exception {
        for (int opset : new int[] {13, 18}) {
            Random r = new Random(planes * 100 + opset);
            Graph g = binaryGraph(opset, planes, r);
            Graph lowered = LowerBinaryOps.apply(g);
            assertFalse(lowered.nodes().stream().anyMatch(n -> n.domain().equals(OpRegistry.ONEBIT_DOMAIN)));
            assertFalse(lowered.opsets().containsKey(OpRegistry.ONEBIT_DOMAIN));
            float[] x = gauss(r, 2 * 3 * 49);
            for (int i = 0; i < x.length; i += 5) {
                x[i] = 0f;
            }
            Value ours = Executor.create(g).run(Map.of("x", Value.ofFloats(new int[] {2, 3, 7, 7}, x))).get("logits");
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession s = env.createSession(OnnxExporter.toBytes(lowered), new OrtSession.SessionOptions());
                 OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), new long[] {2, 3, 7, 7});
                 OrtSession.Result res = s.run(Map.of("x", t))) {
                FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
                float[] theirs = new float[fb.remaining()];
                fb.get(theirs);
                assertEquals(ours.size(), theirs.length);
                for (int i = 0; i < theirs.length; i++) {
                    assertTrue(Math.abs(ours.floats[i] - theirs[i]) <= 1e-4f * (1 + Math.abs(theirs[i])),
                            "opset " + opset + " planes " + planes + " logit " + i + ": ours " + ours.floats[i]
                                    + ", ORT " + theirs[i]);
                }
            }
        }
    }
}
