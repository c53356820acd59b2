package dev.onebit.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gives exit code 2 and one line naming what is wrong, and never a half-written file. */
class ErrorHandlingTest {

    private static void assertOneLine(Cli.Result r, String mustContain) {
        assertEquals(2, r.code(), r.err());
        String err = r.err().strip();
        assertFalse(err.contains("\n"), "one line expected, got:\n" + err);
        assertFalse(err.contains("\tat "), "no stack trace expected:\n" + err);
        assertTrue(err.contains(mustContain), "'" + mustContain + "' expected in: " + err);
    }

    @Test
    void missingModelFile(@TempDir Path dir) {
        Path missing = dir.resolve("nope.onnx");
        assertOneLine(Cli.run("report", missing.toString()), "nope.onnx: no such file");
    }

    @Test
    void truncatedModelNamesTheFile(@TempDir Path dir) throws Exception {
        byte[] full = Files.readAllBytes(Cli.samples().resolve("plain.onnx"));
        Path cut = dir.resolve("cut.onnx");
        Files.write(cut, java.util.Arrays.copyOf(full, full.length / 3));
        assertOneLine(Cli.run("report", cut.toString()), "cut.onnx");
    }

    @Test
    void garbageModelNamesTheFile(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.onnx");
        Files.writeString(junk, "this is not a protobuf message at all, just text\n");
        assertOneLine(Cli.run("report", junk.toString()), "junk.onnx");
    }

    @Test
    void unknownOptionIsUsageError() {
        assertOneLine(Cli.run("report", "--no-such-flag", "x.onnx"), "--no-such-flag");
    }

    @Test
    void missingCommandIsUsageError() {
        assertEquals(2, Cli.run().code());
    }

    @Test
    void badInputTensorLeavesNoOutputFile(@TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.npy");
        Files.writeString(bad, "not numpy");
        Path out = dir.resolve("out.npy");
        Cli.Result r = Cli.run("run", Cli.samples().resolve("plain.onnx").toString(), "--input", bad.toString(),
                "--output", out.toString());
        assertOneLine(r, "bad.npy");
        assertFalse(Files.exists(out));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the input file should be in " + dir);
        }
    }

    @Test
    void wrongInputShapeNamesTheInput(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("small.npy");
        Files.write(in, dev.onebit.cli.data.Npy.toBytes(dev.onebit.runtime.Value.zeros(1, 1, 5, 5)));
        assertOneLine(Cli.run("run", Cli.samples().resolve("plain.onnx").toString(), "--input", in.toString()),
                "input");
    }

    @Test
    void verboseShowsTheStackTrace(@TempDir Path dir) {
        Cli.Result r = Cli.run("report", "--verbose", dir.resolve("nope.onnx").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void versionAndHelp() {
        Cli.Result v = Cli.run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("onebit "), v.out());
        Cli.Result h = Cli.run("--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("run") && h.out().contains("report"), h.out());
    }
}
