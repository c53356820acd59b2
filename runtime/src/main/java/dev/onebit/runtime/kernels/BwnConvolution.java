package dev.onebit.runtime.kernels;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Buffers;

import java.util.Arrays;

/**
 * The BWN/CBD convolution with real-valued inputs: a 2-D BinaryConv
 * ({@code dev.onebit.runtime.ops.BinaryOps}) of stride 1 and one group, on the bit-packed
 * weight by table lookup ({@link BwnGemm}) instead of a float GEMM on its effective weight.
 *
 * <h2>The method</h2>
 * The tables are built once per input pixel, not once per im2col row: pixel {@code (iy, ix)} of
 * the zero-padded input ({@code Hp x Wp}) gets the tables of its C channel values, and the
 * border pixels tables of +0, so padded taps add exactly nothing (zero padding, as the
 * reference conv has it). The tables take 16 floats per four channels and padded pixel, four
 * times the input, in a per-thread buffer kept between calls. With stride 1, output
 * {@code (oy, ox)} at tap {@code (ky, kx)} reads
 * padded pixel {@code (oy + ky*dh, ox + kx*dw)}, whose index is
 * {@code q + ky*dh*Wp + kx*dw} for the <em>virtual</em> position {@code q = oy*Wp + ox}. So
 * over virtual positions the rows one tap reads are consecutive tables at a fixed offset, and
 * a tile of positions is one {@link BwnGemm#products} call over all taps, its sums kept in
 * registers from the first tap to the last. Positions with {@code ox >= OW} are computed and
 * dropped (a fraction {@code (Wp - OW) / Wp} of the work, 2/9 on a 7x7 map with pads 1).
 *
 * <p>Per plane {@code k} and output {@code o} the dot product is summed tap after tap (row-major
 * over the window), within a tap group after group of four channels, each group's table entry
 * added to the sum so far: another order than the reference's, so the result equals it to
 * float rounding (as for {@link BwnDense}), and the scalar and Vector API engines give
 * identical bits. Then the output step of {@code BinaryOps.outputStep}:
 * {@code y = alpha[0][o] * dot_0}, {@code y += alpha[k][o] * dot_k}, {@code y += bias[o]}
 * (+0.0f without one).
 *
 * <p>Thread-safe. Large convolutions split their tiles of positions over {@link Kernels#threads()}.
 */
public final class BwnConvolution {
    private static final long MIN_PARALLEL_WORK = 1L << 20;
    /** Virtual positions per tile: their sums ({@code TILE x blocks x 64} floats) stay in L1/L2. */
    private static final int TILE = 64;
    /** Per thread: the tables of a call, and one tile's sums. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[2][0]);

    private final BwnGemm gemm;
    private final Convolution.Params params;
    private final int planes;
    private final int m;
    private final int c;
    private final int kh;
    private final int kw;
    private final int blocks;
    private final int groups;
    /** The weight {@link BwnGemm#pack packed} as {@code K * M} columns of the taps' channels, tap-major. */
    private final byte[] packed;
    private final float[] alpha;
    private final int threads;
    private final long minParallelWork;

    /**
     * Whether this kernel runs a BinaryConv with these attributes and weight shape
     * {@code [K, M, C, kH, kW]}: two spatial axes, one group, all strides 1.
     */
    public static boolean supports(Convolution.Params params, int[] bShape) {
        if (bShape.length != 5 || params.group() != 1) {
            return false;
        }
        if (params.strides() != null) {
            for (long s : params.strides()) {
                if (s != 1) {
                    return false;
                }
            }
        }
        return params.kernelShape() == null || Arrays.equals(params.kernelShape(), Arrays.copyOfRange(bShape, 3, 5));
    }

    /**
     * Whether this kernel is expected to beat one float GEMM conv on the effective weight for a
     * weight shape {@code [K, M, C, kH, kW]}: one plane, at least 48 input channels, and at most
     * a quarter of the last block of 64 columns unused. Measured (3x3, pads 1, one thread):
     * 1.13-1.24x the float conv at 48-96 channels, 1.5-1.75x at 128-256, but 0.93-0.97x at 32
     * input channels, 0.57x at 16, 0.75x at 32 output channels (half a block).
     */
    public static boolean beatsFloatGemm(int[] bShape) {
        int cols = bShape[0] * bShape[1];
        int padded = (cols + BwnGemm.BLOCK - 1) / BwnGemm.BLOCK * BwnGemm.BLOCK;
        return bShape[0] == 1 && bShape[2] >= 48 && 4L * cols >= 3L * padded;
    }

    /**
     * Prepares the layer on the fastest engine this JVM can run.
     *
     * @param b the binary weight, BIT {@code [K, M, C, kH, kW]}
     * @param alpha {@code [K, M]}
     * @throws IllegalArgumentException if the layer is not one {@link #supports} takes, or alpha does not fit
     */
    public BwnConvolution(Convolution.Params params, Tensor b, float[] alpha) {
        this(Kernels.bwnGemm(), params, b, alpha, Kernels.threads(), MIN_PARALLEL_WORK);
    }

