package dev.onebit.runtime;

/** Prepares a {@link Kernel} for one node of a given operator type. */
@FunctionalInterface
public interface KernelFactory {
    /**
     * @throws dev.onebit.ir.ModelException if the node's attributes or constant inputs are invalid
     */
    Kernel create(NodeContext context);
}
