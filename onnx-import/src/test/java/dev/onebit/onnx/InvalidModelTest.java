package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.floatProto;
import static dev.onebit.onnx.GraphFixtures.model;
import static dev.onebit.onnx.GraphFixtures.nodeProto;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onebit.ir.ModelException;
import dev.onebit.onnx.proto.OnnxProto.AttributeProto;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.ModelProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every way a model can be wrong gives one line naming the file and the culprit. */
class InvalidModelTest {
    @TempDir
    Path dir;

    private ModelException readFile(String name, byte[] bytes) throws Exception {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        ModelException e = assertThrows(ModelException.class, () -> OnnxImporter.read(f));
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    private static ModelException readBytes(ModelProto m) {
        ModelException e = assertThrows(ModelException.class, () -> OnnxImporter.read(m.toByteArray(), "bad.onnx", null));
        assertTrue(e.getMessage().startsWith("bad.onnx: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @Test
    void truncatedFile() throws Exception {
        byte[] full = GraphFixtures.nodeTestModel("test_conv_with_strides_padding");
        ModelException e = readFile("cut.onnx", Arrays.copyOf(full, full.length / 2));
        assertTrue(e.getMessage().contains("not a valid ONNX model: the file is truncated"), e.getMessage());
    }

    @Test
    void randomBytes() throws Exception {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        ModelException e = readFile("noise.onnx", noise);
        assertTrue(e.getMessage().contains("not a valid ONNX model"), e.getMessage());
    }

    @Test
    void textFile() throws Exception {
        ModelException e = readFile("readme.onnx", "This is not a model, just some text.\n".getBytes());
        assertTrue(e.getMessage().contains("not a valid ONNX model"), e.getMessage());
    }

    @Test
    void emptyFile() throws Exception {
        ModelException e = readFile("empty.onnx", new byte[0]);
        assertTrue(e.getMessage().endsWith("not a valid ONNX model: the file is empty"), e.getMessage());
    }

    @Test
    void missingFile() {
        Path f = dir.resolve("nothing.onnx");
        ModelException e = assertThrows(ModelException.class, () -> OnnxImporter.read(f));
        assertTrue(e.getMessage().contains("nothing.onnx: no such file"), e.getMessage());
    }

    @Test
    void everyUnsupportedNodeInOneMessage() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("y", 4))
                .addNode(nodeProto("first", "FrobnicateOp", List.of("x"), List.of("a")))
                .addNode(nodeProto("second", "WibbleOp", List.of("a"), List.of("y")));
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("2 unsupported nodes"), m);
        assertTrue(m.contains("first (FrobnicateOp"), m);
        assertTrue(m.contains("second (WibbleOp"), m);
    }

    @Test
    void cycle() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("y", 4))
                .addNode(nodeProto("a", "Add", List.of("x", "y"), List.of("s")))
                .addNode(nodeProto("b", "Relu", List.of("s"), List.of("y")));
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("cycle") && m.contains("a") && m.contains("b"), m);
    }

    @Test
    void danglingInput() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("y", 4))
                .addNode(nodeProto("add", "Add", List.of("x", "ghost"), List.of("y")));
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("node 'add' (Add) reads 'ghost'"), m);
    }

    @Test
    void duplicateOutput() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("y", 4))
                .addNode(nodeProto("r1", "Relu", List.of("x"), List.of("y")))
                .addNode(nodeProto("r2", "Relu", List.of("x"), List.of("y")));
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("'y' is produced twice") && m.contains("r1") && m.contains("r2"), m);
    }

    @Test
    void missingGraphOutput() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("z", 4))
                .addNode(nodeProto("r1", "Relu", List.of("x"), List.of("y")));
        assertTrue(readBytes(model(13, g)).getMessage().contains("graph output 'z'"));
    }

    @Test
    void opsetOutOfRange() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 4)).addOutput(floatProto("y", 4))
                .addNode(nodeProto("r", "Relu", List.of("x"), List.of("y")));
        String low = readBytes(model(6, g)).getMessage();
        assertTrue(low.contains("opset 6 is not supported") && low.contains("7 to 21"), low);
        String high = readBytes(model(22, g)).getMessage();
        assertTrue(high.contains("opset 22 is not supported"), high);
        ModelProto none = model(13, g).toBuilder().clearOpsetImport().build();
        assertTrue(readBytes(none).getMessage().contains("imports no opset"));
    }

    @Test
    void noGraph() {
        ModelProto m = ModelProto.newBuilder().setIrVersion(8).build();
        assertTrue(readBytes(m).getMessage().contains("not a valid ONNX model: it has no graph"));
    }

    @Test
    void graphAttributeNamesTheNode() {
        NodeProto iff = NodeProto.newBuilder().setName("branch").setOpType("If").addInput("c").addOutput("y")
                .addAttribute(AttributeProto.newBuilder().setName("then_branch")
                        .setType(AttributeProto.AttributeType.GRAPH).setG(GraphProto.newBuilder().setName("t")))
                .build();
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("c", 1)).addOutput(floatProto("y", 1)).addNode(iff);
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("node 'branch' (If): attribute 'then_branch' is a subgraph"), m);
    }

    @Test
    void unsupportedInputType() {
        var x = floatProto("x", 2).toBuilder();
        x.getTypeBuilder().getTensorTypeBuilder().setElemType(8);
        GraphProto.Builder g = GraphProto.newBuilder().addInput(x).addOutput(floatProto("y", 2))
                .addNode(nodeProto("r", "Relu", List.of("x"), List.of("y")));
        String m = readBytes(model(13, g)).getMessage();
        assertTrue(m.contains("graph input 'x' has element type STRING"), m);
    }
}
