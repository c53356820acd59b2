package dev.onebit.onnx;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
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
import dev.onebit.onnx.proto.OnnxProto.TensorProto;
import dev.onebit.onnx.proto.OnnxProto.TensorShapeProto;
import dev.onebit.onnx.proto.OnnxProto.TypeProto;
import dev.onebit.onnx.proto.OnnxProto.ValueInfoProto;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a parsed {@code ModelProto} into an IR {@link Graph}, faithfully: no operator support
 * check and no graph passes (see {@link OnnxImporter} for those). Errors are ModelExceptions
 * without the file name, which the caller adds.
 */
final class ModelConverter {
    private final ExternalData external;

    private ModelConverter(ExternalData external) {
        this.external = external;
    }

    /**
     * The graph of {@code model}.
     *
     * @param baseDir folder external data is resolved against; null to refuse external data
     */
    static Graph convert(ModelProto model, Path baseDir) {
        return new ModelConverter(new ExternalData(baseDir)).graph(model);
    }

    private Graph graph(ModelProto model) {
        GraphProto g = model.getGraph();
        Graph.Builder b = Graph.builder(g.getName());
        for (OperatorSetIdProto op : model.getOpsetImportList()) {
            String domain = op.getDomain().equals("ai.onnx") ? "" : op.getDomain();
            b.opset(domain, Math.toIntExact(op.getVersion()));
        }
        metadata(model, b);
        Set<String> initializerNames = new HashSet<>();
        for (TensorProto t : g.getInitializerList()) {
            String name = t.getName();
            if (name.isEmpty()) {
                throw new ModelException("an initializer has no name");
            }
            if (!initializerNames.add(name)) {
                throw new ModelException("initializer '" + name + "' is declared twice");
            }
            b.initializer(name, TensorCodec.decode(t, "initializer '" + name + "'", external));
        }
        for (ValueInfoProto in : g.getInputList()) {
            // Exporters before IR version 4 had to list initializers among the inputs.
            if (!initializerNames.contains(in.getName())) {
                b.input(valueInfo(in, "input"));
            }
        }
        for (ValueInfoProto out : g.getOutputList()) {
            b.output(valueInfo(out, "output"));
        }
        for (ValueInfoProto v : g.getValueInfoList()) {
            if (!v.getName().isEmpty() && v.getType().hasTensorType()) {
                b.valueInfo(valueInfo(v, null));
            }
        }
        nodes(g, b);
        return b.build();
    }

    private static void metadata(ModelProto model, Graph.Builder b) {
        putIfSet(b, OnnxImporter.META_PRODUCER_NAME, model.getProducerName());
        putIfSet(b, OnnxImporter.META_PRODUCER_VERSION, model.getProducerVersion());
        putIfSet(b, OnnxImporter.META_DOC_STRING, model.getDocString());
        for (StringStringEntryProto e : model.getMetadataPropsList()) {
            b.metadata(e.getKey(), e.getValue());
        }
    }

    private static void putIfSet(Graph.Builder b, String key, String value) {
        if (!value.isEmpty()) {
            b.metadata(key, value);
        }
    }

    /**
     * @param role "input" or "output" for graph inputs and outputs, whose element type must be
     *     one onebit supports; null for value_info entries, whose unsupported types become null
     */
    static ValueInfo valueInfo(ValueInfoProto v, String role) {
        String name = v.getName();
        if (name.isEmpty()) {
            throw new ModelException("a graph " + (role == null ? "value_info entry" : role) + " has no name");
        }
        if (!v.getType().hasTensorType()) {
            if (role == null) {
                return new ValueInfo(name, null, null);
            }
            throw new ModelException("graph " + role + " '" + name + "' is not a tensor");
        }
        TypeProto.Tensor tt = v.getType().getTensorType();
        DataType type = null;
        int code = tt.getElemType();
        if (code != 0) {
            try {
                type = DataType.fromOnnx(code);
            } catch (IllegalArgumentException e) {
                if (role != null) {
                    throw new ModelException("graph " + role + " '" + name + "' has element type "
                            + TensorCodec.typeName(code) + ", which onebit does not support");
                }
            }
        }
        return new ValueInfo(name, type, tt.hasShape() ? shape(tt.getShape()) : null);
    }

