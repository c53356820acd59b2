package dev.onebit.cli;

import dev.onebit.runtime.kernels.Kernels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code onebit bench}: its JSON keys, exit codes and errors; never how fast anything is. */
class BenchCommandTest {

    @Test
    void jsonHasTheLatenciesAndTheSpeedup(@TempDir Path dir) {
        Path bnn = dir.resolve("vgg.bnn");
        Cli.Result c = Cli.run("convert", Cli.samples().resolve("vgg.onnx").toString(), "-o", bnn.toString(),
                "--method", "xnor");
        assertEquals(0, c.code(), c.err());
        int before = Kernels.threads();
        Cli.Result r = Cli.run("bench", bnn.toString(), "--against", Cli.samples().resolve("vgg.onnx").toString(),
                "--threads", "2", "--batch", "3", "--warmup", "1", "--runs", "3", "--json");
        assertEquals(0, r.code(), r.err());
        for (String key : new String[] {"\"latency_ms\":", "\"reference_latency_ms\":", "\"speedup\":",
                "\"latency_p10_ms\":", "\"latency_p90_ms\":", "\"threads\":2", "\"batch\":3"}) {
            assertTrue(r.out().contains(key), key + " missing from " + r.out());
        }
        assertEquals(before, Kernels.threads(), "--threads is put back after the command");
    }

    @Test
    void profileNamesEveryNodeAndTheBinaryLayers(@TempDir Path dir) {
        Path bnn = dir.resolve("vgg.bnn");
        Cli.Result c = Cli.run("convert", Cli.samples().resolve("vgg.onnx").toString(), "-o", bnn.toString(),
                "--method", "xnor", "--no-scale-activations");
        assertEquals(0, c.code(), c.err());
        Cli.Result r = Cli.run("bench", bnn.toString(), "--warmup", "0", "--runs", "3", "--profile", "--json");
        assertEquals(0, r.code(), r.err());
        String profile = r.out().substring(r.out().indexOf("\"profile\":"));
        // 19 scheduled nodes (the first conv's BN is folded into it), 15 of which (every
        // Binarize, the sign MaxPools, the Flatten, the convs feeding only a Binarize) hand
        // their output on packed.
        assertEquals(19, profile.split("\"name\":").length - 1, profile);
        assertTrue(profile.contains("\"packed_nodes\":15"), profile);
        assertTrue(profile.contains("\"BinaryConv\":") && profile.contains("\"BinaryMatMul\":"), profile);
        double total = SampleAccuracyTest.number(profile, "total_ms");
        double sum = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"ms\":([0-9.eE-]+)").matcher(profile);
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        assertEquals(total, sum, 1e-3 * 19 + 1e-9, "per-node times add up to the total");

        Cli.Result text = Cli.run("bench", bnn.toString(), "--warmup", "0", "--runs", "2", "--profile");
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains("slowest nodes") && text.out().contains("BinaryConv"), text.out());
    }

    @Test
    void withoutAgainstOnlyOursIsTimed() {
        // An ONNX model runs on onebit's float runtime; resnet's batch is fixed at 1.
        Cli.Result r = Cli.run("bench", Cli.samples().resolve("resnet.onnx").toString(), "--batch", "2",
                "--warmup", "0", "--runs", "2", "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"latency_ms\":"), r.out());
        assertFalse(r.out().contains("speedup"), r.out());
    }

    @Test
    void referenceWithFixedBatchRunsItemByItem(@TempDir Path dir) {
        Cli.Result r = Cli.run("bench", Cli.samples().resolve("plain.onnx").toString(), "--against",
                Cli.samples().resolve("resnet.onnx").toString(), "--batch", "2", "--warmup", "0", "--runs", "2");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("speed-up:"), r.out());
    }

    @Test
    void badOptionsAreOneLineAndExitCode2() {
        String vgg = Cli.samples().resolve("vgg.onnx").toString();
        Cli.Result r = Cli.run("bench", vgg, "--threads", "0");
        assertEquals(2, r.code());
        assertTrue(r.err().startsWith("onebit: --threads must be") && r.err().strip().lines().count() == 1, r.err());
        r = Cli.run("bench", vgg, "--runs", "0");
        assertEquals(2, r.code());
        r = Cli.run("bench", "no-such.bnn");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no-such.bnn"), r.err());
        r = Cli.run("bench", vgg, "--against", Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz").toString(),
                "--runs", "1", "--warmup", "0");
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }
}
