package dev.onebit.binarizer;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.onebit.binarizer.TestGraphs.attrs;
import static dev.onebit.binarizer.TestGraphs.ints;
import static dev.onebit.binarizer.TestGraphs.node;
import static dev.onebit.binarizer.TestGraphs.producer;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InputBinarizationPassTest {

    private static Graph xnor(Graph g, KeepFloat keep, boolean scale) {
        return Binarizer.binarize(g, BinarizeOptions.of(Method.XNOR).withKeepFloat(keep).withScaleActivations(scale)).graph();
    }

    private static boolean isBinarize(Node n) {
        return n.opType().equals("Binarize") && n.domain().equals(OpRegistry.ONEBIT_DOMAIN);
    }

    @Test
    void plainLooksThroughReluMaxPoolAndReshape() {
        Graph g = Samples.model("plain");
        Graph b = xnor(g, KeepFloat.DEFAULT, false);
        // conv2 read MaxPool(Relu(conv1)); it now reads MaxPool'(sign(conv1)).
        Node conv2 = TestGraphs.find(b, "/conv2/Conv");
        Node pool = producer(b, conv2.input(0));
        assertEquals("MaxPool", pool.opType());
        assertEquals(TestGraphs.find(g, "/MaxPool").attributes(), pool.attributes());
        Node sign = producer(b, pool.input(0));
        assertTrue(isBinarize(sign));
        assertEquals("/conv1/Conv_output_0", sign.input(0));
        // fc1 read Reshape(MaxPool(Relu(conv2))): Reshape'(MaxPool'(sign(conv2))).
        Node fc1 = TestGraphs.find(b, "/fc1/Gemm");
        Node reshape = producer(b, fc1.input(0));
        assertEquals("Reshape", reshape.opType());
        assertEquals(TestGraphs.find(g, "/Reshape").input(1), reshape.input(1), "same target shape");
        Node pool2 = producer(b, reshape.input(0));
        assertEquals("MaxPool", pool2.opType());
        assertEquals("/conv2/Conv_output_0", producer(b, pool2.input(0)).input(0));
        // The Relus and pools only fed the binary layers: gone.
        for (String gone : List.of("/Relu", "/MaxPool", "/Relu_1", "/MaxPool_1", "/Reshape")) {
            assertFalse(b.nodes().stream().anyMatch(n -> n.name().equals(gone)), gone + " should be dropped");
        }
        assertEquals(2, b.nodes().stream().filter(InputBinarizationPassTest::isBinarize).count());
    }

    @Test
    void signedMaxPoolEqualsSignOfTheMaxOfThePreActivation() {
        Graph g = Samples.model("plain");
        Graph b = xnor(g, KeepFloat.DEFAULT, false);
        String conv2In = TestGraphs.find(b, "/conv2/Conv").input(0);
        Value x = Samples.images("test2k", 3);
        Value z = TestGraphs.run(g, x, Set.of("/conv1/Conv_output_0")).get("/conv1/Conv_output_0");
        Value s = TestGraphs.run(b, x, Set.of(conv2In)).get(conv2In);
        assertArrayEquals(new int[] {3, 16, 14, 14}, s.shape);
        int negatives = 0;
        for (int nc = 0; nc < 3 * 16; nc++) {
            for (int i = 0; i < 14; i++) {
                for (int j = 0; j < 14; j++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int di = 0; di < 2; di++) {
                        for (int dj = 0; dj < 2; dj++) {
                            max = Math.max(max, z.floats[nc * 784 + (2 * i + di) * 28 + 2 * j + dj]);
                        }
                    }
                    float got = s.floats[nc * 196 + i * 14 + j];
                    assertEquals(TestGraphs.sign(max), got);
                    negatives += got < 0 ? 1 : 0;
                }
            }
        }
        // sign(maxpool(relu(z))) would be +1 everywhere: the look-through is what makes this informative.
        assertTrue(negatives > 1000, "only " + negatives + " negative signs");
    }

    @Test
    void readersOfOneValueShareOneBinarize() {
        Graph b = xnor(Samples.model("resnet"), KeepFloat.DEFAULT, false);
        Node body = TestGraphs.find(b, "/stages/stages.1/body1/body1.0/Conv");
        Node shortcut = TestGraphs.find(b, "/stages/stages.1/shortcut/shortcut.0/Conv");
        assertEquals(body.input(0), shortcut.input(0));
        Node sign = producer(b, body.input(0));
        assertTrue(isBinarize(sign));
        assertEquals("/stages/stages.0/Add_output_0", sign.input(0), "sign of the residual sum, under its Relu");
        for (Node n : b.nodes()) {
            if (isBinarize(n)) {
                assertEquals(1, b.nodes().stream().filter(m -> isBinarize(m) && m.input(0).equals(n.input(0))).count());
            }
        }
    }

    /** Relu with another reader, Clip(0, 6), Clip(-1, 1) and an AveragePool after a Relu, each before a conv. */
    static Graph clampZoo() {
        Graph.Builder b = TestGraphs.builder(2, 5, 5);
        b.initializer("zero", Tensor.scalar(0f)).initializer("six", Tensor.scalar(6f))
                .initializer("minus1", Tensor.scalar(-1f)).initializer("one", Tensor.scalar(1f));
        for (String c : List.of("A", "B", "C", "D")) {
            b.initializer("w" + c, TestGraphs.tensor(c.charAt(0), 3, 2, 3, 3));
        }
        Map<String, dev.onebit.ir.Attribute> pad = attrs("pads", ints(1, 1, 1, 1));
        b.node(node("relu", "Relu", List.of("x"), "r", Map.of()));
        b.node(node("convA", "Conv", List.of("r", "wA"), "yA", pad));
        b.node(node("add", "Add", List.of("r", "r"), "sum", Map.of()));
        b.node(node("clip06", "Clip", List.of("x", "zero", "six"), "c06", Map.of()));
        b.node(node("convB", "Conv", List.of("c06", "wB"), "yB", pad));
        b.node(node("clip11", "Clip", List.of("x", "minus1", "one"), "c11", Map.of()));
        b.node(node("convC", "Conv", List.of("c11", "wC"), "yC", pad));
        b.node(node("avg", "AveragePool", List.of("r"), "avg", attrs("kernel_shape", ints(2, 2), "strides", ints(1, 1))));
        b.node(node("convD", "Conv", List.of("avg", "wD"), "yD", pad));
        for (String out : List.of("yA", "yB", "yC", "yD", "sum")) {
            b.output(new ValueInfo(out, DataType.FLOAT, null));
        }
        return b.build();
    }

    @Test
    void clampsAreLookedThroughOthersAreNot() {
        Graph b = xnor(clampZoo(), KeepFloat.NONE, false);
        Node a = TestGraphs.find(b, "convA");
        Node bb = TestGraphs.find(b, "convB");
        assertEquals("x", producer(b, a.input(0)).input(0), "Relu looked through");
        assertEquals(a.input(0), bb.input(0), "Clip(0, 6) looked through, sharing sign(x)");
        assertEquals("c11", producer(b, TestGraphs.find(b, "convC").input(0)).input(0), "Clip(-1, 1) is not a clamp at 0");
        assertEquals("avg", producer(b, TestGraphs.find(b, "convD").input(0)).input(0), "AveragePool does not commute with sign");
        assertTrue(b.nodes().stream().anyMatch(n -> n.name().equals("relu")), "the Relu stays for Add and AveragePool");
        assertEquals(3, b.nodes().stream().filter(InputBinarizationPassTest::isBinarize).count());
        Value x = TestGraphs.input(3, 2, 2, 5, 5);
        Map<String, Value> out = TestGraphs.run(b, x, Set.of(a.input(0)));
        for (int i = 0; i < x.size(); i++) {
            assertEquals(TestGraphs.sign(x.floats[i]), out.get(a.input(0)).floats[i]);
        }
    }

    @Test
    void activationScaleFeedsEveryBinaryConv() {
        Graph g = Samples.model("vgg");
        Graph b = xnor(g, KeepFloat.DEFAULT, true);
        int convs = 0;
        for (Node n : b.nodes()) {
            if (n.opType().equals("BinaryConv")) {
                convs++;
                Node fl = TestGraphs.find(g, n.name());
                assertEquals(5, n.inputs().size());
                assertEquals("", n.input(3), "vgg convs have no bias");
                Node scale = producer(b, n.input(4));
                assertEquals("ActivationScale", scale.opType());
                assertEquals(fl.input(0), scale.input(0), "scale of the conv's real input");
                for (String k : List.of("kernel_shape", "strides", "pads", "dilations")) {
                    assertEquals(fl.attr(k), scale.attr(k), k);
                }
            } else if (n.opType().equals("BinaryMatMul")) {
                assertEquals(3, n.inputs().size() - (n.hasInput(3) ? 1 : 0));
            }
        }
        assertEquals(5, convs);
        Value logits = TestGraphs.run(b, Samples.images("test2k", 2), Set.of()).get("logits");
        for (float v : logits.floats) {
            assertTrue(Float.isFinite(v));
        }
    }
}