    /**
     * As the public constructor on the given engine, splitting a call's tiles into up to
     * {@code threads} parts when it has at least {@code minParallelWork} lookups.
     */
    BwnConvolution(BwnGemm gemm, Convolution.Params params, Tensor b, float[] alpha, int threads, long minParallelWork) {
        if (b.type() != DataType.BIT || !supports(params, b.shape())) {
            throw new IllegalArgumentException("needs a BIT weight [K, M, C, kH, kW], one group and stride 1, got "
                    + b + " with " + params);
        }
        int[] s = b.shape();
        this.gemm = gemm;
        this.params = params;
        this.threads = threads;
        this.minParallelWork = minParallelWork;
        this.planes = s[0];
        this.m = s[1];
        this.c = s[2];
        this.kh = s[3];
        this.kw = s[4];
        if (alpha.length != planes * m) {
            throw new IllegalArgumentException("alpha has " + alpha.length + " values, expected " + planes + " x " + m);
        }
        this.alpha = alpha.clone();
        int cols = Math.multiplyExact(planes, m);
        this.blocks = (cols + BwnGemm.BLOCK - 1) / BwnGemm.BLOCK;
        this.groups = BwnGemm.groups(c);
        int taps = kh * kw;
        // One matrix of cols x (taps * 4 * groups) inputs, input k * 4 * groups + ch holding
        // weight element (col, ch, tap k), bit ((col * C + ch) * taps + k) of B: each tap's
        // groups start on a pair of the packed layout, as BwnGemm's tap products read them.
        int span = 4 * groups;
        int depth = Math.multiplyExact(taps, span);
        byte[] bits = new byte[b.bytes().remaining()];
        b.bytes().get(bits);
        byte[] matrix = new byte[(int) ((Math.multiplyExact((long) cols, depth) + 7) / 8)];
        long src = 0;
        for (int col = 0; col < cols; col++) {
            for (int ch = 0; ch < c; ch++) {
                for (int k = 0; k < taps; k++, src++) {
                    if ((bits[(int) (src >>> 3)] >>> (src & 7) & 1) != 0) {
                        long e = (long) col * depth + k * span + ch;
                        matrix[(int) (e >>> 3)] |= (byte) (1 << (e & 7));
                    }
                }
            }
        }
        this.packed = BwnGemm.pack(matrix, cols, depth);
    }

    /** The output shape {@code [N, M, OH, OW]} for an input shape. */
    public int[] outputShape(int[] xShape) {
        ConvGeometry g = geometry(xShape);
        return new int[] {xShape[0], m, g.out[0], g.out[1]};
    }

    private ConvGeometry geometry(int[] xShape) {
        if (xShape.length != 4) {
            throw new IllegalArgumentException("input has rank " + xShape.length + ", weight has rank 4");
        }
        if (xShape[1] != c) {
            throw new IllegalArgumentException("input has " + xShape[1] + " channels, weight expects " + c);
        }
        return ConvGeometry.of(new int[] {xShape[2], xShape[3]}, new int[] {kh, kw}, params.strides(),
                params.dilations(), params.pads(), params.autoPad(), false);
    }

