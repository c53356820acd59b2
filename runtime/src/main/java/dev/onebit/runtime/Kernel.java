package dev.onebit.runtime;

/**
 * One node, prepared for execution: attributes parsed, constant inputs (weights) converted to
 * the layout the kernel wants. A kernel holds no per-run state, so one instance may run in
 * several threads at once.
 */
public interface Kernel {

    /**
     * Computes the node's outputs.
     *
     * @param inputs the node's inputs in order; null where an optional input is omitted
     * @return the outputs in order (null for an omitted optional output)
     * @throws dev.onebit.ir.ModelException if the inputs do not fit the node
     */
    Value[] run(Value[] inputs);

    /**
     * Output types and shapes, for shape inference. FLOAT inputs may be shape-only
     * ({@link Value#hasData()} false); integer inputs always carry data. The default runs the
     * kernel on zeros, which is exact but costs a full evaluation: kernels of heavy operators
     * override it.
     */
    default Value[] inferShapes(Value[] inputs) {
        Value[] filled = new Value[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            Value v = inputs[i];
            filled[i] = v == null || v.hasData() ? v : Value.zeros(v.shape);
        }
        return run(filled);
    }
}
