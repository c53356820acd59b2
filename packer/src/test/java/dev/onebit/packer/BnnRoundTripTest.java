package dev.onebit.packer;

import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnLayout;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Graphs written with {@link BnnWriter} and opened with {@link BnnFile} come back unchanged. */
class BnnRoundTripTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @ValueSource(strings = {"plain.onnx", "resnet.onnx", "vgg.onnx"})
    void sampleModelsRoundTrip(String model) throws Exception {
        Graph graph = Fixtures.sample(model);
        Path file = dir.resolve(model.replace(".onnx", ".bnn"));
        Map<String, String> meta = Map.of("source", model);
        BnnWriter.Summary summary = BnnWriter.write(file, graph, meta);
        try (BnnFile bnn = BnnFile.open(file)) {
            Fixtures.assertSameGraph(graph, bnn.graph());
            assertEquals(meta, bnn.metadata());
            assertEquals(summary.sections(), bnn.sections());
            assertEquals(Files.size(file), summary.fileBytes());
            // A symbolic batch is fed 3 images, a fixed batch of 1 is fed image by image.
            Fixtures.assertSameOutputs(graph, bnn.graph(), Fixtures.randomInputs(graph, 3, 11));
            for (BnnFile.Section s : bnn.sections()) {
                assertEquals(0, s.offset() % BnnLayout.ALIGNMENT, s.name());
            }
            long onnx = Files.size(Fixtures.SAMPLES.resolve(model));
            System.out.printf("%s: onnx %,d bytes, bnn %,d bytes (%.3f), tensors stored %,d bytes, %d of %d sections zstd%n",
                    model, onnx, summary.fileBytes(), summary.fileBytes() / (double) onnx, summary.tensorBytes(),
                    bnn.sections().stream().filter(s -> s.codec() == BnnLayout.CODEC_ZSTD).count(), bnn.sections().size());
        }
    }

    @Test
    void bitTensorsTakeOneBitPerWeightAndStayMapped() throws Exception {
        Graph graph = Fixtures.binaryGraph();
        Path file = dir.resolve("binary.bnn");
        BnnWriter.write(file, graph, Map.of());
        try (BnnFile bnn = BnnFile.open(file)) {
            Fixtures.assertSameGraph(graph, bnn.graph());
            Fixtures.assertSameOutputs(graph, bnn.graph(), Fixtures.randomInputs(graph, 4, 3));
            Map<String, BnnFile.Section> byName = sectionsByInitializer(bnn);
            for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
                Tensor t = e.getValue();
                BnnFile.Section s = byName.get(e.getKey());
                Tensor loaded = bnn.graph().initializer(e.getKey());
                if (t.type() == DataType.BIT) {
                    assertEquals((t.size() + 7) / 8, s.storedLength(), e.getKey());
                    assertEquals(BnnLayout.CODEC_NONE, s.codec(), e.getKey());
                }
                // Uncompressed tensors are views of the mapped file, not copies.
                assertEquals(s.codec() == BnnLayout.CODEC_NONE, loaded.bytes().isDirect(), e.getKey());
            }
            assertEquals(160, byName.get("B1").storedLength());
            assertEquals(2, byName.get("B2").storedLength());
            assertEquals(BnnLayout.CODEC_ZSTD, byName.get("W").codec(), "the patterned float weights compress");
        }
    }

    @Test
    void bitTensorIsThirtyTwoTimesSmallerThanFloat() throws Exception {
        float[] w = new float[64 * 3 * 3 * 3];
        java.util.Random random = new java.util.Random(5);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) random.nextGaussian(); // like trained weights: little for zstd to find
        }
        int[] shape = {64, 3, 3, 3};
        Graph floats = Graph.builder("f").opset("", 17).initializer("w", Tensor.ofFloats(shape, w)).build();
        Graph bits = Graph.builder("b").opset("", 17).initializer("w", Tensor.ofSigns(shape, w)).build();
        BnnFile.Section f = section(BnnWriter.write(dir.resolve("f.bnn"), floats, Map.of()), "w");
        BnnFile.Section b = section(BnnWriter.write(dir.resolve("b.bnn"), bits, Map.of()), "w");
        assertEquals(w.length * 4L, f.rawLength());
        assertTrue(f.storedLength() > f.rawLength() * 0.85, "gaussian floats barely compress: " + f);
        assertEquals(w.length / 8L, b.storedLength());
        assertEquals(b.storedLength(), b.rawLength());
        assertEquals(32, f.rawLength() / b.storedLength());
    }

    @Test
    void metadataAndOddValuesRoundTrip() throws Exception {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("method", "xnor");
        meta.put("empty", "");
        meta.put("labels", "[\"T-shirt/top\", \"Trouser\", \"Ankle boot\"]");
        meta.put("ünïcödé ✓ 𝔘", "line 1\nline 2\u0000end");
        Graph graph = Fixtures.binaryGraph();
        Path file = dir.resolve("meta.bnn");
        BnnWriter.write(file, graph, meta);
        try (BnnFile bnn = BnnFile.open(file)) {
            assertEquals(List.copyOf(meta.entrySet()), List.copyOf(bnn.metadata().entrySet()), "entries in order");
            assertEquals(1, bnn.versionMajor());
        }
    }

    @Test
    void emptyGraphAndEmptyTensorRoundTrip() throws Exception {
        Graph graph = Graph.builder("").initializer("none", Tensor.ofFloats(new int[] {0, 4}, new float[0]))
                .initializer("bit0", Tensor.ofSigns(new int[] {0}, new float[0])).build();
        Path file = dir.resolve("empty.bnn");
        BnnWriter.write(file, graph, Map.of());
        try (BnnFile bnn = BnnFile.open(file)) {
            Fixtures.assertSameGraph(graph, bnn.graph());
            assertTrue(bnn.metadata().isEmpty());
        }
    }

    @Test
    void closedFileRefusesAccessButTensorsStayValid() throws Exception {
        Path file = dir.resolve("c.bnn");
        BnnWriter.write(file, Fixtures.binaryGraph(), Map.of());
        BnnFile bnn = BnnFile.open(file);
        Tensor b1 = bnn.graph().initializer("B1");
        bnn.close();
        assertFalse(bnn.sections().isEmpty());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, bnn::graph);
        assertEquals(Fixtures.binaryGraph().initializer("B1"), b1);
    }

    private static Map<String, BnnFile.Section> sectionsByInitializer(BnnFile bnn) {
        Map<String, BnnFile.Section> out = new LinkedHashMap<>();
        for (BnnFile.Section s : bnn.sections()) {
            if (s.kind() == BnnLayout.KIND_TENSOR) {
                out.put(s.name().substring(s.name().indexOf('(') + 1, s.name().length() - 1), s);
            }
        }
        return out;
    }

    private static BnnFile.Section section(BnnWriter.Summary summary, String initializer) {
        return summary.sections().stream().filter(s -> s.name().endsWith("(" + initializer + ")")).findFirst()
                .orElseThrow();
    }
}
