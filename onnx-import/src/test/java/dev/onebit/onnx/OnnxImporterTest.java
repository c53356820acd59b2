package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.NODE_TESTS;
import static dev.onebit.onnx.GraphFixtures.floatProto;
import static dev.onebit.onnx.GraphFixtures.model;
import static dev.onebit.onnx.GraphFixtures.nodeProto;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.protobuf.ByteString;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.proto.OnnxProto.AttributeProto;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;
import dev.onebit.onnx.proto.OnnxProto.TensorShapeProto;
import dev.onebit.onnx.proto.OnnxProto.TypeProto;
import dev.onebit.onnx.proto.OnnxProto.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Conversion of real and hand-built models into the IR. */
class OnnxImporterTest {

    private static Graph load(String test) throws Exception {
        Path dir = NODE_TESTS.resolve(test);
        return OnnxImporter.load(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("model.onnx"))), test, dir);
    }

    @Test
    void convBackendModelHasItsStructure() throws Exception {
        Graph g = load("test_conv_with_strides_padding");
        assertEquals(1, g.nodes().size());
        Node conv = g.nodes().get(0);
        assertEquals("Conv", conv.opType());
        assertEquals("Conv_0", conv.name(), "unnamed nodes get op type and index");
        assertEquals(List.of("x", "W"), conv.inputs());
        assertArrayEquals(new long[] {3, 3}, conv.attrInts("kernel_shape", null));
        assertArrayEquals(new long[] {1, 1, 1, 1}, conv.attrInts("pads", null));
        assertArrayEquals(new long[] {2, 2}, conv.attrInts("strides", null));
        assertEquals(List.of(new ValueInfo("x", DataType.FLOAT, Shape.of(1, 1, 7, 5)),
                new ValueInfo("W", DataType.FLOAT, Shape.of(1, 1, 3, 3))), g.inputs());
        assertEquals(new ValueInfo("y", DataType.FLOAT, Shape.of(1, 1, 4, 3)), g.outputs().get(0));
        assertTrue(g.initializers().isEmpty());
        assertEquals("backend-test", g.metadata().get(OnnxImporter.META_PRODUCER_NAME));
        assertTrue(g.opset() >= 7);
    }

    @Test
    void fullReadOfConvModelWhenKernelsExist() {
        Path file = NODE_TESTS.resolve("test_conv_with_strides_padding/model.onnx");
        assumeTrue(GraphFixtures.kernelsFor(11, "Conv"), "Conv kernel not registered yet");
        Graph g = OnnxImporter.read(file);
        assertEquals(List.of("Conv"), g.nodes().stream().map(Node::opType).toList());
        assertEquals(Shape.of(1, 1, 4, 3), g.outputs().get(0).shape());
    }

    @Test
    void constantNodeKeepsItsTensorAttribute() throws Exception {
        Graph g = load("test_constant");
        Node c = g.nodes().get(0);
        assertEquals("Constant", c.opType());
        Tensor t = c.attr("value").asTensor();
        assertEquals(DataType.FLOAT, t.type());
        assertArrayEquals(new int[] {5, 5}, t.shape());
        assertEquals(1.76405239f, t.toFloatArray()[0]);
        assertEquals(2.26975465f, t.toFloatArray()[24]);
    }

    @Test
    void batchNormAndPoolAttributesAreTyped() throws Exception {
        Node bn = load("test_batchnorm_epsilon").nodes().get(0);
        assertEquals(Attribute.Kind.FLOAT, bn.attr("epsilon").kind());
        assertEquals(0.01f, bn.attrFloat("epsilon", 0), 1e-7);
        Node pool = load("test_maxpool_2d_pads").nodes().get(0);
        assertArrayEquals(new long[] {2, 2, 2, 2}, pool.attrInts("pads", null));
        Node pad = load("test_constant_pad").nodes().get(0);
        assertEquals("constant", pad.attrString("mode", "constant"));
    }

    @Test
    void initializersListedAsInputsAreNotInputs() {
        TensorProto w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(2)
                .addFloatData(1).addFloatData(2).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("old")
                .addInput(floatProto("x", 2)).addInput(floatProto("w", 2)).addInitializer(w)
                .addNode(nodeProto("add", "Add", List.of("x", "w"), List.of("y")))
                .addOutput(floatProto("y", 2));
        Graph graph = convert(g, 9);
        assertEquals(List.of("x"), graph.inputs().stream().map(ValueInfo::name).toList());
        assertArrayEquals(new float[] {1, 2}, graph.initializer("w").toFloatArray());
    }

    @Test
    void symbolicAndMissingDimensions() {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3))
                .addDim(TensorShapeProto.Dimension.newBuilder()).build();
        ValueInfoProto x = ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape))).build();
        ValueInfoProto y = ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(1))).build();
        GraphProto.Builder g = GraphProto.newBuilder().addInput(x).addOutput(y)
                .addNode(nodeProto(null, "Relu", List.of("x"), List.of("y")));
        Graph graph = convert(g, 13);
        assertEquals(Shape.of(List.of(Dim.symbol("batch"), Dim.of(3), Dim.UNKNOWN)), graph.inputs().get(0).shape());
        assertNull(graph.outputs().get(0).shape(), "no shape means unknown rank");
    }

    @Test
    void unnamedAndRepeatedNodeNamesBecomeUnique() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 1)).addOutput(floatProto("c", 1))
                .addNode(nodeProto(null, "Relu", List.of("x"), List.of("a")))
                .addNode(nodeProto("n", "Relu", List.of("a"), List.of("b")))
                .addNode(nodeProto("n", "Relu", List.of("b"), List.of("c")));
        List<String> names = convert(g, 13).nodes().stream().map(Node::name).toList();
        assertEquals(List.of("Relu_0", "n", "n_2"), names);
    }

    @Test
    void everyAttributeKind() {
        NodeProto n = NodeProto.newBuilder().setOpType("Foo").addInput("x").addOutput("y")
                .addAttribute(AttributeProto.newBuilder().setName("f").setType(AttributeProto.AttributeType.FLOAT).setF(0.5f))
                .addAttribute(AttributeProto.newBuilder().setName("i").setType(AttributeProto.AttributeType.INT).setI(-3))
                .addAttribute(AttributeProto.newBuilder().setName("s").setType(AttributeProto.AttributeType.STRING)
                        .setS(ByteString.copyFromUtf8("NOTSET")))
                .addAttribute(AttributeProto.newBuilder().setName("t").setType(AttributeProto.AttributeType.TENSOR)
                        .setT(TensorProto.newBuilder().setDataType(7).addDims(2).addInt64Data(4).addInt64Data(-1)))
                .addAttribute(AttributeProto.newBuilder().setName("fs").setType(AttributeProto.AttributeType.FLOATS)
                        .addFloats(1).addFloats(2))
                .addAttribute(AttributeProto.newBuilder().setName("is").setType(AttributeProto.AttributeType.INTS)
                        .addInts(7))
                .addAttribute(AttributeProto.newBuilder().setName("ss").setType(AttributeProto.AttributeType.STRINGS)
                        .addStrings(ByteString.copyFromUtf8("a")).addStrings(ByteString.copyFromUtf8("b")))
                // IR version 1 files may omit the type.
                .addAttribute(AttributeProto.newBuilder().setName("old").setI(9))
                .build();
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 1)).addOutput(floatProto("y", 1)).addNode(n);
        Node node = convert(g, 13).nodes().get(0);
        assertEquals(0.5f, node.attrFloat("f", 0));
        assertEquals(-3, node.attrInt("i", 0));
        assertEquals("NOTSET", node.attrString("s", null));
        assertArrayEquals(new long[] {4, -1}, node.attr("t").asTensor().toLongArray());
        assertArrayEquals(new float[] {1, 2}, node.attrFloats("fs", null));
        assertArrayEquals(new long[] {7}, node.attrInts("is", null));
        assertEquals(List.of("a", "b"), node.attr("ss").asStrings());
        assertEquals(9, node.attrInt("old", 0));
    }

    @Test
    void valueInfoAndMetadataAreKept() {
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 2)).addOutput(floatProto("y", 2))
                .addValueInfo(floatProto("a", 2))
                .addNode(nodeProto("r1", "Relu", List.of("x"), List.of("a")))
                .addNode(nodeProto("r2", "Relu", List.of("a"), List.of("y")));
        var m = model(13, g).toBuilder().setProducerVersion("2.1").setDocString("doc")
                .addMetadataProps(dev.onebit.onnx.proto.OnnxProto.StringStringEntryProto.newBuilder()
                        .setKey("author").setValue("me")).build();
        Graph graph = OnnxImporter.load(ByteBuffer.wrap(m.toByteArray()), "m.onnx", null);
        assertEquals(new ValueInfo("a", DataType.FLOAT, Shape.of(2)), graph.valueInfo().get("a"));
        assertEquals("test", graph.metadata().get(OnnxImporter.META_PRODUCER_NAME));
        assertEquals("2.1", graph.metadata().get(OnnxImporter.META_PRODUCER_VERSION));
        assertEquals("doc", graph.metadata().get(OnnxImporter.META_DOC_STRING));
        assertEquals("me", graph.metadata().get("author"));
    }

    @Test
    void weightsAreViewsOfTheModelBytes() {
        TensorProto w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(2)
                .setRawData(ByteString.copyFrom(new byte[] {0, 0, (byte) 0x80, 0x3F, 0, 0, 0, 0x40})).build();
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", 2)).addOutput(floatProto("y", 2))
                .addInitializer(w).addNode(nodeProto("add", "Add", List.of("x", "w"), List.of("y")));
        byte[] bytes = model(13, g).toByteArray();
        Graph graph = OnnxImporter.load(ByteBuffer.wrap(bytes), "m", null);
        assertArrayEquals(new float[] {1, 2}, graph.initializer("w").toFloatArray());
        java.util.Arrays.fill(bytes, (byte) 0);
        assertArrayEquals(new float[] {0, 0}, graph.initializer("w").toFloatArray(), "no copy was made");
    }

    @Test
    void largeModelsAreMemoryMapped(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assumeTrue(GraphFixtures.kernelsFor(13, "Add"), "Add kernel missing");
        int n = 5 << 20;
        TensorProto w = TensorProto.newBuilder().setName("w").setDataType(1).addDims(n)
                .setRawData(ByteString.copyFrom(new byte[4 * n])).build();
        GraphProto.Builder g = GraphProto.newBuilder().addInput(floatProto("x", n)).addOutput(floatProto("y", n))
                .addInitializer(w).addNode(nodeProto("add", "Add", List.of("x", "w"), List.of("y")));
        Path f = dir.resolve("big.onnx");
        Files.write(f, model(13, g).toByteArray());
        Graph graph = OnnxImporter.read(f);
        assertTrue(graph.initializer("w").bytes().isDirect(), "the weights live in the mapped file");
        assertEquals(n, graph.initializer("w").size());
    }

    static Graph convert(GraphProto.Builder g, int opset) {
        return OnnxImporter.load(ByteBuffer.wrap(model(opset, g).toByteArray()), "test.onnx", null);
    }
}