    /**
     * Runs the layer on an NCHW input.
     *
     * @param bias {@code [M]}, or null
     * @return {@code [N, M, OH, OW]}, a new array (or one recycled by {@link Buffers})
     * @throws IllegalArgumentException if the input or bias do not fit the layer
     */
    public float[] run(float[] x, int[] xShape, float[] bias) {
        ConvGeometry g = geometry(xShape);
        if (bias != null && bias.length != m) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, expected " + m);
        }
        int n = xShape[0];
        int h = xShape[2];
        int w = xShape[3];
        if (x.length != (long) n * c * h * w) {
            throw new IllegalArgumentException("input has " + x.length + " values, expected " + Arrays.toString(xShape));
        }
        int oh = g.out[0];
        int ow = g.out[1];
        int pt = g.padBegin[0];
        int pl = g.padBegin[1];
        int hp = g.paddedIn(0);
        int wp = g.paddedIn(1);
        float[] y = Buffers.floats(Math.multiplyExact(Math.multiplyExact(n, m), oh * ow));
        if (oh == 0 || ow == 0) {
            return y;
        }
        Layout l = new Layout(h, w, oh, ow, pt, pl, hp, wp, g.paddedTapOffsets(wp));
        long work = (long) n * l.positions * kh * kw * blocks * BwnGemm.BLOCK * groups;
        int parts = threads <= 1 || work < minParallelWork ? 1 : threads;
        if (n >= parts) {
            // A batch: whole images per part, each with its own tables.
            Kernels.parallelFor(parts, part -> {
                for (int img = (int) ((long) n * part / parts); img < (long) n * (part + 1) / parts; img++) {
                    image(x, img, bias, y, l, 1);
                }
            });
        } else {
            for (int img = 0; img < n; img++) {
                image(x, img, bias, y, l, Math.min(parts, l.tiles));
            }
        }
        return y;
    }

    /** The sizes of one call: input, output, padding, padded map, and the virtual positions. */
    private final class Layout {
        final int h, w, oh, ow, pt, pl, hp, wp;
        /** Table floats per pixel, and for the whole padded map. */
        final int ldt;
        final int tableFloats;
        /** Virtual positions up to the last real one; the ones past it would read beyond the map. */
        final int positions;
        final int tiles;
        /** Where each tap's tables start relative to the position's own pixel, in floats. */
        final int[] taps;

        Layout(int h, int w, int oh, int ow, int pt, int pl, int hp, int wp, int[] tapOffsets) {
            this.h = h;
            this.w = w;
            this.oh = oh;
            this.ow = ow;
            this.pt = pt;
            this.pl = pl;
            this.hp = hp;
            this.wp = wp;
            this.ldt = groups * BwnGemm.TABLE;
            this.tableFloats = Math.multiplyExact(Math.multiplyExact(hp, wp), ldt);
            this.positions = (oh - 1) * wp + ow;
            this.tiles = (positions + TILE - 1) / TILE;
            this.taps = new int[tapOffsets.length];
            for (int k = 0; k < taps.length; k++) {
                taps[k] = Math.multiplyExact(tapOffsets[k], ldt);
            }
        }
    }

    /** One image, its table rows and then its tiles split into {@code parts} (1: all in this thread). */
    private void image(float[] x, int img, float[] bias, float[] y, Layout l, int parts) {
        int xi = img * c * l.h * l.w;
        int yi = img * m * l.oh * l.ow;
        float[][] own = SCRATCH.get();
        if (own[0].length < l.tableFloats) {
            own[0] = new float[l.tableFloats];
        }
        float[] t = own[0];
        int ldt = l.ldt;
        Kernels.parallelFor(parts, part -> {
            int r0 = (int) ((long) l.hp * part / parts);
            int r1 = (int) ((long) l.hp * (part + 1) / parts);
            for (int iy = r0; iy < r1; iy++) {
                int row = iy * l.wp * ldt;
                int sy = iy - l.pt;
                if (sy < 0 || sy >= l.h) {
                    Arrays.fill(t, row, row + l.wp * ldt, 0f);
                    continue;
                }
                Arrays.fill(t, row, row + l.pl * ldt, 0f);
                gemm.tables(x, xi + sy * l.w, 1, l.h * l.w, l.w, c, t, row + l.pl * ldt, ldt);
                Arrays.fill(t, row + (l.pl + l.w) * ldt, row + l.wp * ldt, 0f);
            }
        });
        Kernels.parallelFor(parts, part -> {
            float[][] mine = SCRATCH.get();
            int lds = blocks * BwnGemm.BLOCK;
            if (mine[1].length < TILE * lds) {
                mine[1] = new float[TILE * lds];
            }
            float[] s = mine[1];
            int tile0 = (int) ((long) l.tiles * part / parts);
            int tile1 = (int) ((long) l.tiles * (part + 1) / parts);
            for (int tile = tile0; tile < tile1; tile++) {
                int q0 = tile * TILE;
                int rows = Math.min(TILE, l.positions - q0);
                gemm.products(t, q0 * ldt, ldt, rows, groups, l.taps, packed, 0, blocks, s, 0, lds);
                output(s, lds, q0, rows, l.wp, l.ow, bias, y, yi, l.oh * l.ow);
            }
        });
    }

    /** The output step for one tile's sums, written to the real positions of {@code y}'s image. */
    private void output(float[] s, int lds, int q0, int rows, int wp, int ow, float[] bias, float[] y, int yi,
                        int plane) {
        for (int o = 0; o < m; o++) {
            float a = alpha[o];
            float add = bias == null ? 0f : bias[o];
            int yo = yi + o * plane;
            for (int r = 0; r < rows; r++) {
                int q = q0 + r;
                int ox = q % wp;
                if (ox >= ow) {
                    continue;
                }
                float v = a * s[r * lds + o];
                for (int k = 1; k < planes; k++) {
                    v += alpha[k * m + o] * s[r * lds + k * m + o];
                }
                // Always an add, of 0 without a bias (-0.0 becomes +0.0), as in BinaryOps.outputStep.
                y[yo + (q / wp) * ow + ox] = v + add;
            }
        }
    }

    @Override
    public String toString() {
        return "BwnConvolution[" + planes + ", " + m + ", " + c + ", " + kh + ", " + kw + "] on " + gemm.name();
    }
}
