package dev.onebit.runtime;

/**
 * A kernel that works on {@link PackedSigns}: it takes its first input packed as well as in
 * floats (in {@link #run} and {@link #runSigns}), and can give its first output as the packed
 * signs of what {@link #run} would give. The executor decides per node which of the two it
 * calls ({@code SignPlan}); either way the graph means the same.
 */
public interface SignKernel extends Kernel {

    /**
     * Runs the node with output 0 as {@code sign(run(inputs)[0])} (sign(0) = +1), packed, where
     * the kernel can produce that more cheaply, else as floats; callers accept either.
     * Input 0 may be packed.
     */
    Value[] runSigns(Value[] inputs);
}
