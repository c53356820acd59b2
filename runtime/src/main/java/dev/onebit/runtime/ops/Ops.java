package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

/** Registers every operator group onebit ships. */
public final class Ops {
    private Ops() {
    }

    /** Adds all operators to {@code registry}. */
    public static void registerAll(OpRegistry registry) {
        ElementwiseOps.register(registry);
        ShapeOps.register(registry);
        NormalizationOps.register(registry);
        ConvOps.register(registry);
        MatMulOps.register(registry);
        PoolOps.register(registry);
        BinaryOps.register(registry);
    }
}
