package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.floatProto;
import static dev.onebit.onnx.GraphFixtures.kernelsFor;
import static dev.onebit.onnx.GraphFixtures.model;
import static dev.onebit.onnx.GraphFixtures.nodeProto;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.proto.OnnxProto.AttributeProto;
import dev.onebit.onnx.proto.OnnxProto.GraphProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;
import dev.onebit.onnx.proto.OnnxProto.TensorShapeProto;
import dev.onebit.onnx.proto.OnnxProto.ValueInfoProto;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The whole import: conversion, folding, dead node removal and shape inference together. */
class ImportPipelineTest {

    private static NodeProto constant(String out, TensorProto value) {
        return NodeProto.newBuilder().setOpType("Constant").addOutput(out).addAttribute(AttributeProto.newBuilder()
                .setName("value").setType(AttributeProto.AttributeType.TENSOR).setT(value)).build();
    }

    private static ValueInfoProto batched(String name, long... rest) {
        ValueInfoProto.Builder v = floatProto(name, rest).toBuilder();
        TensorShapeProto.Builder s = v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder();
        s.addDim(0, TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        return v.build();
    }

    /** What PyTorch 1.13 writes for {@code torch.relu(x).view(x.size(0), -1)} at opset 11. */
    static GraphProto.Builder torchFlatten() {
        NodeProto unsqueeze = nodeProto("Unsqueeze_4", "Unsqueeze", List.of("n"), List.of("n1")).toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(0))
                .build();
        NodeProto concat = nodeProto("Concat_6", "Concat", List.of("n1", "minus1"), List.of("target")).toBuilder()
                .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0))
                .build();
        return GraphProto.newBuilder().setName("torch_jit")
                .addInput(batched("x", 2, 3, 3)).addOutput(batched("y", 18))
                .addNode(nodeProto("Relu_0", "Relu", List.of("x"), List.of("a")))
                .addNode(nodeProto("Shape_1", "Shape", List.of("a"), List.of("sh")))
                .addNode(constant("zero", TensorProto.newBuilder().setDataType(7).addInt64Data(0).build()))
                .addNode(nodeProto("Gather_3", "Gather", List.of("sh", "zero"), List.of("n")))
                .addNode(unsqueeze)
                .addNode(constant("minus1", TensorProto.newBuilder().setDataType(7).addDims(1).addInt64Data(-1).build()))
                .addNode(concat)
                .addNode(nodeProto("Reshape_7", "Reshape", List.of("a", "target"), List.of("y")))
                // Debug output nobody reads, with an op onebit lacks: dropped before the support check.
                .addNode(nodeProto("debug", "Frobnicate", List.of("a"), List.of("unused")));
    }

    @Test
    void torchFlattenBecomesReshapeWithConstantTarget() {
        assumeTrue(kernelsFor(11, "Relu", "Shape", "Gather", "Unsqueeze", "Concat", "Reshape"), "kernels missing");
        Graph g = OnnxImporter.read(model(11, torchFlatten()).toByteArray(), "torch.onnx", null);
        assertEquals(List.of("Relu", "Reshape"), g.nodes().stream().map(Node::opType).toList());
        Node reshape = g.nodes().get(1);
        assertArrayEquals(new long[] {0, -1}, g.initializer(reshape.input(1)).toLongArray());
        assertEquals(1, g.initializers().size());
        assertEquals(new ValueInfo("a", DataType.FLOAT, Shape.of(List.of(Dim.symbol("N"), Dim.of(2), Dim.of(3), Dim.of(3)))),
                g.valueInfo().get("a"));
        assertEquals(Shape.of(List.of(Dim.symbol("N"), Dim.of(18))), g.valueInfo().get("y").shape());
        // The imported graph exports and re-imports unchanged.
        OnnxExporterTest.assertSameGraph(g, OnnxImporter.read(OnnxExporter.toBytes(g), "again.onnx", null));
    }
}
