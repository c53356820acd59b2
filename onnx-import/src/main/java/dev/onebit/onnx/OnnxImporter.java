package dev.onebit.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.onnx.passes.ConstantFolding;
import dev.onebit.onnx.passes.DeadNodeElimination;
import dev.onebit.onnx.passes.ShapeChainFolding;
import dev.onebit.onnx.proto.OnnxProto.ModelProto;
import dev.onebit.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ShapeInference;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reads ONNX model files into the onebit IR.
 *
 * <p>{@link #read(Path)} parses the file, checks its opset, converts it, checks that onebit can
 * execute every node (one error lists all that it cannot), then simplifies the graph: constant
 * subgraphs are folded into initializers, PyTorch's {@code Shape -> Gather -> ... -> Reshape}
 * chains become constant shapes, dead nodes are dropped, and shape inference records every
 * value's type and shape. Every error is a one-line {@link ModelException} starting with the
 * file name.
 */
public final class OnnxImporter {
    /** Metadata key of the model's {@code producer_name}. */
    public static final String META_PRODUCER_NAME = "producer_name";
    /** Metadata key of the model's {@code producer_version}. */
    public static final String META_PRODUCER_VERSION = "producer_version";
    /** Metadata key of the model's {@code doc_string}. */
    public static final String META_DOC_STRING = "doc_string";

    /** Files up to this size are read onto the heap; larger ones are memory-mapped. */
    private static final long MAP_THRESHOLD = 16L << 20;

    private OnnxImporter() {
    }

    /**
     * Reads, checks and simplifies a model file. External data is looked up in the file's folder.
     *
     * @throws ModelException if the file cannot be read, is not a valid model, or uses operators
     *     onebit does not support
     */
    public static Graph read(Path file) {
        String display = file.toString();
        ByteBuffer bytes;
        try {
            long size = Files.size(file);
            if (size > Integer.MAX_VALUE) {
                throw new ModelException(display + ": the file is larger than 2 GiB; store the weights as"
                        + " ONNX external data");
            }
            if (size <= MAP_THRESHOLD) {
                bytes = ByteBuffer.wrap(Files.readAllBytes(file));
            } else {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                    bytes = ch.map(FileChannel.MapMode.READ_ONLY, 0, size);
                }
            }
        } catch (NoSuchFileException e) {
            throw new ModelException(display + ": no such file");
        } catch (IOException e) {
            throw new ModelException(display + ": cannot read the file: " + e.getMessage(), e);
        }
        Path dir = file.toAbsolutePath().getParent();
        return finish(load(bytes, display, dir), display);
    }

    /**
     * Reads, checks and simplifies a model held in memory. The graph's weights are views of
     * {@code bytes}, not copies: the caller must not modify the array afterwards.
     *
     * @param displayName how errors name the model, such as its file name
     * @param baseDir folder external data is resolved against; null if the model may not use any
     * @throws ModelException if the bytes are not a valid model or it uses unsupported operators
     */
    public static Graph read(byte[] bytes, String displayName, Path baseDir) {
        return finish(load(ByteBuffer.wrap(bytes), displayName, baseDir), displayName);
    }

    /** Parses and converts, without the support check and the passes. */
    static Graph load(ByteBuffer bytes, String displayName, Path baseDir) {
        ModelProto model = parse(bytes, displayName);
        checkOpset(model, displayName);
        try {
            return ModelConverter.convert(model, baseDir);
        } catch (ModelException e) {
            throw prefixed(displayName, e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ModelException(displayName + ": " + e.getMessage(), e);
        }
    }

    /** The support check and the import passes; see the class comment. */
    static Graph finish(Graph graph, String displayName) {
        try {
            Graph g = ConstantFolding.apply(graph);
            g = DeadNodeElimination.apply(g);
            List<Node> missing = OpRegistry.standard().unsupported(g);
            if (!missing.isEmpty()) {
                throw Executor.unsupportedError(missing, g);
            }
            g = ShapeChainFolding.apply(g);
            g = ConstantFolding.apply(g);
            g = DeadNodeElimination.apply(g);
            return ShapeInference.infer(g);
        } catch (ModelException e) {
            throw prefixed(displayName, e);
        }
    }

    private static ModelException prefixed(String displayName, ModelException e) {
        return new ModelException(displayName + ": " + e.getMessage(), e);
    }

    /** The model message, with aliasing so raw tensor data stays in {@code bytes} uncopied. */
    static ModelProto parse(ByteBuffer bytes, String displayName) {
        String bad = displayName + ": not a valid ONNX model: ";
        if (!bytes.hasRemaining()) {
            throw new ModelException(bad + "the file is empty");
        }
        ModelProto model;
        try {
            // Aliasing needs a buffer protobuf may treat as immutable, hence unsafeWrap: the
            // bytes are never written after this point.
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            in.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelException(bad + describe(e), e);
        } catch (IOException | RuntimeException e) {
            throw new ModelException(bad + e.getClass().getSimpleName() + " while decoding", e);
        }
        if (!model.hasGraph()) {
            throw new ModelException(bad + "it has no graph");
        }
        if (!model.hasIrVersion()) {
            throw new ModelException(bad + "it has no IR version");
        }
        return model;
    }

    private static String describe(InvalidProtocolBufferException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("ended unexpectedly") || m.contains("truncated")) {
            return "the file is truncated";
        }
        int dot = m.indexOf(". ");
        return (dot > 0 ? m.substring(0, dot) : m).replace('\n', ' ');
    }

    private static void checkOpset(ModelProto model, String displayName) {
        Long version = null;
        for (OperatorSetIdProto op : model.getOpsetImportList()) {
            if (op.getDomain().isEmpty() || op.getDomain().equals("ai.onnx")) {
                version = op.getVersion();
            }
        }
        if (version == null) {
            throw new ModelException(displayName + ": the model imports no opset of the default ONNX domain");
        }
        if (version < OpRegistry.MIN_OPSET || version > OpRegistry.MAX_OPSET) {
            throw new ModelException(displayName + ": ONNX opset " + version + " is not supported; onebit reads"
                    + " opsets " + OpRegistry.MIN_OPSET + " to " + OpRegistry.MAX_OPSET);
        }
    }
}
