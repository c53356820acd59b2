package dev.onebit.cli;

import dev.onebit.binarizer.BatchNormFolding;
import dev.onebit.binarizer.BinarizeOptions;
import dev.onebit.binarizer.Binarizer;
import dev.onebit.binarizer.Calibration;
import dev.onebit.binarizer.Method;
import dev.onebit.cli.data.Dataset;
import dev.onebit.ir.Graph;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End to end, a converted sample run by the fast runtime (XNOR kernels, activations packed
 * between binary layers) against the reference execution of the same graph
 * ({@link OpRegistry#reference()}: every binary layer as a float Conv/MatMul with its effective
 * weight), on the whole Fashion-MNIST test set: the same top-1 prediction for every image, and
 * every logit within rtol 1e-4 of the image's largest. Where the activations are binarized
 * (xnor, bireal) the logits are in fact equal bit for bit (integer dot products, then the
 * reference's float output step), which is what keeps every sign of a binary network the
 * same, and the test holds them to that; BWN fully connected layers and most of vgg's BWN
 * convs run on the table-lookup kernels (BwnDense, BwnConvolution), which sum in another
 * order, so bwn is held to rtol 1e-4.
 */
class FastRuntimeExactnessTest {
    private static final float[] MEAN = {0.2860f};
    private static final float[] STD = {0.3530f};

    @ParameterizedTest(name = "{0} {1} scale-activations={2}")
    @CsvSource({"vgg, xnor, false", "vgg, xnor, true", "plain, xnor, false", "resnet, bireal, false", "vgg, bwn, false"})
    void fastRuntimeMatchesTheReferenceOnTheFullTestSet(String sample, String method, boolean scale) throws Exception {
        ModelFile src = ModelFile.loadOnnx(Cli.samples().resolve(sample + ".onnx"));
        int[] item = src.itemShape();
        Dataset calib = Dataset.load(Cli.samples().resolve("data/fashion-mnist-train1k-images-idx3-ubyte.gz"), null,
                MEAN, STD, 1000, item);
        BinarizeOptions options = BinarizeOptions.of(Method.valueOf(method.toUpperCase())).withScaleActivations(scale);
        Graph graph = Binarizer.binarize(src.graph(), options).graph();
        graph = BatchNormFolding.apply(Calibration.calibrate(src.graph(), graph, calib.batch(0, calib.count())));

        Executor fast = Executor.create(graph);
        Executor reference = Executor.create(graph, OpRegistry.reference());
        if (!method.equals("bwn")) {
            assertFalse(fast.packedOutputNodes().isEmpty(), "no activations stay packed in " + sample + " " + method);
        }
        Dataset test = Dataset.load(Path.of(Cli.fullTestImages().toString()), null, MEAN, STD, 10000, item);
        String in = graph.inputs().get(0).name();
        String out = graph.outputs().get(0).name();
        int batch = 250;
        int images = 0;
        int differentTop1 = 0;
        int notBitEqual = 0;
        for (int start = 0; start < test.count(); start += batch) {
            int n = Math.min(batch, test.count() - start);
            Value x = test.batch(start, n);
            float[] a = fast.run(Map.of(in, x)).get(out).floats;
            float[] b = reference.run(Map.of(in, x)).get(out).floats;
            int classes = b.length / n;
            for (int i = 0; i < n; i++) {
                double largest = 0;
                for (int k = 0; k < classes; k++) {
                    largest = Math.max(largest, Math.abs(b[i * classes + k]));
                }
                for (int k = 0; k < classes; k++) {
                    float fa = a[i * classes + k];
                    float fb = b[i * classes + k];
                    if (!(Math.abs(fa - fb) <= 1e-4 * largest)) {
                        fail(sample + " " + method + ": image " + (start + i) + " logit " + k + ": fast " + fa
                                + ", reference " + fb);
                    }
                    notBitEqual += Float.floatToIntBits(fa) != Float.floatToIntBits(fb) ? 1 : 0;
                }
                differentTop1 += argmax(a, i * classes, classes) != argmax(b, i * classes, classes) ? 1 : 0;
                images++;
            }
        }
        assertEquals(10000, images);
        assertEquals(0, differentTop1, "images whose top-1 differs");
        if (!method.equals("bwn")) {
            assertEquals(0, notBitEqual, "logits within rtol 1e-4 but not bit-equal");
        }
    }

    private static int argmax(float[] v, int off, int n) {
        int best = 0;
        for (int k = 1; k < n; k++) {
            if (v[off + k] > v[off + best]) {
                best = k;
            }
        }
        return best;
    }
}
