package dev.onebit.onnx.passes;

import static dev.onebit.onnx.GraphFixtures.floats;
import static dev.onebit.onnx.GraphFixtures.graph;
import static dev.onebit.onnx.GraphFixtures.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;

import java.util.List;
import org.junit.jupiter.api.Test;

class DeadNodeEliminationTest {
    @Test
    void unreachableNodesAndUnusedInitializersGo() {
        Tensor t = Tensor.scalar(1);
        Graph before = graph("g", 13).input(floats("x", 2)).input(floats("unused", 2)).output(floats("y", 2))
                .initializer("used", t).initializer("orphan", t).initializer("deadOnly", t)
                .node(node("live", "Add", List.of("x", "used"), List.of("y")))
                .node(node("dead1", "Mul", List.of("x", "deadOnly"), List.of("d1")))
                .node(node("dead2", "Relu", List.of("d1"), List.of("d2")))
                // A node with one live output stays whole.
                .node(node("split", "Split", List.of("x"), List.of("s1", "s2")))
                .node(node("tail", "Relu", List.of("s1"), List.of("z")))
                .output(floats("z", 1))
                .valueInfo(floats("d1", 2)).valueInfo(floats("s2", 1))
                .build();
        Graph after = DeadNodeElimination.apply(before);
        assertEquals(List.of("live", "split", "tail"), after.nodes().stream().map(Node::name).toList());
        assertEquals(List.of("used"), List.copyOf(after.initializers().keySet()));
        assertEquals(List.of("x", "unused"), after.inputs().stream().map(ValueInfo::name).toList());
        assertEquals(List.of("s2"), List.copyOf(after.valueInfo().keySet()));
    }

    @Test
    void cleanGraphIsReturnedAsIs() {
        Graph g = graph("g", 13).input(floats("x", 2)).output(floats("y", 2))
                .node(node("r", "Relu", List.of("x"), List.of("y"))).build();
        assertSame(g, DeadNodeElimination.apply(g));
    }
}
