package dev.onebit.runtime;

/**
 * A layer's kernel that can add a residual to its output in its own output step, so that the
 * executor runs a layer and the Add of a shortcut as one node ({@code AddFusion}).
 */
public interface ResidualKernel extends SignKernel {

    /**
     * Output 0 plus {@code residual}, elementwise, with the bits of an Add of the two
     * ({@code output + residual}, or {@code residual + output} when {@code residualFirst});
     * null when this kernel cannot do it for these inputs (the caller then runs the node and
     * the Add). Input 0 may be packed.
     *
     * @param residual a float value, of any shape (only the output's own shape is taken)
     */
    Value runPlus(Value[] inputs, Value residual, boolean residualFirst);
}
