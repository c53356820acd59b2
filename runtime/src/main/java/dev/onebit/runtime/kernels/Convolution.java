package dev.onebit.runtime.kernels;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A float32 N-d convolution (NCHW layout, ONNX Conv semantics) prepared once per node.
 *
 * <p>Each image is copied once into a zero-padded buffer (a per-thread scratch array, and no
 * copy at all without padding); after that, every output is a dot
 * product between one row of the weight matrix ({@code [M/group, C/group * taps]}) and input
 * values at fixed offsets, so the convolution is a {@link FloatGemm} product whose right
 * operand is addressed through offset tables (an implicit im2col: nothing is unfolded). A
 * constant weight is packed when the kernel is created. Depthwise convolutions (one input
 * channel per group) skip the GEMM for a direct loop along output rows.
 */
public final class Convolution {

    /**
     * The node's attributes.
     *
     * @param group number of groups
     * @param kernelShape kernel_shape, or null to take it from the weight
     * @param strides strides, or null
     * @param dilations dilations, or null
     * @param pads explicit pads, or null
     * @param autoPad auto_pad
     */
    public record Params(int group, int[] kernelShape, long[] strides, long[] dilations, long[] pads, String autoPad) {
    }

    /** Per-thread buffer for padded inputs, reused across runs and convolutions. */
    private static final ThreadLocal<float[]> SCRATCH = ThreadLocal.withInitial(() -> new float[0]);

    private final FloatGemm gemm;
    private final Params params;
    private final int[] constWShape;
    private final float[] constW;
    private final PackedMatrix[] constPacked;
    private final float[] constBias;
    private final int threads;
    private final long minParallelWork;

    /**
     * Prepares a convolution.
     *
     * @param w the weight when it is constant (packed now), else null
     * @param wShape its shape, or null
     * @param bias the bias when it is constant, else null
     * @throws IllegalArgumentException if the constant weight or bias do not fit the attributes
     */
    public Convolution(FloatGemm gemm, Params params, float[] w, int[] wShape, float[] bias) {
        // Below ~4 M multiply-adds per image and group a hand-off to other threads costs more than it saves.
        this(gemm, params, w, wShape, bias, Kernels.threads(), 1L << 22);
    }

    /**
     * As the public constructor, splitting each image's output positions into {@code threads}
     * parts (run by {@link Kernels#parallelFor}) when a product has at least {@code minParallelWork}
     * multiply-adds.
     */
    Convolution(FloatGemm gemm, Params params, float[] w, int[] wShape, float[] bias, int threads, long minParallelWork) {
        this.threads = threads;
        this.minParallelWork = minParallelWork;
        this.gemm = gemm;
        this.params = params;
        this.constW = w;
        this.constWShape = wShape == null ? null : wShape.clone();
        this.constBias = bias;
        if (w != null) {
            checkWeight(wShape);
            this.constPacked = isDepthwise(wShape) ? null : packAll(w, wShape);
        } else {
            this.constPacked = null;
        }
    }

    private boolean isDepthwise(int[] wShape) {
        return wShape[1] == 1 && params.group() > 1;
    }

    /**
     * Checks a weight shape against the attributes (rank, group, kernel_shape).
     *
     * @throws IllegalArgumentException naming what does not fit
     */
    public void checkWeight(int[] wShape) {
        if (wShape.length < 3) {
            throw new IllegalArgumentException("weight must have rank >= 3, has shape " + Arrays.toString(wShape));
        }
        int g = params.group();
        if (g < 1 || wShape[0] % g != 0) {
            throw new IllegalArgumentException("group " + g + " does not divide the " + wShape[0] + " output channels");
        }
        int[] ks = params.kernelShape();
        if (ks != null && !Arrays.equals(ks, Arrays.copyOfRange(wShape, 2, wShape.length))) {
            throw new IllegalArgumentException("kernel_shape " + Arrays.toString(ks) + " does not match weight shape "
                    + Arrays.toString(wShape));
        }
    }

