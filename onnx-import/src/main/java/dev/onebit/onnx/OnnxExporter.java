package dev.onebit.onnx;

import com.google.protobuf.ByteString;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.proto.OnnxProto.AttributeProto;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.ModelProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;
import dev.onebit.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.onebit.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.onebit.onnx.proto.OnnxProto.TensorShapeProto;
import dev.onebit.onnx.proto.OnnxProto.TypeProto;
import dev.onebit.onnx.proto.OnnxProto.ValueInfoProto;
import dev.onebit.runtime.OpRegistry;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes an IR {@link Graph} as an ONNX model (IR version 8), for ONNX Runtime comparisons and
 * {@code onebit export}. Initializers and tensor attributes are stored as raw little-endian
 * data; all weights stay inside the one file, so graphs must be under protobuf's 2 GiB limit.
 */
public final class OnnxExporter {
    /** The ONNX IR version written; 8 is read by ONNX Runtime 1.14 and later. */
    public static final int IR_VERSION = 8;

    private OnnxExporter() {
    }

    /**
     * {@code graph} as a serialized {@code ModelProto}. A graph without a default-domain opset
     * is written with opset {@link OpRegistry#MAX_OPSET}; the producer name is the graph's
     * {@link OnnxImporter#META_PRODUCER_NAME} metadata, or "onebit". Value infos of graph inputs
     * and outputs are not repeated in {@code value_info}.
     *
     * @throws IllegalArgumentException if the graph is too large for one protobuf message (2 GiB)
     */
    public static byte[] toBytes(Graph graph) {
        ModelProto model = model(graph);
        long size = model.getSerializedSize();
        if (size < 0 || size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("graph '" + graph.name() + "' exceeds the 2 GiB ONNX file limit");
        }
        return model.toByteArray();
    }

    /**
     * Writes {@code graph} to {@code file}: to a temporary file in the same folder first, then
     * renamed over the target, so a reader never sees half a model.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void write(Graph graph, Path file) {
        byte[] bytes = toBytes(graph);
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the original error is the one worth reporting
                }
            }
        }
    }

    static ModelProto model(Graph graph) {
        ModelProto.Builder m = ModelProto.newBuilder().setIrVersion(IR_VERSION);
        boolean defaultDomain = false;
        for (Map.Entry<String, Integer> e : graph.opsets().entrySet()) {
            String domain = e.getKey().equals("ai.onnx") ? "" : e.getKey();
            defaultDomain |= domain.isEmpty();
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(e.getValue()));
        }
        if (!defaultDomain) {
            m.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OpRegistry.MAX_OPSET));
        }
        Map<String, String> meta = graph.metadata();
        m.setProducerName(meta.getOrDefault(OnnxImporter.META_PRODUCER_NAME, "onebit"));
        if (meta.containsKey(OnnxImporter.META_PRODUCER_VERSION)) {
            m.setProducerVersion(meta.get(OnnxImporter.META_PRODUCER_VERSION));
        }
        if (meta.containsKey(OnnxImporter.META_DOC_STRING)) {
            m.setDocString(meta.get(OnnxImporter.META_DOC_STRING));
        }
        for (Map.Entry<String, String> e : meta.entrySet()) {
            String k = e.getKey();
            if (!k.equals(OnnxImporter.META_PRODUCER_NAME) && !k.equals(OnnxImporter.META_PRODUCER_VERSION)
                    && !k.equals(OnnxImporter.META_DOC_STRING)) {
                m.addMetadataProps(StringStringEntryProto.newBuilder().setKey(k).setValue(e.getValue()));
            }
        }
        return m.setGraph(graph(graph)).build();
    }

    private static GraphProto graph(Graph graph) {
        GraphProto.Builder g = GraphProto.newBuilder().setName(graph.name().isEmpty() ? "onebit" : graph.name());
        Set<String> declared = new HashSet<>(graph.initializers().keySet());
        for (ValueInfo v : graph.inputs()) {
            g.addInput(valueInfo(v));
            declared.add(v.name());
        }
        for (ValueInfo v : graph.outputs()) {
            g.addOutput(valueInfo(v));
            declared.add(v.name());
        }
        for (ValueInfo v : graph.valueInfo().values()) {
            if (!declared.contains(v.name())) {
                g.addValueInfo(valueInfo(v));
            }
        }
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
            g.addInitializer(TensorCodec.encode(e.getValue(), e.getKey()));
        }
        for (Node n : graph.nodes()) {
            g.addNode(node(n));
        }
        return g.build();
    }

    /** An ONNX value info; a null type is written as UNDEFINED, a null shape as no shape. */
    static ValueInfoProto valueInfo(ValueInfo v) {
        TypeProto.Tensor.Builder t = TypeProto.Tensor.newBuilder().setElemType(v.type() == null ? 0 : v.type().onnxCode());
        Shape s = v.shape();
        if (s != null) {
            TensorShapeProto.Builder sb = TensorShapeProto.newBuilder();
            for (Dim d : s.dims()) {
                TensorShapeProto.Dimension.Builder db = TensorShapeProto.Dimension.newBuilder();
                if (d.isFixed()) {
                    db.setDimValue(d.size());
                } else if (d.symbol() != null) {
                    db.setDimParam(d.symbol());
                }
                sb.addDim(db);
            }
            t.setShape(sb);
        }
        return ValueInfoProto.newBuilder().setName(v.name()).setType(TypeProto.newBuilder().setTensorType(t)).build();
    }

    private static NodeProto node(Node n) {
        NodeProto.Builder b = NodeProto.newBuilder().setName(n.name()).setOpType(n.opType())
                .addAllInput(n.inputs()).addAllOutput(n.outputs());
        if (!n.domain().isEmpty()) {
            b.setDomain(n.domain());
        }
        for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
            b.addAttribute(attribute(e.getKey(), e.getValue()));
        }
        return b.build();
    }

    private static AttributeProto attribute(String name, Attribute a) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name);
        switch (a.kind()) {
            case FLOAT -> b.setType(AttributeProto.AttributeType.FLOAT).setF(a.asFloat());
            case INT -> b.setType(AttributeProto.AttributeType.INT).setI(a.asInt());
            case STRING -> b.setType(AttributeProto.AttributeType.STRING)
                    .setS(ByteString.copyFrom(a.asString(), StandardCharsets.UTF_8));
            case TENSOR -> b.setType(AttributeProto.AttributeType.TENSOR).setT(TensorCodec.encode(a.asTensor(), null));
            case FLOATS -> {
                b.setType(AttributeProto.AttributeType.FLOATS);
                for (float f : a.asFloats()) {
                    b.addFloats(f);
                }
            }
            case INTS -> {
                b.setType(AttributeProto.AttributeType.INTS);
                for (long i : a.asInts()) {
                    b.addInts(i);
                }
            }
            case STRINGS -> {
                b.setType(AttributeProto.AttributeType.STRINGS);
                for (String s : a.asStrings()) {
                    b.addStrings(ByteString.copyFrom(s, StandardCharsets.UTF_8));
                }
            }
        }
        return b.build();
    }
}
