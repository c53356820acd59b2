package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.floatProto;
import static dev.onebit.onnx.GraphFixtures.model;
import static dev.onebit.onnx.GraphFixtures.nodeProto;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensors stored in side files, and the confinement of those files to the model's folder. */
class ExternalDataTest {
    @TempDir
    Path root;

    private static TensorProto external(String location, String offset, String length) {
        TensorProto.Builder t = TensorProto.newBuilder().setName("w").setDataType(1).addDims(2).addDims(2)
                .setDataLocation(TensorProto.DataLocation.EXTERNAL)
                .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location));
        if (offset != null) {
            t.addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(offset));
        }
        if (length != null) {
            t.addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(length));
        }
        return t.build();
    }

    private static byte[] modelWith(TensorProto w) {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 2, 2)).addOutput(floatProto("y", 2, 2))
                .addInitializer(w).addNode(nodeProto("add", "Add", List.of("x", "w"), List.of("y")));
        return model(13, g).toByteArray();
    }

    private static void writeFloats(Path f, int padding, float... v) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(padding + 4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.position(padding);
        for (float x : v) {
            b.putFloat(x);
        }
        Files.write(f, b.array());
    }

    private Graph load(Path modelDir, TensorProto w) {
        return OnnxImporter.load(ByteBuffer.wrap(modelWith(w)), "ext.onnx", modelDir);
    }

    @Test
    void tensorIsReadFromSideFileAtOffset() throws Exception {
        writeFloats(root.resolve("weights.bin"), 8, 1, 2, 3, 4);
        Graph g = load(root, external("weights.bin", "8", "16"));
        assertArrayEquals(new float[] {1, 2, 3, 4}, g.initializer("w").toFloatArray());
    }

    @Test
    void subfolderAndMissingLength() throws Exception {
        Files.createDirectories(root.resolve("data"));
        writeFloats(root.resolve("data/w.bin"), 0, 5, 6, 7, 8);
        Graph g = load(root, external("data/w.bin", null, null));
        assertArrayEquals(new float[] {5, 6, 7, 8}, g.initializer("w").toFloatArray());
    }

    @Test
    void fullReadResolvesAgainstTheModelFolder() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(GraphFixtures.kernelsFor(13, "Add"), "Add kernel missing");
        Path inner = Files.createDirectories(root.resolve("model"));
        writeFloats(inner.resolve("weights.bin"), 0, 1, 2, 3, 4);
        Path model = inner.resolve("m.onnx");
        Files.write(model, modelWith(external("weights.bin", null, "16")));
        Graph g = OnnxImporter.read(model);
        assertArrayEquals(new float[] {1, 2, 3, 4}, g.initializer("w").toFloatArray());
    }

    private String refused(Path modelDir, TensorProto w) {
        ModelException e = assertThrows(ModelException.class, () -> load(modelDir, w));
        assertTrue(e.getMessage().startsWith("ext.onnx: initializer 'w'"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void parentDirectoryIsRefused() throws Exception {
        Path inner = Files.createDirectories(root.resolve("model"));
        writeFloats(root.resolve("secret.bin"), 0, 1, 2, 3, 4);
        String m = refused(inner, external("../secret.bin", null, null));
        assertTrue(m.contains("'../secret.bin' is outside the model's folder"), m);
        assertTrue(refused(inner, external("sub/../../secret.bin", null, null)).contains("outside"));
    }

    @Test
    void absolutePathIsRefused() throws Exception {
        writeFloats(root.resolve("abs.bin"), 0, 1, 2, 3, 4);
        String m = refused(root, external(root.resolve("abs.bin").toString(), null, null));
        assertTrue(m.contains("outside the model's folder (absolute path)"), m);
    }

    @Test
    void symlinkLeavingTheFolderIsRefused() throws Exception {
        Path inner = Files.createDirectories(root.resolve("model"));
        writeFloats(root.resolve("secret.bin"), 0, 1, 2, 3, 4);
        Files.createSymbolicLink(inner.resolve("link.bin"), root.resolve("secret.bin"));
        String m = refused(inner, external("link.bin", null, null));
        assertTrue(m.contains("symbolic link"), m);
    }

    @Test
    void rangeBeyondTheFileIsRefused() throws Exception {
        writeFloats(root.resolve("short.bin"), 0, 1, 2);
        String m = refused(root, external("short.bin", "0", "16"));
        assertTrue(m.contains("'short.bin' has 8 bytes"), m);
        assertTrue(refused(root, external("short.bin", "-4", null)).contains("invalid offset"));
    }

    @Test
    void wrongLengthAndMissingFile() throws Exception {
        writeFloats(root.resolve("w.bin"), 0, 1, 2, 3, 4, 5);
        assertTrue(refused(root, external("w.bin", "0", "20")).contains("needs 16 bytes of data, found 20"));
        assertTrue(refused(root, external("gone.bin", null, null)).contains("does not exist"));
    }

    @Test
    void noFolderMeansNoExternalData() {
        assertTrue(refused(null, external("w.bin", null, null)).contains("without a folder"));
    }
}
