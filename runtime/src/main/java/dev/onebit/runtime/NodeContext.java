package dev.onebit.runtime;

import dev.onebit.ir.Node;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;

import java.util.function.Function;

/**
 * What a {@link KernelFactory} sees of the graph when it prepares a node: the node itself, the
 * opset of its domain, and which of its inputs are constants.
 */
public final class NodeContext {
    private final Node node;
    private final int opset;
    private final Function<String, Tensor> constants;

    /**
     * @param node the node to prepare
     * @param opset the model's opset version for the node's domain
     * @param constants value name to constant tensor, null when the value is not constant
     */
    public NodeContext(Node node, int opset, Function<String, Tensor> constants) {
        this.node = node;
        this.opset = opset;
        this.constants = constants;
    }

    /** The node. */
    public Node node() {
        return node;
    }

    /** Opset version of the node's domain. */
    public int opset() {
        return opset;
    }

    /** The constant value of input {@code i}, or null if that input is absent or computed at run time. */
    public Tensor constant(int i) {
        String name = node.input(i);
        return name.isEmpty() ? null : constants.apply(name);
    }

    /** A ModelException whose message starts with the node's name and op type. */
    public ModelException error(String message) {
        return new ModelException(node.describe() + ": " + message);
    }
}
