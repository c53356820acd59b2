package dev.onebit.onnx;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.ModelProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;
import dev.onebit.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.onebit.onnx.proto.OnnxProto.TensorShapeProto;
import dev.onebit.onnx.proto.OnnxProto.TypeProto;
import dev.onebit.onnx.proto.OnnxProto.ValueInfoProto;
import dev.onebit.runtime.OpRegistry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small graphs and ONNX messages for tests: IR builders and raw protobuf builders. */
public final class GraphFixtures {
    /** Folder of the ONNX backend node tests. */
    public static final Path NODE_TESTS = Path.of("/usr/share/libonnx-testdata/data/node");

    private GraphFixtures() {
    }

    /** An empty graph builder with default-domain opset {@code opset}. */
    public static Graph.Builder graph(String name, int opset) {
        return Graph.builder(name).opset("", opset);
    }

    /** A FLOAT value; a negative size is a symbolic batch named "N". */
    public static ValueInfo floats(String name, long... dims) {
        List<Dim> d = new ArrayList<>();
        for (long x : dims) {
            d.add(x < 0 ? Dim.symbol("N") : Dim.of(x));
        }
        return new ValueInfo(name, DataType.FLOAT, Shape.of(d));
    }

    /** A default-domain node; {@code attrs} alternate name and Attribute. */
    public static Node node(String name, String op, List<String> in, List<String> out, Object... attrs) {
        Map<String, Attribute> a = new LinkedHashMap<>();
        for (int i = 0; i < attrs.length; i += 2) {
            a.put((String) attrs[i], (Attribute) attrs[i + 1]);
        }
        return Node.of(name, op, in, out, a);
    }

    /** True when the standard registry runs every listed operator at {@code opset}. */
    public static boolean kernelsFor(int opset, String... ops) {
        for (String op : ops) {
            if (OpRegistry.standard().find("", op, opset) == null) {
                return false;
            }
        }
        return true;
    }

    /** A model message around {@code graph} with one default-domain opset. */
    public static ModelProto model(int opset, GraphProto.Builder graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
    }

    /** A node message. */
    public static NodeProto nodeProto(String name, String op, List<String> in, List<String> out) {
        NodeProto.Builder b = NodeProto.newBuilder().setOpType(op).addAllInput(in).addAllOutput(out);
        if (name != null) {
            b.setName(name);
        }
        return b.build();
    }

    /** A FLOAT value info message with fixed dimensions. */
    public static ValueInfoProto floatProto(String name, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
    }

    /** The bytes of a backend node test's model. */
    public static byte[] nodeTestModel(String test) throws java.io.IOException {
        return Files.readAllBytes(NODE_TESTS.resolve(test).resolve("model.onnx"));
    }
}
