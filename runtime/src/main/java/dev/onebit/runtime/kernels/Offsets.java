package dev.onebit.runtime.kernels;

/** Offset tables for {@link FloatGemm#multiply} that describe ordinary strided matrices. */
public final class Offsets {
    private Offsets() {
    }

    /** {@code {0, stride, 2*stride, ...}}, {@code count} entries. */
    public static int[] strided(int count, int stride) {
        int[] o = new int[count];
        for (int i = 0; i < count; i++) {
            o[i] = i * stride;
        }
        return o;
    }
}
