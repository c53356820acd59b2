package dev.onebit.cli;

import dev.onebit.Model;
import dev.onebit.bnn.BnnFile;
import dev.onebit.cli.data.Dataset;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Kernels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedding API ({@link Model}) on the VGG sample converted by the CLI (xnor and bwn):
 * the same outputs as the executor, bit for bit, one item, batches and buffers alike, from
 * many threads at once; clear errors for closed models and wrong inputs.
 */
class ModelTest {
    private static final int ITEMS = 16;
    private static final int ITEM = 28 * 28;

    @TempDir
    static Path dir;
    static float[] images;

    @BeforeAll
    static void convert() throws Exception {
        for (String method : List.of("xnor", "bwn")) {
            Cli.Result r = Cli.run("convert", Cli.samples().resolve("vgg.onnx").toString(), "-o", bnn(method).toString(),
                    "--method", method, "--mean", "0.2860", "--std", "0.3530");
            assertEquals(0, r.code(), r.err());
        }
        images = Dataset.load(Cli.samples().resolve("data/fashion-mnist-test2k-images-idx3-ubyte.gz"), null,
                new float[] {0.2860f}, new float[] {0.3530f}, ITEMS, new int[] {1, 28, 28}).batch(0, ITEMS).floats;
    }

    private static Path bnn(String method) {
        return dir.resolve("vgg-" + method + ".bnn");
    }

    private static float[] item(int i) {
        return Arrays.copyOfRange(images, i * ITEM, (i + 1) * ITEM);
    }

