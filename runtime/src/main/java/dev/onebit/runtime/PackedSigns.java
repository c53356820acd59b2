package dev.onebit.runtime;

import dev.onebit.runtime.kernels.BinaryGemm;
import dev.onebit.runtime.kernels.ConvGeometry;

import java.util.Arrays;

/**
 * A ±1 activation tensor kept bit-packed between binary layers, so that a Binarize, a MaxPool
 * of signs or a flatten in between never writes floats: the runtime's form of a value that is
 * all -1 and +1 (see {@link dev.onebit.runtime.ops.BinaryOps} for the conventions).
 *
 * <h2>Layout</h2>
 * The tensor is read as {@code images} items of {@code channels x pixels} elements in
 * row-major order (NCHW: {@code pixels} = H x W; a rank-2 [N, F] tensor has F channels of one
 * pixel). Channels are packed 64 to a word, pixel by pixel:
 * <pre>
 *   words[(image * blocks + c / 64) * pixels + p], bit c % 64   (blocks = ceil(channels / 64))
 *   bit 1 = -1, bit 0 = +1; bits of channels past the last are 0
 * </pre>
 * the layout the XNOR convolution reads, so a layer's packed output is the next layer's input
 * as it is. A Flatten or Reshape keeps the element order and so the words; only the value's
 * logical shape changes.
 *
 * <p>Immutable once made: kernels read {@link #words} and never write it.
 */
public final class PackedSigns {
    /** Items (the batch). */
    public final int images;
    /** Channels per item. */
    public final int channels;
    /** Pixels per channel (product of the spatial sizes; 1 for rank 2). */
    public final int pixels;
    /** Words per pixel: {@code ceil(channels / 64)}. */
    public final int blocks;
    /** {@code [images][blocks][pixels]}, see the class comment. */
    public final long[] words;

    /**
     * Wraps packed words (not copied).
     *
     * @throws IllegalArgumentException if the array does not have the layout's size
     */
    public PackedSigns(int images, int channels, int pixels, long[] words) {
        this.images = images;
        this.channels = channels;
        this.pixels = pixels;
        this.blocks = (channels + 63) >>> 6;
        if (images < 0 || channels < 1 || pixels < 1 || words.length != (long) images * blocks * pixels) {
            throw new IllegalArgumentException("packed signs " + images + " x " + channels + " x " + pixels
                    + " need " + (long) images * blocks * pixels + " words, got " + words.length);
        }
        this.words = words;
    }

    /** Zeroed words for {@code images x channels x pixels} signs (all +1). */
    public static PackedSigns allPlus(int images, int channels, int pixels) {
        long blocks = (channels + 63) >>> 6;
        return new PackedSigns(images, channels, pixels, new long[Math.toIntExact(images * blocks * pixels)]);
    }

    /**
     * The signs of a float tensor of rank 2 or more (sign(0) = +1, NaN +1), packed by the
     * engine's vector code.
     */
    public static PackedSigns pack(float[] x, int[] shape, BinaryGemm gemm) {
        int images = shape[0];
        int channels = shape[1];
        int pixels = pixelsOf(shape);
        PackedSigns s = allPlus(images, channels, pixels);
        int per = channels * pixels;
        for (int i = 0; i < images; i++) {
            if (pixels == 1) {
                // One pixel: the channels are contiguous, so the row packer gives the same words.
                gemm.packSigns(x, i * per, channels, s.words, i * s.blocks);
            } else {
                gemm.packChannels(x, i * per, channels, pixels, s.words, i * s.blocks * pixels, pixels);
            }
        }
        return s;
    }

    /**
     * {@link #pack} of an input of rank 3 or more, and the channel sums of |max(x, 0)| per image
     * and pixel added to {@code sums} ({@code [images][pixels]}) in the same pass: see
     * {@link BinaryGemm#packChannelsAndSums}.
     */
    public static PackedSigns packWithSums(float[] x, int[] shape, BinaryGemm gemm, float[] sums) {
        int images = shape[0];
        int channels = shape[1];
        int pixels = pixelsOf(shape);
        PackedSigns s = allPlus(images, channels, pixels);
        for (int i = 0; i < images; i++) {
            gemm.packChannelsAndSums(x, i * channels * pixels, channels, pixels, s.words, i * s.blocks * pixels, pixels,
                    sums, i * pixels);
        }
        return s;
    }

