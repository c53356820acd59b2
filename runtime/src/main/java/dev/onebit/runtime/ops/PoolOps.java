package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

final class PoolOps {
    private PoolOps() {
    }

    static void register(OpRegistry r) {
    }
}
