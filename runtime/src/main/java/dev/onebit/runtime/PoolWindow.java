package dev.onebit.runtime;

import dev.onebit.runtime.kernels.ConvGeometry;

/**
 * A pooling node's kernel that tells its window on a given input. The op reads the node's
 * attributes once, with its own opset rules and errors; others that need the same window
 * (the packed-signs MaxPool of {@link SignPlan}) ask it here instead of reading them again.
 */
public interface PoolWindow extends Kernel {

    /**
     * The window geometry on an input of this shape ({@code [N, C, spatial...]}).
     *
     * @throws dev.onebit.ir.ModelException naming the node when its attributes do not fit the shape
     */
    ConvGeometry window(int[] inputShape);
}
