package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Folding BN into binary layers (and into a float conv) changes nothing but rounding, keeps
 * alpha positive, drops the BN nodes.
 */
class BatchNormFoldingTest {

    private static long count(Graph g, String op) {
        return g.nodes().stream().filter(n -> n.opType().equals(op)).count();
    }

    private static void assertSameOutputs(Graph a, Graph b, Value x) {
        float[] ya = Executor.create(a).run(Map.of("input", x)).get("logits").floats;
        float[] yb = Executor.create(b).run(Map.of("input", x)).get("logits").floats;
        assertEquals(ya.length, yb.length);
        for (int i = 0; i < ya.length; i++) {
            assertEquals(ya[i], yb[i], 1e-4f * (1 + Math.abs(ya[i])), "logit " + i);
        }
    }

    private static void assertAlphaPositive(Graph g) {
        for (Node n : g.nodes()) {
            if (n.opType().equals("BinaryConv") || n.opType().equals("BinaryMatMul")) {
                for (float a : g.initializer(n.input(2)).toFloatArray()) {
                    assertTrue(a > 0, n.name() + " has alpha " + a);
                }
            }
        }
    }

    @Test
    void vggBatchNormsFoldIntoTheBinaryConvs() {
        Graph vgg = Samples.model("vgg");
        Graph binary = Binarizer.binarize(vgg, BinarizeOptions.cbd(2)).graph();
        Graph calibrated = Calibration.calibrate(vgg, binary, Samples.images("train1k", 200));
        Graph folded = BatchNormFolding.apply(calibrated);
        // Five binary convs each lose their BN, and so does the first conv, kept in float.
        assertEquals(6, count(calibrated, "BatchNormalization"));
        assertEquals(0, count(folded, "BatchNormalization"));
        Node first = folded.nodes().stream().filter(n -> n.opType().equals("Conv")).findFirst().orElseThrow();
        assertEquals("", first.domain());
        assertEquals(32, folded.initializer(first.input(2)).size(), "the first conv now has a bias");
        assertAlphaPositive(folded);
        assertSameOutputs(calibrated, folded, Samples.images("test2k", 32));
    }

    /** A negative BN scale flips the channel's signs instead of making alpha negative. */
    @Test
    void negativeScaleFlipsTheSigns() {
        Graph vgg = Samples.model("vgg");
        Graph binary = Binarizer.binarize(vgg, BinarizeOptions.defaults()).graph();
        Node bn = binary.nodes().stream().filter(n -> n.opType().equals("BatchNormalization")).skip(1).findFirst()
                .orElseThrow();
        float[] gamma = binary.initializer(bn.input(1)).toFloatArray();
        for (int i = 0; i < gamma.length; i += 2) {
            gamma[i] = -gamma[i];
        }
        Graph negated = binary.toBuilder().initializer(bn.input(1), Tensor.ofFloats(new int[] {gamma.length}, gamma))
                .build();
        Graph folded = BatchNormFolding.apply(negated);
        assertNotEquals(count(negated, "BatchNormalization"), count(folded, "BatchNormalization"));
        assertAlphaPositive(folded);
        assertSameOutputs(negated, folded, Samples.images("test2k", 16));
    }

    @Test
    void graphWithoutFoldableBatchNormIsUnchanged() {
        Graph resnet = Samples.model("resnet");
        Graph binary = Binarizer.binarize(resnet, BinarizeOptions.defaults()).graph();
        assertEquals(binary, BatchNormFolding.apply(binary));
    }
}
