package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

/** Registers every operator group onebit ships. */
public final class Ops {
    private Ops() {
    }

    /** Adds all operators to {@code registry}, the binary layers with their XNOR kernels unless {@code onebit.kernels=reference}. */
    public static void registerAll(OpRegistry registry) {
        registerAll(registry, dev.onebit.runtime.kernels.Kernels.xnorEnabled());
    }

    /**
     * Adds all operators to {@code registry}; {@code xnor} false keeps the binary layers on
     * their reference kernels (see {@link BinaryOps}).
     */
    public static void registerAll(OpRegistry registry, boolean xnor) {
        ElementwiseOps.register(registry);
        ShapeOps.register(registry);
        NormalizationOps.register(registry);
        ConvOps.register(registry);
        MatMulOps.register(registry);
        PoolOps.register(registry);
        BinaryOps.register(registry, xnor);
    }
}
