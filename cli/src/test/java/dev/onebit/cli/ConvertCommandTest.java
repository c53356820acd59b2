package dev.onebit.cli;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.onebit.binarizer.BatchNormFolding;
import dev.onebit.binarizer.BinarizeOptions;
import dev.onebit.binarizer.Binarizer;
import dev.onebit.binarizer.Calibration;
import dev.onebit.binarizer.Method;
import dev.onebit.bnn.BnnFile;
import dev.onebit.cli.data.Dataset;
import dev.onebit.ir.Graph;
import dev.onebit.onnx.OnnxImporter;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code onebit convert}, {@code verify}, {@code report}, {@code run} and {@code export} on the
 * VGG-style sample: sizes, the container's faithfulness to the in-memory binarized graph, the
 * exported ONNX in ONNX Runtime, and the error paths.
 */
class ConvertCommandTest {
    private static final String[] NORM = {"--mean", "0.2860", "--std", "0.3530"};
    @TempDir
    static Path dir;
    private static Path vggBnn;

    private static String sample(String name) {
        return Cli.samples().resolve(name).toString();
    }

    private static String test2k() {
        return sample("data/fashion-mnist-test2k-images-idx3-ubyte.gz");
    }

    private static String train1k() {
        return sample("data/fashion-mnist-train1k-images-idx3-ubyte.gz");
    }

