package dev.onebit.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.passes.ConstantFolding;
import dev.onebit.runtime.OpRegistry;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** The PyTorch-exported sample models in samples/ import into clean graphs. */
class SampleModelsTest {
    private static final Path SAMPLES = Path.of("..", "samples");
    private static final Set<String> SHAPE_PLUMBING = Set.of("Shape", "Gather", "Unsqueeze", "Concat", "Constant");

    @TestFactory
    Stream<DynamicTest> everySampleImports() throws Exception {
        assumeTrue(Files.isDirectory(SAMPLES), "no samples folder");
        List<Path> models;
        try (Stream<Path> s = Files.list(SAMPLES)) {
            models = s.filter(p -> p.toString().endsWith(".onnx")).sorted().toList();
        }
        assumeTrue(!models.isEmpty(), "no sample models yet");
        return models.stream().map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> check(p)));
    }

    private static void check(Path model) throws Exception {
        Graph raw = OnnxImporter.load(ByteBuffer.wrap(Files.readAllBytes(model)), model.toString(),
                model.toAbsolutePath().getParent());
        List<Node> missing = OpRegistry.standard().unsupported(ConstantFolding.apply(raw));
        assumeTrue(missing.isEmpty(), () -> "kernels missing for " + missing.stream().map(Node::opType).distinct().toList());

        Graph g = OnnxImporter.read(model);
        for (Node n : g.nodes()) {
            assertFalse(SHAPE_PLUMBING.contains(n.opType()), model + " still has " + n.describe());
        }
        assertEquals(1, g.inputs().size());
        ValueInfo in = g.inputs().get(0);
        assertEquals(4, in.shape().rank());
        ValueInfo out = g.outputs().get(0);
        assertEquals(2, out.shape().rank());
        assertEquals(in.shape().dim(0).isFixed(), out.shape().dim(0).isFixed(), "batch carries through");
        if (!in.shape().dim(0).isFixed()) {
            assertEquals(Dim.symbol(in.shape().dim(0).symbol()), out.shape().dim(0));
        }
        for (Node n : g.nodes()) {
            for (String v : n.outputs()) {
                assertTrue(v.isEmpty() || g.valueInfo().containsKey(v), "shape inference covers " + v);
            }
        }
        assertTrue(g.initializers().size() >= 2, "weights are initializers");
        OnnxExporterTest.assertSameGraph(g, OnnxImporter.read(OnnxExporter.toBytes(g), "again.onnx", null));
    }
}
