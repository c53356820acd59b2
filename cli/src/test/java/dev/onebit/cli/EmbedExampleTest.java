package dev.onebit.cli;

import com.github.luben.zstd.Zstd;
import dev.onebit.Model;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * samples/embed/Classify.java runs in a fresh JVM whose class path is the runtime and zstd-jni
 * and nothing else (no protobuf, picocli, Guava, ONNX Runtime), and predicts what the
 * in-process {@link Model} predicts.
 *
 * <p>The two class path entries are where this test's own JVM loaded {@link Model} and
 * {@link Zstd} from: the runtime jar (or its classes folder) that Maven resolved for this build,
 * and zstd-jni from the local repository. So the test needs no paths of its own and works on a
 * fresh clone, whichever way Maven runs the modules.
 */
class EmbedExampleTest {
    private static final Pattern LINE = Pattern.compile("image (\\d+): class (\\d+) ");

    @Test
    void classifyRunsOnTheRuntimeJarAlone(@TempDir Path dir) throws Exception {
        Path bnn = dir.resolve("vgg.bnn");
        Cli.Result c = Cli.run("convert", Cli.samples().resolve("vgg.onnx").toString(), "-o", bnn.toString(),
                "--mean", "0.2860", "--std", "0.3530");
        assertEquals(0, c.code(), c.err());
        Path images = Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz");
        Path source = Cli.samples().resolve("embed/Classify.java");

        String runtime = location(Model.class);
        String zstd = location(Zstd.class);
        for (String banned : List.of("protobuf", "picocli", "guava", "onnxruntime", "onebit-cli", "onnx-import")) {
            assertFalse((runtime + zstd).contains(banned), banned + " on the class path: " + runtime + ", " + zstd);
        }
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", runtime + File.pathSeparator + zstd,
                source.toString(), bnn.toString(), images.toString(), "12"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
        p.getOutputStream().close();
        byte[] err = p.getErrorStream().readAllBytes();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "Classify did not finish");
        assertEquals(0, p.exitValue(), "Classify failed: " + out + new String(err, StandardCharsets.UTF_8));

        int[] expected = predictions(bnn, images);
        Matcher m = LINE.matcher(out);
        int seen = 0;
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            assertEquals(expected[i], Integer.parseInt(m.group(2)), "image " + i + " in:\n" + out);
            seen++;
        }
        assertEquals(12, seen, out);
        assertTrue(out.contains(" of 12 correct"), out);
    }

    /** The classes the in-process model gives the first 12 images, normalised as Classify does. */
    private static int[] predictions(Path bnn, Path images) throws Exception {
        try (Model model = Model.load(bnn)) {
            float[][] logits = model.run(split(model, images));
            int[] best = new int[logits.length];
            for (int i = 0; i < logits.length; i++) {
                for (int k = 1; k < logits[i].length; k++) {
                    if (logits[i][k] > logits[i][best[i]]) {
                        best[i] = k;
                    }
                }
            }
            return best;
        }
    }

    /** The first 12 images as separate items, normalised with the model's recorded mean and std. */
    private static float[][] split(Model model, Path images) throws Exception {
        float[] all = dev.onebit.cli.data.Dataset.load(images, null, model.mean(), model.std(), 12, model.inputShape())
                .batch(0, 12).floats;
        float[][] x = new float[12][];
        for (int i = 0; i < 12; i++) {
            x[i] = java.util.Arrays.copyOfRange(all, i * model.inputSize(), (i + 1) * model.inputSize());
        }
        return x;
    }

    private static String location(Class<?> c) throws Exception {
        Path p = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        assertTrue(Files.exists(p), p.toString());
        return p.toString();
    }
}
