package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.NODE_TESTS;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every backend node test model either converts (and then survives an export round trip) or is
 * refused with a one-line ModelException: no other exception escapes the importer.
 */
class BackendModelsConvertTest {
    @Test
    void everyBackendModelConvertsOrIsRefusedCleanly() throws Exception {
        assumeTrue(Files.isDirectory(NODE_TESTS), "no ONNX backend test data");
        List<Path> models;
        try (Stream<Path> s = Files.list(NODE_TESTS)) {
            models = s.map(d -> d.resolve("model.onnx")).filter(Files::isRegularFile).sorted().toList();
        }
        int converted = 0;
        List<String> unexpected = new ArrayList<>();
        for (Path m : models) {
            String name = m.getParent().getFileName().toString();
            Graph g;
            try {
                g = OnnxImporter.load(ByteBuffer.wrap(Files.readAllBytes(m)), name, m.getParent());
            } catch (ModelException e) {
                assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
                assertFalse(e.getMessage().contains("\n"), e.getMessage());
                continue;
            } catch (RuntimeException e) {
                unexpected.add(name + ": " + e);
                continue;
            }
            Graph back = OnnxImporter.load(ByteBuffer.wrap(OnnxExporter.toBytes(g)), name, null);
            OnnxExporterTest.assertSameGraph(g, back);
            converted++;
        }
        assertTrue(unexpected.isEmpty(), String.join("\n", unexpected));
        assertTrue(converted > models.size() / 2, converted + " of " + models.size() + " converted");
    }
}