    private PackedMatrix[] packAll(float[] w, int[] wShape) {
        int g = params.group();
        int mg = wShape[0] / g;
        int k = count(wShape) / wShape[0];
        PackedMatrix[] p = new PackedMatrix[g];
        for (int i = 0; i < g; i++) {
            p[i] = gemm.pack(w, i * mg * k, k, 1, mg, k, 1f);
        }
        return p;
    }

    /** The window geometry for an input shape and weight shape. */
    public ConvGeometry geometry(int[] xShape, int[] wShape) {
        if (xShape.length != wShape.length) {
            throw new IllegalArgumentException("input has rank " + xShape.length + ", weight has rank " + wShape.length);
        }
        if (xShape[1] != wShape[1] * params.group()) {
            throw new IllegalArgumentException("input has " + xShape[1] + " channels, weight expects "
                    + wShape[1] + " x group " + params.group());
        }
        return ConvGeometry.of(Arrays.copyOfRange(xShape, 2, xShape.length), Arrays.copyOfRange(wShape, 2, wShape.length),
                params.strides(), params.dilations(), params.pads(), params.autoPad(), false);
    }

    /** The output shape for an input shape (and the weight shape when the weight is not constant). */
    public int[] outputShape(int[] xShape, int[] wShape) {
        int[] ws = constWShape != null ? constWShape : wShape;
        ConvGeometry g = geometry(xShape, ws);
        int[] o = new int[xShape.length];
        o[0] = xShape[0];
        o[1] = ws[0];
        System.arraycopy(g.out, 0, o, 2, g.rank());
        return o;
    }

    /**
     * Computes the convolution.
     *
     * @param w the weight when it was not constant at creation (ignored otherwise)
     * @param wShape its shape
     * @param bias the bias when it was not constant at creation, or null for none
     * @return the output, shaped as {@link #outputShape}
     */
    public float[] run(float[] x, int[] xShape, float[] w, int[] wShape, float[] bias) {
        float[] wt = constW != null ? constW : w;
        int[] ws = constW != null ? constWShape : wShape;
        float[] b = constW != null && constBias != null ? constBias : bias;
        if (constW == null) {
            checkWeight(ws);
        }
        ConvGeometry g = geometry(xShape, ws);
        int m = ws[0];
        if (b != null && b.length != m) {
            throw new IllegalArgumentException("bias has " + b.length + " values, expected " + m);
        }
        int n = xShape[0];
        int c = xShape[1];
        int r = g.rank();
        int[] padded = new int[r];
        for (int i = 0; i < r; i++) {
            padded[i] = g.in[i] + g.padBegin[i] + g.padEnd[i];
        }
        int plane = count(padded);
        int[] pstride = new int[r];
        for (int i = r - 1, s = 1; i >= 0; s *= padded[i], i--) {
            pstride[i] = s;
        }
        int opos = g.outCount();
        // Every element is written below (the GEMM overwrites, the depthwise kernel fills first).
        float[] y = dev.onebit.runtime.Buffers.floats(Math.multiplyExact(n * m, opos));
        if (y.length == 0) {
            return y;
        }
        int group = params.group();
        int cg = ws[1];
        int mg = m / group;
        int[] taps = tapOffsets(g, pstride);
        boolean depthwise = isDepthwise(ws);
        boolean direct = !depthwise && isShallow(g, group, cg);
        boolean gemmPath = !depthwise && !direct;
        int kc = g.kernelCount();
        int[] rowOff = new int[gemmPath ? cg * kc : 0];
        for (int ci = 0; ci < cg && gemmPath; ci++) {
            for (int t = 0; t < kc; t++) {
                rowOff[ci * kc + t] = ci * plane + taps[t];
            }
        }
        int[] colOff = gemmPath ? outputOffsets(g, pstride) : null;
        PackedMatrix[] packed = !gemmPath ? null : constPacked != null ? constPacked : packAll(wt, ws);
        long work = (long) mg * opos * cg * kc;
        int parts = work < minParallelWork ? 1 : Math.max(1, Math.min(threads, opos));
        boolean unpadded = g.unpadded();
        IntConsumer image = img -> {
            // The padded copy is a per-thread scratch: it holds one image of the thread's at a time.
            float[] xp = unpadded ? x : pad(x, img * c * g.inCount(), c, g, padded);
            int xBase = unpadded ? img * c * plane : 0;
            if (depthwise) {
                Depthwise.run(xp, xBase, c, plane, g, pstride, taps, wt, mg, b, y, img * m * opos);
                return;
            }
            if (direct) {
                shallow(xp, xBase, cg, plane, padded[1], g, wt, m, b, y, img * m * opos);
                return;
            }
            for (int gi = 0; gi < group; gi++) {
                int bBase = xBase + gi * cg * plane;
                int cBase = (img * m + gi * mg) * opos;
                PackedMatrix wg = packed[gi];
                int biasOff = gi * mg;
                if (parts == 1) {
                    gemm.multiply(wg, opos, xp, bBase, rowOff, colOff, b, biasOff, false, y, cBase, opos, 1);
                    continue;
                }
                Kernels.parallelFor(parts, part -> {
                    int j0 = (int) ((long) opos * part / parts);
                    int j1 = (int) ((long) opos * (part + 1) / parts);
                    int[] cols = Arrays.copyOfRange(colOff, j0, j1);
                    gemm.multiply(wg, j1 - j0, xp, bBase, rowOff, cols, b, biasOff, false, y, cBase + j0, opos, 1);
                });
            }
        };
        // A batch of images each too small to split splits by images instead.
        int imageParts = parts > 1 || n < 2 || (long) n * group * work < minParallelWork ? 1 : Math.min(threads, n);
        if (imageParts == 1) {
            for (int img = 0; img < n; img++) {
                image.accept(img);
            }
        } else {
            Kernels.parallelFor(imageParts, part -> {
                for (int img = n * part / imageParts, end = n * (part + 1) / imageParts; img < end; img++) {
                    image.accept(img);
                }
            });
        }
        return y;
    }

