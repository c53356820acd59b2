package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

final class ConvOps {
    private ConvOps() {
    }

    static void register(OpRegistry r) {
    }
}
