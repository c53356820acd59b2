package dev.onebit.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code onebit report --data} on every sample gives the float top-1 that PyTorch measured
 * (recorded in samples/models.json by the training script), to within 0.05 points, on the
 * full Fashion-MNIST test set and exactly on the bundled 2,000-image subset.
 */
class SampleAccuracyTest {
    private static final String[] NORMALIZE = {"--mean", "0.2860", "--std", "0.3530"};

    @ParameterizedTest
    @ValueSource(strings = {"plain", "resnet", "vgg"})
    void fullTestSetMatchesPyTorch(String model) throws Exception {
        Cli.Result r = Cli.run("report", Cli.samples().resolve(model + ".onnx").toString(),
                "--data", Cli.fullTestImages().toString(), NORMALIZE[0], NORMALIZE[1], NORMALIZE[2], NORMALIZE[3],
                "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals(10000, (int) number(r.out(), "count"));
        double expected = recorded(model, "float_top1_full_test");
        double top1 = number(r.out(), "top1");
        assertTrue(Math.abs(top1 - expected) <= 0.0005, model + ": top-1 " + top1 + ", PyTorch " + expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "resnet", "vgg"})
    void bundledSubsetMatchesPyTorchExactly(String model) throws Exception {
        Cli.Result r = Cli.run("report", Cli.samples().resolve(model + ".onnx").toString(),
                "--data", Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz").toString(),
                NORMALIZE[0], NORMALIZE[1], NORMALIZE[2], NORMALIZE[3], "--json");
        assertEquals(0, r.code(), r.err());
        assertEquals(2000, (int) number(r.out(), "count"));
        assertEquals((int) recorded(model, "correct_test2k"), (int) number(r.out(), "correct"), model);
        assertTrue(r.out().contains("\"layers\":["), "layer list under 'layers'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "vgg"})
    void limitTakesTheFirstImages(String model) {
        Cli.Result r = Cli.run("report", Cli.samples().resolve(model + ".onnx").toString(),
                "--data", Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz").toString(),
                NORMALIZE[0], NORMALIZE[1], NORMALIZE[2], NORMALIZE[3], "--limit", "250");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("/ 250 images"), r.out());
    }

    /** A number from samples/models.json, for the model of that name. */
    static double recorded(String model, String key) throws Exception {
        String json = Files.readString(Cli.samples().resolve("models.json"));
        int at = json.indexOf("\"name\": \"" + model + "\"");
        assertTrue(at >= 0, model + " not in models.json");
        return number(json.substring(at), key);
    }

    /** The first number under {@code key} in a JSON text. */
    static double number(String json, String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(-?[0-9.eE+-]+)").matcher(json);
        assertTrue(m.find(), key + " not in " + (json.length() > 300 ? json.substring(0, 300) + "..." : json));
        return Double.parseDouble(m.group(1));
    }
}