    /** Longest dot product (input channels x taps) that {@link #shallow} computes. */
    static final int SHALLOW_DEPTH = 32;
    /** Narrowest output row that {@link #shallow} computes: one 512-bit vector of floats. */
    static final int SHALLOW_MIN_ROW = 16;

    /**
     * True for a first layer's conv: 2-D, one group, a window larger than 1x1, stride and
     * dilation 1, a dot product of at most {@value #SHALLOW_DEPTH} (a 3x3 conv of a gray or RGB
     * image) and output rows of at least {@value #SHALLOW_MIN_ROW}. The GEMM spends more on its
     * tiles' set-up and transposing stores than on 9 or 27 multiply-adds per output, but the
     * row sums of a narrower row run scalar: a 1x1 conv 32 -> 64 at 14x14 (Bi-Real's real
     * shortcut in the vgg sample) took 250 us that way, 17 us through the GEMM.
     */
    static boolean isShallow(ConvGeometry g, int group, int cg) {
        return g.rank() == 2 && group == 1 && g.kernelCount() > 1 && cg * g.kernelCount() <= SHALLOW_DEPTH
                && g.out[1] >= SHALLOW_MIN_ROW
                && g.strides[0] == 1 && g.strides[1] == 1 && g.dilations[0] == 1 && g.dilations[1] == 1;
    }