    @ParameterizedTest
    @ValueSource(strings = {"xnor", "bwn"})
    void sameOutputAsTheExecutorBitForBit(String method) throws Exception {
        try (Model model = Model.load(bnn(method)); BnnFile file = BnnFile.open(bnn(method))) {
            Executor ex = Executor.create(file.graph());
            for (int i = 0; i < ITEMS; i++) {
                Value in = Value.ofFloats(new int[] {1, 1, 28, 28}, item(i));
                float[] expected = ex.run(Map.of("input", in)).get("logits").floats;
                assertArrayEquals(expected, model.run(item(i)), method + " image " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"xnor", "bwn"})
    void batchesAndBuffersEqualSingleItems(String method) throws Exception {
        try (Model model = Model.load(bnn(method))) {
            float[] batch = model.runBatch(images, ITEMS);
            float[][] items = new float[ITEMS][];
            for (int i = 0; i < ITEMS; i++) {
                items[i] = item(i);
            }
            float[][] perItem = model.run(items);
            FloatBuffer buf = FloatBuffer.wrap(images);
            for (int i = 0; i < ITEMS; i++) {
                float[] single = model.run(item(i));
                // A batch goes through the float layers (first conv, classifier) as one GEMM, whose
                // summation order may depend on the row count: equal up to rounding, same class.
                assertClose(single, Arrays.copyOfRange(batch, i * 10, (i + 1) * 10), "runBatch, image " + i);
                assertArrayEquals(perItem[i], Arrays.copyOfRange(batch, i * 10, (i + 1) * 10), "run(float[][]) is runBatch");
                buf.position(i * ITEM).limit((i + 1) * ITEM);
                assertArrayEquals(single, model.run(buf), "run(FloatBuffer), image " + i);
                assertEquals(i * ITEM, buf.position(), "the buffer's position is left alone");
            }
            assertEquals(0, model.run(new float[0][]).length);
        }
    }

    private static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        float scale = 0;
        int bestE = 0;
        int bestA = 0;
        for (int k = 0; k < expected.length; k++) {
            scale = Math.max(scale, Math.abs(expected[k]));
            bestE = expected[k] > expected[bestE] ? k : bestE;
            bestA = actual[k] > actual[bestA] ? k : bestA;
        }
        for (int k = 0; k < expected.length; k++) {
            assertEquals(expected[k], actual[k], 1e-5f * scale, what + ", element " + k);
        }
        assertEquals(bestE, bestA, what + ": predicted class");
    }

    @Test
    void describesItsInputOutputAndMetadata() throws Exception {
        try (Model model = Model.load(bnn("xnor"))) {
            assertEquals("input", model.inputName());
            assertArrayEquals(new int[] {1, 28, 28}, model.inputShape());
            assertEquals(ITEM, model.inputSize());
            assertEquals("logits", model.outputName());
            assertEquals(List.of("logits"), model.outputNames());
            assertArrayEquals(new int[] {10}, model.outputShape());
            assertArrayEquals(new float[] {0.286f}, model.mean());
            assertArrayEquals(new float[] {0.353f}, model.std());
            assertEquals(List.of(), model.classLabels(), "IDX data has no class names to record");
            assertTrue(model.metadata().get("onebit.method").startsWith("xnor"), model.metadata().toString());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void oneModelSharedByEightThreadsGivesIdenticalResults(int kernelThreads) throws Exception {
        float[][] expected = new float[ITEMS][];
        try (Model single = Model.load(bnn("xnor"))) {
            for (int i = 0; i < ITEMS; i++) {
                expected[i] = single.run(item(i));
            }
        }
        // With 2 kernel threads, the callers also share the kernel pool and its hand-offs.
        int previous = Kernels.threads();
        Kernels.setThreads(kernelThreads);
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (Model model = Model.load(bnn("xnor"))) {
            List<Future<?>> jobs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                jobs.add(pool.submit(() -> {
                    for (int k = 0; k < 60; k++) {
                        int i = (seed * 7 + k) % ITEMS;
                        if (k % 5 == 0) {
                            int j = (i + 1) % ITEMS;
                            float[] two = new float[2 * ITEM];
                            System.arraycopy(images, i * ITEM, two, 0, ITEM);
                            System.arraycopy(images, j * ITEM, two, ITEM, ITEM);
                            float[] b = model.runBatch(two, 2);
                            assertArrayEquals(expected[i], Arrays.copyOf(b, 10), "thread " + seed + " call " + k);
                            assertArrayEquals(expected[j], Arrays.copyOfRange(b, 10, 20), "thread " + seed + " call " + k);
                        } else {
                            assertArrayEquals(expected[i], model.run(item(i)), "thread " + seed + " call " + k);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
            // Callers that are fork/join workers themselves (a parallel stream) must not disturb each other either.
            IntStream.range(0, 200).parallel().forEach(k ->
                    assertArrayEquals(expected[k % ITEMS], model.run(item(k % ITEMS)), "parallel stream call " + k));
        } finally {
            pool.shutdownNow();
            Kernels.setThreads(previous);
        }
    }

    @Test
    void callsAfterCloseThrowIllegalState() throws Exception {
        Model model = Model.load(bnn("bwn"));
        model.run(item(0));
        model.close();
        assertTrue(model.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.run(item(0)));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> model.runBatch(images, ITEMS));
        assertThrows(IllegalStateException.class, () -> model.run(new float[][] {item(0)}));
        assertThrows(IllegalStateException.class, () -> model.run(FloatBuffer.wrap(item(0))));
        model.close();
        assertArrayEquals(new int[] {1, 28, 28}, model.inputShape(), "accessors still answer");
    }

    @Test
    void wrongInputLengthNamesTheExpectedShape() throws Exception {
        try (Model model = Model.load(bnn("xnor"))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.run(new float[100]));
            assertTrue(e.getMessage().contains("[1, 28, 28]") && e.getMessage().contains("784")
                    && e.getMessage().contains("got 100"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.runBatch(images, ITEMS - 1));
            assertTrue(e.getMessage().contains("[1, 28, 28]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> model.run(new float[][] {item(0), new float[3]}));
            assertTrue(e.getMessage().startsWith("item 1:"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> model.runBatch(new float[0], 0));
            assertThrows(IllegalArgumentException.class, () -> model.run(FloatBuffer.wrap(images)));
        }
    }

    @Test
    void aFileThatIsNotAContainerIsRefusedNamingIt() {
        Exception e = assertThrows(dev.onebit.ir.ModelException.class, () -> Model.load(Cli.samples().resolve("vgg.onnx")));
        assertTrue(e.getMessage().contains("vgg.onnx"), e.getMessage());
    }
}
