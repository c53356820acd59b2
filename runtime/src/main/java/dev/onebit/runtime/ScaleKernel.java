package dev.onebit.runtime;

/**
 * The kernel of an {@code ActivationScale} node, which can also finish its result from channel
 * sums computed elsewhere: the executor then reads the activation once for a Binarize and the
 * scales of the same activation ({@code ScaleFusion}).
 */
public interface ScaleKernel extends Kernel {

    /**
     * What {@link #run} returns for an input of shape {@code xShape} whose channel sums of |x|
     * (per image and pixel, channels added in order, each add rounded to float) are
     * {@code sums}.
     *
     * @param sums {@code [images][pixels]} sums; the array may be changed
     * @param xShape the shape of the input the sums were taken of
     */
    Value fromChannelSums(float[] sums, int[] xShape);
}
