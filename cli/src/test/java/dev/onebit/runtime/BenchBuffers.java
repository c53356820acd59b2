package dev.onebit.runtime;

/**
 * Lets the kernel benchmarks ({@code dev.onebit.cli.jmh}) hand an output array back to
 * {@link Buffers}, as the {@link Executor} does once a value is dead. Kernels that take their
 * output from {@link Buffers#floats} (the XNOR convolution) then reuse one warm array per call,
 * as they do inside a graph, instead of allocating and zeroing a fresh one every call, which
 * would time the allocator rather than the kernel.
 *
 * <p>Test sources only, and in this package only because {@code Buffers.recycle} is
 * package-private (the classes are on the class path, not in named modules, so the split
 * package is allowed).
 */
public final class BenchBuffers {
    private BenchBuffers() {
    }

    /**
     * Gives {@code a} back to this thread's pool when it came from {@link Buffers#floats} on
     * this thread; anything else is ignored. The caller must not touch {@code a} afterwards.
     */
    public static void giveBack(float[] a) {
        Buffers.recycle(a);
    }
}