    private static Shape shape(TensorShapeProto s) {
        List<Dim> dims = new ArrayList<>(s.getDimCount());
        for (TensorShapeProto.Dimension d : s.getDimList()) {
            if (d.hasDimValue() && d.getDimValue() >= 0) {
                dims.add(Dim.of(d.getDimValue()));
            } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
                dims.add(Dim.symbol(d.getDimParam()));
            } else {
                dims.add(Dim.UNKNOWN);
            }
        }
        return Shape.of(dims);
    }

    private void nodes(GraphProto g, Graph.Builder b) {
        Set<String> used = new HashSet<>();
        for (NodeProto n : g.getNodeList()) {
            if (!n.getName().isEmpty()) {
                used.add(n.getName());
            }
        }
        Set<String> taken = new HashSet<>();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            if (n.getOpType().isEmpty()) {
                throw new ModelException("node #" + i + (n.getName().isEmpty() ? "" : " '" + n.getName() + "'")
                        + " has no op type");
            }
            String name = n.getName();
            if (name.isEmpty() || !taken.add(name)) {
                // Unnamed or repeated names get a fresh one: the IR needs unique node names.
                String base = (name.isEmpty() ? n.getOpType() : name) + "_" + i;
                name = base;
                for (int k = 2; used.contains(name) || taken.contains(name); k++) {
                    name = base + "_" + k;
                }
                taken.add(name);
            }
            String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
            Node probe = new Node(name, n.getOpType(), domain, List.of(), List.of(), Map.of());
            Map<String, Attribute> attrs = new LinkedHashMap<>();
            for (AttributeProto a : n.getAttributeList()) {
                if (attrs.put(a.getName(), attribute(a, probe)) != null) {
                    throw new ModelException(probe.describe() + ": attribute '" + a.getName() + "' is given twice");
                }
            }
            b.node(new Node(name, n.getOpType(), domain, n.getInputList(), n.getOutputList(), attrs));
        }
    }

    private Attribute attribute(AttributeProto a, Node node) {
        String what = node.describe() + ": attribute '" + a.getName() + "'";
        if (a.getName().isEmpty()) {
            throw new ModelException(node.describe() + " has an attribute without a name");
        }
        if (a.hasRefAttrName()) {
            throw new ModelException(what + " refers to a function attribute, which onebit does not support");
        }
        AttributeProto.AttributeType type = a.getType();
        if (type == AttributeProto.AttributeType.UNDEFINED) {
            type = guessType(a);
        }
        return switch (type) {
            case FLOAT -> Attribute.of(a.getF());
            case INT -> Attribute.of(a.getI());
            case STRING -> Attribute.of(a.getS().toString(StandardCharsets.UTF_8));
            case TENSOR -> Attribute.of(TensorCodec.decode(a.getT(), what, external));
            case FLOATS -> {
                float[] v = new float[a.getFloatsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getFloats(i);
                }
                yield Attribute.ofFloats(v);
            }
            case INTS -> {
                long[] v = new long[a.getIntsCount()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = a.getInts(i);
                }
                yield Attribute.ofInts(v);
            }
            case STRINGS -> {
                List<String> v = new ArrayList<>(a.getStringsCount());
                a.getStringsList().forEach(s -> v.add(s.toString(StandardCharsets.UTF_8)));
                yield Attribute.ofStrings(v);
            }
            case GRAPH, GRAPHS -> throw new ModelException(what + " is a subgraph; onebit does not support"
                    + " control flow (If, Loop, Scan)");
            default -> throw new ModelException(what + " has type " + type + ", which onebit does not support");
        };
    }

    /** IR version 1 models may leave the type out; it follows from which field is set. */
    private static AttributeProto.AttributeType guessType(AttributeProto a) {
        if (a.hasF()) {
            return AttributeProto.AttributeType.FLOAT;
        } else if (a.hasI()) {
            return AttributeProto.AttributeType.INT;
        } else if (a.hasS()) {
            return AttributeProto.AttributeType.STRING;
        } else if (a.hasT()) {
            return AttributeProto.AttributeType.TENSOR;
        } else if (a.hasG()) {
            return AttributeProto.AttributeType.GRAPH;
        } else if (a.getFloatsCount() > 0) {
            return AttributeProto.AttributeType.FLOATS;
        } else if (a.getIntsCount() > 0) {
            return AttributeProto.AttributeType.INTS;
        } else if (a.getStringsCount() > 0) {
            return AttributeProto.AttributeType.STRINGS;
        } else if (a.getGraphsCount() > 0) {
            return AttributeProto.AttributeType.GRAPHS;
        }
        // An empty list: the kind is unknowable, and an empty INTS is the common case (e.g. axes).
        return AttributeProto.AttributeType.INTS;
    }
}
