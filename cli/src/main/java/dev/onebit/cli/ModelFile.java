package dev.onebit.cli;

import dev.onebit.Model;
import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnLayout;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxImporter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * A model file given on the command line, read into the IR: an ONNX model, or a {@code .bnn}
 * container (told apart by its magic bytes, whatever the file is called).
 *
 * @param metadata the container's metadata; empty for ONNX models
 */
record ModelFile(Path path, Graph graph, long fileBytes, Map<String, String> metadata) {

    /** Metadata keys onebit writes into containers. */
    static final String META_METHOD = "onebit.method";
    static final String META_POLICY = "onebit.keep_float";
    static final String META_SOURCE = "onebit.source_file";
    static final String META_SOURCE_SHA256 = "onebit.source_sha256";
    static final String META_SOURCE_BYTES = "onebit.source_bytes";
    // The keys the embedding API reads are defined there, so that writer and reader agree.
    static final String META_MEAN = Model.META_MEAN;
    static final String META_STD = Model.META_STD;
    static final String META_INPUT_SHAPE = Model.META_INPUT_SHAPE;
    static final String META_CLASSES = Model.META_CLASSES;
    static final String META_CALIBRATION = "onebit.calibration";
    static final String META_LAYERS = "onebit.layers";
    static final String META_VERSION = "onebit.version";

    /**
     * Reads an {@code .onnx} model or a {@code .bnn} container.
     *
     * @throws ModelException naming the file when it is missing, malformed or unsupported
     */
    static ModelFile load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new ModelException(path + ": no such file");
        }
        if (isBnn(path)) {
            try (BnnFile bnn = BnnFile.open(path)) {
                return new ModelFile(path, bnn.graph(), Files.size(path), bnn.metadata());
            }
        }
        String name = path.getFileName().toString().toLowerCase();
        if (!name.endsWith(".onnx")) {
            throw new ModelException(path + ": unknown model format (expected an .onnx file or a .bnn container)");
        }
        return new ModelFile(path, OnnxImporter.read(path), Files.size(path), Map.of());
    }

    /** Reads an ONNX model, refusing containers (for commands whose input must be the float model). */
    static ModelFile loadOnnx(Path path) throws IOException {
        ModelFile m = load(path);
        if (m.isBnn()) {
            throw new UserError(path + ": is a .bnn container; this needs the float ONNX model");
        }
        return m;
    }

    /** True when this model came from a {@code .bnn} container. */
    boolean isBnn() {
        return !metadata.isEmpty() || LayerTable.isBinary(graph);
    }

    /** True when the file starts with the container magic, whatever it is called. */
    static boolean isBnn(Path path) throws IOException {
        byte[] head = new byte[BnnLayout.MAGIC.length];
        try (InputStream in = Files.newInputStream(path)) {
            return in.readNBytes(head, 0, head.length) == head.length && Arrays.equals(head, BnnLayout.MAGIC);
        }
    }

    /** Shape of one item of the first input (without the batch dimension), or null if not fixed. */
    int[] itemShape() {
        ValueInfo in = graph.inputs().get(0);
        Shape s = in.shape();
        if (s == null || s.rank() < 2) {
            return null;
        }
        int[] item = new int[s.rank() - 1];
        for (int d = 1; d < s.rank(); d++) {
            Dim dim = s.dim(d);
            if (!dim.isFixed()) {
                return null;
            }
            item[d - 1] = (int) dim.size();
        }
        return item;
    }

    /** A float list stored in the metadata ("0.286,0.353"), or null. */
    float[] metadataFloats(String key) {
        String v = metadata.get(key);
        if (v == null || v.isBlank()) {
            return null;
        }
        String[] parts = v.split(",");
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            out[i] = Float.parseFloat(parts[i].trim());
        }
        return out;
    }
}
