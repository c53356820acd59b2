package dev.onebit.cli;

import dev.onebit.cli.data.Dataset;
import dev.onebit.cli.data.Idx;
import dev.onebit.cli.data.Npy;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code onebit run} on the samples reproduces the logits PyTorch wrote for the first 16 test
 * images (samples/expected), through .npy in and out; the data loaders agree with each other.
 */
class RunCommandTest {
    private static final float[] MEAN = {0.2860f};
    private static final float[] STD = {0.3530f};

    private static Path testImages() {
        return Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz");
    }

    private static Value first16() throws Exception {
        return Dataset.load(testImages(), null, MEAN, STD, 16, new int[] {1, 28, 28}).batch(0, 16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "resnet", "vgg"})
    void logitsMatchPyTorch(String model, @TempDir Path dir) throws Exception {
        Path in = dir.resolve("x.npy");
        Files.write(in, Npy.toBytes(first16()));
        Path out = dir.resolve("logits.npy");
        // resnet.onnx has its batch fixed at 1: the runtime feeds it image by image.
        Cli.Result r = Cli.run("run", Cli.samples().resolve(model + ".onnx").toString(), "--input", "input=" + in,
                "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("logits float[16, 10]"), r.out());
        Value ours = Npy.read(out);
        Value torch = Npy.read(Cli.samples().resolve("expected/" + model + "-logits-first16.npy"));
        assertArrayEquals(torch.shape, ours.shape);
        for (int i = 0; i < ours.size(); i++) {
            float e = torch.floats[i];
            assertTrue(Math.abs(ours.floats[i] - e) <= 1e-4f + 1e-4f * Math.abs(e),
                    model + " logit " + i + ": ours " + ours.floats[i] + ", PyTorch " + e);
        }
    }

    @Test
    void secondUnnamedInputIsTooMany(@TempDir Path dir) throws Exception {
        Path in = dir.resolve("x.npy");
        Files.write(in, Npy.toBytes(first16()));
        Cli.Result r = Cli.run("run", Cli.samples().resolve("plain.onnx").toString(), "--input", in.toString(),
                "--input", in.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("too many --input"), r.err());
    }

    @Test
    void npyRoundTrip() throws Exception {
        Value v = first16();
        Path tmp = Files.createTempFile("onebit", ".npy");
        try {
            Files.write(tmp, Npy.toBytes(v));
            Value back = Npy.read(tmp);
            assertArrayEquals(v.shape, back.shape);
            assertArrayEquals(v.floats, back.floats);
        } finally {
            Files.delete(tmp);
        }
    }

    /** The same 30 test images as PNG files in class folders score exactly as the IDX file does. */
    @Test
    void imageFolderAgreesWithIdx(@TempDir Path dir) throws Exception {
        int n = 30;
        Idx.Array images = Idx.read(testImages());
        Idx.Array labels = Idx.read(Idx.labelsBeside(testImages()));
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    int p = images.get(i * 784 + y * 28 + x);
                    img.getRaster().setSample(x, y, 0, p);
                }
            }
            // Zero-padded label folder names sort as the labels do.
            Path classDir = Files.createDirectories(dir.resolve(String.format("class%02d", labels.get(i))));
            ImageIO.write(img, "png", classDir.resolve(String.format("img%03d.png", i)).toFile());
        }
        // Every class must have a folder for folder labels to equal IDX labels.
        for (int c = 0; c < 10; c++) {
            Files.createDirectories(dir.resolve(String.format("class%02d", c)));
        }
        String model = Cli.samples().resolve("vgg.onnx").toString();
        Cli.Result folder = Cli.run("report", model, "--data", dir.toString(), "--mean", "0.2860", "--std", "0.3530",
                "--json");
        Cli.Result idx = Cli.run("report", model, "--data", testImages().toString(), "--mean", "0.2860", "--std",
                "0.3530", "--limit", String.valueOf(n), "--json");
        assertEquals(0, folder.code(), folder.err());
        assertEquals(0, idx.code(), idx.err());
        assertEquals(n, (int) SampleAccuracyTest.number(folder.out(), "count"));
        assertEquals(SampleAccuracyTest.number(idx.out(), "correct"), SampleAccuracyTest.number(folder.out(), "correct"));
    }
}