    /**
     * The shallow conv of one image, row by row: with stride 1 the inputs under tap (i, j) for a
     * whole output row are contiguous in the padded input, so each output row of every channel
     * is a sum of shifted input rows ({@link FloatPasses#tapSums}: bias first, then taps in
     * (channel, row, column) order).
     */
    private void shallow(float[] xp, int xBase, int cg, int plane, int wp, ConvGeometry g, float[] w, int m,
                         float[] bias, float[] y, int yBase) {
        int oh = g.out[0];
        int ow = g.out[1];
        int kh = g.kernel[0];
        int kw = g.kernel[1];
        int[] off = new int[cg * kh * kw];
        for (int ci = 0, t = 0; ci < cg; ci++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    off[t++] = ci * plane + i * wp + j;
                }
            }
        }
        FloatPasses passes = Kernels.floatPasses();
        for (int r = 0; r < oh; r++) {
            passes.tapSums(xp, xBase + r * wp, off, w, m, bias, y, yBase + r * ow, oh * ow, ow);
        }
    }

    /** Offsets in a padded plane of each kernel tap, taps in row-major order. */
    static int[] tapOffsets(ConvGeometry g, int[] pstride) {
        int kc = g.kernelCount();
        int[] off = new int[kc];
        int[] idx = new int[g.rank()];
        for (int t = 0; t < kc; t++) {
            int o = 0;
            for (int d = 0; d < idx.length; d++) {
                o += idx[d] * g.dilations[d] * pstride[d];
            }
            off[t] = o;
            increment(idx, g.kernel);
        }
        return off;
    }

    /** Offsets in a padded plane of each output position's window origin, row-major. */
    static int[] outputOffsets(ConvGeometry g, int[] pstride) {
        int count = g.outCount();
        int[] off = new int[count];
        int[] idx = new int[g.rank()];
        for (int j = 0; j < count; j++) {
            int o = 0;
            for (int d = 0; d < idx.length; d++) {
                o += idx[d] * g.strides[d] * pstride[d];
            }
            off[j] = o;
            increment(idx, g.out);
        }
        return off;
    }

    /** Product of the sizes. */
    static int count(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Advances a row-major multi-index; wraps to zeros after the last position. */
    static void increment(int[] idx, int[] size) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < size[d]) {
                return;
            }
            idx[d] = 0;
        }
    }

    /**
     * Copies {@code planes} planes (from {@code x[xOffset]}) into a buffer with the geometry's zero padding. The buffer is
     * this thread's scratch array when that is large enough (it is read only until the caller's
     * run ends), so steady-state runs allocate nothing here; every element, border included, is
     * written, because the scratch holds whatever the previous convolution left.
     */
    static float[] pad(float[] x, int xOffset, int planes, ConvGeometry g, int[] padded) {
        int r = g.rank();
        int inPlane = g.inCount();
        int outPlane = count(padded);
        int need = Math.multiplyExact(planes, outPlane);
        float[] xp = SCRATCH.get();
        if (xp.length < need) {
            xp = new float[need];
            SCRATCH.set(xp);
        }
        int rowLen = g.in[r - 1];
        int padLen = padded[r - 1];
        int before = g.padBegin[r - 1];
        int rows = outPlane / padLen;
        // srcRow[i]: which input row lands in padded row i, or -1 for a row of padding
        int[] srcRow = new int[rows];
        int[] idx = new int[r];
        for (int row = 0; row < rows; row++) {
            int src = 0;
            for (int d = 0; d < r - 1 && src >= 0; d++) {
                int at = idx[d] - g.padBegin[d];
                src = at < 0 || at >= g.in[d] ? -1 : src * g.in[d] + at;
            }
            srcRow[row] = src;
            idx[r - 1] = padLen - 1;
            increment(idx, padded);
        }
        for (int p = 0; p < planes; p++) {
            int src = xOffset + p * inPlane;
            int dst = p * outPlane;
            for (int row = 0; row < rows; row++, dst += padLen) {
                if (srcRow[row] < 0) {
                    Arrays.fill(xp, dst, dst + padLen, 0f);
                } else {
                    Arrays.fill(xp, dst, dst + before, 0f);
                    System.arraycopy(x, src + srcRow[row] * rowLen, xp, dst + before, rowLen);
                    Arrays.fill(xp, dst + before + rowLen, dst + padLen, 0f);
                }
            }
        }
        return xp;
    }
}
