package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

final class MatMulOps {
    private MatMulOps() {
    }

    static void register(OpRegistry r) {
    }
}