    /** Elements per channel of a value of this shape: the product of its axes after the second. */
    static int pixelsOf(int[] shape) {
        int pixels = 1;
        for (int d = 2; d < shape.length; d++) {
            pixels *= shape[d];
        }
        return pixels;
    }

    /**
     * True when a value of this shape has these signs in the NCHW channel layout: shape
     * {@code [images, channels, ...]} with {@link #pixels} elements per channel (a reshaped
     * value may hold words packed for another split of its items).
     */
    public boolean isChannelLayoutOf(int[] shape) {
        if (shape.length < 2 || shape[0] != images || shape[1] != channels) {
            return false;
        }
        long p = 1;
        for (int d = 2; d < shape.length; d++) {
            p *= shape[d];
        }
        return p == pixels;
    }

    /** Elements per item, {@code channels * pixels}. */
    public int perImage() {
        return channels * pixels;
    }

    /** True when element {@code (image, c, p)} is -1. */
    public boolean isNegative(int image, int c, int p) {
        return (words[(image * blocks + (c >>> 6)) * pixels + p] >>> (c & 63) & 1L) != 0;
    }

    /** The tensor as -1f/+1f floats, row-major. */
    public float[] unpack() {
        float[] y = new float[Math.multiplyExact(images, perImage())];
        int i = 0;
        for (int n = 0; n < images; n++) {
            for (int c = 0; c < channels; c++) {
                int w = (n * blocks + (c >>> 6)) * pixels;
                int bit = c & 63;
                for (int p = 0; p < pixels; p++) {
                    y[i++] = (words[w + p] >>> bit & 1L) != 0 ? -1f : 1f;
                }
            }
        }
        return y;
    }

    /**
     * MaxPool of ±1 values: the maximum of a window is -1 only when every tap in it is -1, so it
     * is the AND of the taps' words. Padded taps are skipped (ONNX pads MaxPool with -inf).
     *
     * @param g the pool's geometry over this tensor's spatial shape, whose pixel count must be
     *     {@link #pixels}
     * @return the pooled signs, or null when a window lies wholly in the padding: ONNX gives
     *     -inf there, which is not a sign
     */
    public PackedSigns maxPool(ConvGeometry g) {
        return maxPool(g, windowTaps(g));
    }

    /**
     * {@link #maxPool(ConvGeometry)} with the windows' taps computed once by
     * {@link #windowTaps} (a pool runs on the same shape call after call).
     */
    public PackedSigns maxPool(ConvGeometry g, int[][] taps) {
        if (g.inCount() != pixels || taps.length != g.outCount()) {
            throw new IllegalArgumentException("pool geometry over " + g.inCount() + " pixels, signs have " + pixels);
        }
        int outPixels = g.outCount();
        for (int[] t : taps) {
            if (t.length == 0) {
                return null;
            }
        }
        PackedSigns out = allPlus(images, channels, outPixels);
        for (int n = 0; n < images; n++) {
            for (int b = 0; b < blocks; b++) {
                int src = (n * blocks + b) * pixels;
                int dst = (n * blocks + b) * outPixels;
                int used = Math.min(64, channels - b * 64);
                long mask = used == 64 ? -1L : (1L << used) - 1;
                for (int q = 0; q < outPixels; q++) {
                    long w = mask;
                    for (int t : taps[q]) {
                        w &= words[src + t];
                    }
                    out.words[dst + q] = w;
                }
            }
        }
        return out;
    }

    /** For every output pixel of a pool, the input pixels of its window that lie inside the input. */
    public static int[][] windowTaps(ConvGeometry g) {
        int kc = g.kernelCount();
        int[] sources = g.tapSources();
        int[][] taps = new int[g.outCount()][];
        int[] buf = new int[kc];
        for (int q = 0; q < taps.length; q++) {
            int count = 0;
            for (int t = 0; t < kc; t++) {
                int s = sources[q * kc + t];
                if (s >= 0) {
                    buf[count++] = s;
                }
            }
            taps[q] = Arrays.copyOf(buf, count);
        }
        return taps;
    }

    @Override
    public String toString() {
        return "PackedSigns[" + images + " x " + channels + " x " + pixels + "]";
    }
}
