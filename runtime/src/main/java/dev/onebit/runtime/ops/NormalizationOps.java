package dev.onebit.runtime.ops;

import dev.onebit.runtime.OpRegistry;

final class NormalizationOps {
    private NormalizationOps() {
    }

    static void register(OpRegistry r) {
    }
}