    @BeforeAll
    static void convertVgg() {
        vggBnn = dir.resolve("vgg.bnn");
        Cli.Result r = Cli.run("convert", sample("vgg.onnx"), "-o", vggBnn.toString(), "--calib", train1k(),
                "--calib-limit", "300", NORM[0], NORM[1], NORM[2], NORM[3], "--json");
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isRegularFile(vggBnn));
    }

    /**
     * Sizes: binary tensors >= 31x smaller than float32 (they are 1 bit per weight, packed
     * without padding), and the whole container >= 22x smaller than vgg.onnx. The product goal
     * for the container is 28x; this sample cannot reach it with the default policy, because
     * the classifier and first conv it keeps in float32 (11.4 KB) plus the per-channel scales
     * alone exceed the 28x budget of 83.9 KB next to the 72.6 KB of sign bits. See the README.
     */
    @Test
    void vggContainerIsSmall() throws Exception {
        Cli.Result r = Cli.run("report", vggBnn.toString(), "--json");
        assertEquals(0, r.code(), r.err());
        double ratio = SampleAccuracyTest.number(r.out(), "ratio");
        double binaryRatio = SampleAccuracyTest.number(r.out(), "binary_tensor_ratio");
        assertTrue(ratio >= 22, "container only " + ratio + "x smaller than vgg.onnx");
        assertTrue(binaryRatio >= 31, "binary tensors only " + binaryRatio + "x smaller than float32");
        assertTrue(r.out().contains("\"bits_per_weight\""), r.out());
        assertEquals(Files.size(vggBnn), (long) SampleAccuracyTest.number(r.out(), "container_bytes"));
    }

    /** What was written is what was computed: loading gives bit-identical outputs. */
    @Test
    void loadedContainerIsBitIdenticalToTheInMemoryGraph() throws Exception {
        Graph source = OnnxImporter.read(Cli.samples().resolve("vgg.onnx"));
        Graph binarized = Binarizer.binarize(source, BinarizeOptions.of(Method.BWN)).graph();
        Dataset calib = Dataset.load(Path.of(train1k()), null, new float[] {0.286f}, new float[] {0.353f}, 300,
                new int[] {1, 28, 28});
        Graph calibrated = BatchNormFolding.apply(Calibration.calibrate(source, binarized, calib.batch(0, calib.count())));
        Dataset test = Dataset.load(Path.of(test2k()), null, new float[] {0.286f}, new float[] {0.353f}, 64,
                new int[] {1, 28, 28});
        Value x = test.batch(0, 64);
        Value inMemory = Executor.create(calibrated).run(Map.of("input", x)).get("logits");
        Graph loaded;
        try (BnnFile f = BnnFile.open(vggBnn)) {
            loaded = f.graph();
        }
        Value fromFile = Executor.create(loaded).run(Map.of("input", x)).get("logits");
        assertArrayEquals(inMemory.floats, fromFile.floats);
    }

    @Test
    void exportedOnnxAgreesWithRunInOnnxRuntime() throws Exception {
        Path sim = dir.resolve("vgg-sim.onnx");
        Cli.Result e = Cli.run("export", vggBnn.toString(), "-o", sim.toString());
        assertEquals(0, e.code(), e.err());
        Dataset test = Dataset.load(Path.of(test2k()), null, new float[] {0.286f}, new float[] {0.353f}, 16,
                new int[] {1, 28, 28});
        Path in = dir.resolve("x16.npy");
        Files.write(in, dev.onebit.cli.data.Npy.toBytes(test.batch(0, 16)));
        Path out = dir.resolve("y16.npy");
        Cli.Result r = Cli.run("run", vggBnn.toString(), "--input", in.toString(), "--output", out.toString());
        assertEquals(0, r.code(), r.err());
        float[] ours = dev.onebit.cli.data.Npy.read(out).floats;
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession s = env.createSession(sim.toString(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(test.batch(0, 16).floats), new long[] {16, 1, 28, 28});
             OrtSession.Result res = s.run(Map.of("input", t))) {
            FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
            float[] theirs = new float[fb.remaining()];
            fb.get(theirs);
            assertEquals(ours.length, theirs.length);
            for (int i = 0; i < ours.length; i++) {
                assertTrue(Math.abs(ours[i] - theirs[i]) <= 1e-5f + 1e-4f * Math.abs(theirs[i]),
                        "logit " + i + ": onebit " + ours[i] + ", ORT " + theirs[i]);
            }
        }
    }

    @Test
    void verifyReportsAndEnforcesTheDrop() {
        String[] common = {"verify", vggBnn.toString(), "--against", sample("vgg.onnx"), "--data", test2k(),
                "--limit", "300", "--layer-images", "50", "--json"};
        Cli.Result ok = Cli.run(concat(common, "--max-drop", "100"));
        assertEquals(0, ok.code(), ok.err());
        for (String key : new String[] {"reference_top1", "top1", "agreement"}) {
            double v = SampleAccuracyTest.number(ok.out(), key);
            assertTrue(v > 0.5 && v <= 1, key + " = " + v);
        }
        double cosine = SampleAccuracyTest.number(ok.out(), "cosine");
        assertTrue(cosine > 0.5 && cosine <= 1.0000001, "first binarized layer's cosine " + cosine);
        // Preprocessing recorded in the container is used when --mean/--std are not given.
        double drop = SampleAccuracyTest.number(ok.out(), "drop_points");
        if (drop > 0) {
            Cli.Result strict = Cli.run(concat(common, "--max-drop", String.valueOf(drop / 2)));
            assertEquals(1, strict.code(), strict.out() + strict.err());
            assertTrue(strict.err().contains("--max-drop"), strict.err());
        }
    }

    @Test
    void corruptContainersAreRefusedWithExitCode2(@TempDir Path tmp) throws Exception {
        byte[] good = Files.readAllBytes(vggBnn);
        Path bad = tmp.resolve("bad.bnn");
        for (int offset : new int[] {0, 9, 40, good.length / 3, good.length / 2, good.length - 1}) {
            byte[] b = good.clone();
            b[offset] ^= 0x5A;
            Files.write(bad, b);
            Cli.Result r = Cli.run("report", bad.toString());
            assertEquals(2, r.code(), "flipped byte at " + offset + " was accepted: " + r.out());
            assertFalse(r.err().strip().contains("\n"), r.err());
        }
        Files.write(bad, Arrays.copyOf(good, good.length - 100));
        Cli.Result r = Cli.run("report", bad.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("bad.bnn"), r.err());
    }

    @Test
    void badOptionsLeaveNoOutput(@TempDir Path tmp) {
        Path out = tmp.resolve("x.bnn");
        Cli.Result r = Cli.run("convert", sample("plain.onnx"), "-o", out.toString(), "--method", "ternary");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--method"), r.err());
        r = Cli.run("convert", sample("plain.onnx"), "-o", out.toString(), "--calib", tmp.resolve("nope").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("nope"), r.err());
        assertFalse(Files.exists(out));
    }

    /**
     * Calibration refits the bwn layers' signs unless told not to; the JSON names the layers
     * and the container's metadata says so. On plain with 300 calibration images the refit
     * changes top-1 on the test images (its effect on accuracy is AccuracyTest's business).
     */
    @Test
    void signRefitIsOnByDefaultAndCanBeTurnedOff(@TempDir Path tmp) {
        Path on = tmp.resolve("on.bnn");
        Path off = tmp.resolve("off.bnn");
        String[] common = {"--calib", train1k(), "--calib-limit", "300", "--data", test2k(), "--limit", "500",
            NORM[0], NORM[1], NORM[2], NORM[3], "--json"};
        Cli.Result r = Cli.run(concat(new String[] {"convert", sample("plain.onnx"), "-o", on.toString()}, common));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"sign_refit\":{\"/conv2/Conv\":") && r.out().contains("\"/fc1/Gemm\":"), r.out());
        Cli.Result n = Cli.run(concat(new String[] {"convert", sample("plain.onnx"), "-o", off.toString(),
            "--no-sign-refit"}, common));
        assertEquals(0, n.code(), n.err());
        assertTrue(n.out().contains("\"sign_refit\":{}"), n.out());
        assertNotEquals(SampleAccuracyTest.number(r.out(), "top1"), SampleAccuracyTest.number(n.out(), "top1"));
        Cli.Result report = Cli.run("report", on.toString());
        assertEquals(0, report.code(), report.err());
        assertTrue(report.out().contains("signs refitted in 2 layers"), report.out());
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
