package dev.onebit.runtime.kernels;

import dev.onebit.runtime.Buffers;

import java.util.Arrays;

/**
 * MaxPool, AveragePool and the global pools on NCHW float data (any spatial rank 1..3 through
 * size-1 leading axes). Window bounds are resolved per axis before the loops, so the inner
 * loops run only over in-bounds taps with no per-element tests.
 */
public final class Pooling {
    private Pooling() {
    }

    /** Per-axis window bounds: first and end (exclusive) in-bounds tap, and tap counts. */
    private record Axis(int in, int out, int stride, int dilation, int[] t0, int[] t1, int[] inPad) {
    }

    private static Axis axis(ConvGeometry g, int d) {
        int in = g.in[d];
        int k = g.kernel[d];
        int s = g.strides[d];
        int dl = g.dilations[d];
        int out = g.out[d];
        int[] t0 = new int[out];
        int[] t1 = new int[out];
        int[] inPad = new int[out];
        for (int o = 0; o < out; o++) {
            int start = o * s - g.padBegin[d];
            t0[o] = ConvGeometry.firstTap(start, 0, dl, k);
            t1[o] = ConvGeometry.endTap(start, in, dl, k);
            inPad[o] = Math.max(0, ConvGeometry.endTap(start, in + g.padEnd[d], dl, k)
                    - ConvGeometry.firstTap(start, -g.padBegin[d], dl, k));
        }
        return new Axis(in, out, s, dl, t0, t1, inPad);
    }

    /** Axes of a geometry padded at the front to three. */
    private static Axis[] axes3(ConvGeometry g) {
        Axis[] a = new Axis[3];
        int lead = 3 - g.rank();
        for (int i = 0; i < 3; i++) {
            a[i] = i < lead ? new Axis(1, 1, 1, 1, new int[] {0}, new int[] {1}, new int[] {1}) : axis(g, i - lead);
        }
        return a;
    }

    /**
     * Max pooling.
     *
     * @param indices null, or an array of the output's size that receives the flat input index
     *     of each maximum (over {@code [N, C, in...]}, row-major or, if {@code columnMajor}, with
     *     the spatial axes in reverse order)
     */
    public static float[] maxPool(float[] x, int[] xShape, ConvGeometry g, long[] indices, boolean columnMajor) {
        if (g.rank() > 3) {
            throw new IllegalArgumentException("pooling supports 1 to 3 spatial axes, got " + g.rank());
        }
        Axis[] ax = axes3(g);
        int planes = xShape[0] * xShape[1];
        int inPlane = g.inCount();
        int outPlane = g.outCount();
        if (indices == null && isPairPool(g)) {
            // Writes every output.
            float[] y = Buffers.floats(planes * outPlane);
            pairPool(x, g, planes, y, Kernels.floatPasses());
            return y;
        }
        if (indices == null && g.rank() <= 2) {
            // Writes every output.
            float[] y = Buffers.floats(planes * outPlane);
            FloatPasses passes = Kernels.floatPasses();
            maxPoolPlanes(x, ax, g, planes, y, passes, passes.prefersShiftedMax() && outPlane >= SHIFTED_MIN_OUTPUTS);
            return y;
        }
        float[] y = new float[planes * outPlane];
        int h = ax[1].in;
        int w = ax[2].in;
        int lead = 3 - g.rank();
        for (int p = 0; p < planes; p++) {
            int xb = p * inPlane;
            int yi = p * outPlane;
            for (int od = 0; od < ax[0].out; od++) {
                for (int oh = 0; oh < ax[1].out; oh++) {
                    for (int ow = 0; ow < ax[2].out; ow++, yi++) {
                        float best = Float.NEGATIVE_INFINITY;
                        int arg = -1;
                        for (int td = ax[0].t0[od]; td < ax[0].t1[od]; td++) {
                            int id = pos(g, lead, 0, od, td);
                            for (int th = ax[1].t0[oh]; th < ax[1].t1[oh]; th++) {
                                int ih = pos(g, lead, 1, oh, th);
                                int rowBase = xb + (id * h + ih) * w;
                                int tw0 = ax[2].t0[ow];
                                int tw1 = ax[2].t1[ow];
                                int iw = pos(g, lead, 2, ow, tw0);
                                for (int tw = tw0; tw < tw1; tw++, iw += ax[2].dilation) {
                                    float v = x[rowBase + iw];
                                    if (v > best || arg < 0) {
                                        best = v;
                                        arg = (id * h + ih) * w + iw;
                                    }
                                }
                            }
                        }
                        y[yi] = best;
                        if (indices != null) {
                            indices[yi] = arg < 0 ? 0 : (long) p * inPlane + (columnMajor ? transpose(arg, ax) : arg);
                        }
                    }
                }
            }
        }
        return y;
    }

    /**
     * True for the VGG-style pool: 2-D, 2x2 windows, stride 2, no padding or dilation, every
     * window inside the input.
     */
    static boolean isPairPool(ConvGeometry g) {
        return g.rank() == 2 && g.kernel[0] == 2 && g.kernel[1] == 2 && g.strides[0] == 2 && g.strides[1] == 2
                && g.dilations[0] == 1 && g.dilations[1] == 1 && g.padBegin[0] == 0 && g.padBegin[1] == 0
                && 2 * g.out[0] <= g.in[0] && 2 * g.out[1] <= g.in[1];
    }

    /**
     * The pair pool ({@link #isPairPool}) plane by plane, each output row from two input rows
     * ({@link FloatPasses#pairMaxRows}), with the general pool's bits, without the sub-plane
     * copies or per-tap gathers of the general paths (vgg's 32 planes 28x28: 11.8 -> 6.1 us).
     */
    static void pairPool(float[] x, ConvGeometry g, int planes, float[] y, FloatPasses passes) {
        int h = g.in[0];
        int w = g.in[1];
        int oh = g.out[0];
        int ow = g.out[1];
        for (int p = 0; p < planes; p++) {
            passes.pairMaxRows(x, p * h * w, w, y, p * oh * ow, ow, oh);
        }
    }

    /**
     * Output positions per plane from which {@link #shiftedPlanes} pays: its sub-plane copies
     * cost a few calls per input row, which small planes do not repay (64 planes 14x14 -> 7x7:
     * 13.7 us that way, 7.8 us through the tap table; 14x14 outputs were still faster shifted).
     */
    static final int SHIFTED_MIN_OUTPUTS = 100;

    /**
     * {@link #maxPool} without indices on 1-D and 2-D windows through the given passes, with or
     * without {@link #shiftedPlanes} whatever they prefer (for tests).
     */
    static float[] maxPoolThrough(float[] x, int[] xShape, ConvGeometry g, FloatPasses passes, boolean shifted) {
        if (g.rank() > 2) {
            throw new IllegalArgumentException("1 or 2 spatial axes only, got " + g.rank());
        }
        float[] y = new float[xShape[0] * xShape[1] * g.outCount()];
        maxPoolPlanes(x, axes3(g), g, xShape[0] * xShape[1], y, passes, shifted);
        return y;
    }

    /**
     * Max pooling of 1-D and 2-D windows without indices, with the same result as the general
     * loop above: the first in-bounds tap in row-major order, then any strictly greater tap (so
     * a NaN first tap stays, a later NaN is skipped, and of +0.0 and -0.0 the first stays), -inf
     * for a window with no tap inside. CNN pools (horizontal stride 1 or 2, windows at least
     * as large as their strides) read their taps contiguously ({@link #shiftedPlanes}) when
     * the passes prefer it (the Vector API ones); any
     * other geometry has its bounds looked up in flat tables before the loops, and a window
     * wholly inside the input reads its taps through one table of offsets: for the small
     * windows of CNNs (2x2) the general loop spends most of its time on bounds.
     */
    private static void maxPoolPlanes(float[] x, Axis[] ax, ConvGeometry g, int planes, float[] y,
                                      FloatPasses passes, boolean shifted) {
        int lead = 3 - g.rank();
        int oh = ax[1].out;
        int ow = ax[2].out;
        int w = ax[2].in;
        int inPlane = g.inCount();
        int kh = lead == 2 ? 1 : g.kernel[g.rank() - 2];
        int kw = g.kernel[g.rank() - 1];
        int dh = ax[1].dilation * w;
        int dw = ax[2].dilation;
        int[][] b = bounds(ax, g, lead);
        int[] rowAt = b[0];
        int[] rows = b[1];
        int[] colAt = b[2];
        int[] cols = b[3];
        // Offsets of a whole window's taps from its first, row-major.
        int[] taps = new int[kh * kw];
        for (int i = 0, k = 0; i < kh; i++) {
            for (int j = 0; j < kw; j++) {
                taps[k++] = i * dh + j * dw;
            }
        }
        boolean someTap = true;
        for (int r = 0; r < oh; r++) {
            someTap &= rows[r] > 0;
        }
        for (int c = 0; c < ow; c++) {
            someTap &= cols[c] > 0;
        }
        int outPlane = oh * ow;
        if (shifted && outPlane >= 8 && shiftedPlanes(x, ax, g, planes, y, passes, b, kh, kw)) {
            return;
        }
        if (someTap && outPlane >= 8) {
            // Every window has a tap inside the input (the usual CNN pool, padded or not): a table
            // of every tap's input offset per output, [tap][output], and one branch-free pass per
            // plane. A window that reaches into the padding lists its inside taps in row-major
            // order and then its first tap again in place of the padded ones: a repeat changes
            // neither the maximum nor which of equal values (or a first NaN) is kept.
            int[] index = new int[taps.length * outPlane];
            for (int r = 0, j = 0; r < oh; r++) {
                for (int c = 0; c < ow; c++, j++) {
                    int at = rowAt[r] + colAt[c];
                    int k = 0;
                    for (int i = 0; i < rows[r]; i++) {
                        for (int t = 0; t < cols[c]; t++) {
                            index[k++ * outPlane + j] = at + i * dh + t * dw;
                        }
                    }
                    for (; k < taps.length; k++) {
                        index[k * outPlane + j] = at;
                    }
                }
            }
            for (int p = 0; p < planes; p++) {
                passes.windowMax(x, p * inPlane, index, taps.length, outPlane, y, p * outPlane);
            }
            return;
        }
        int yi = 0;
        for (int p = 0; p < planes; p++) {
            int xb = p * inPlane;
            for (int r = 0; r < oh; r++) {
                int nr = rows[r];
                int rb = xb + rowAt[r];
                for (int c = 0; c < ow; c++, yi++) {
                    int nc = cols[c];
                    int at = rb + colAt[c];
                    if (nr == kh && nc == kw) {
                        float best = x[at];
                        for (int k = 1; k < taps.length; k++) {
                            float v = x[at + taps[k]];
                            if (v > best) {
                                best = v;
                            }
                        }
                        y[yi] = best;
                    } else if (nr == 0 || nc == 0) {
                        y[yi] = Float.NEGATIVE_INFINITY;
                    } else {
                        float best = x[at];
                        for (int i = 0; i < nr; i++, at += dh) {
                            for (int j = i == 0 ? 1 : 0; j < nc; j++) {
                                float v = x[at + j * dw];
                                if (v > best) {
                                    best = v;
                                }
                            }
                        }
                        y[yi] = best;
                    }
                }
            }
        }
    }

    /**
     * {@link #maxPoolPlanes} with contiguous taps, for horizontal strides 1 and 2 and windows at
     * least as large as their strides; false (and nothing written) for any other geometry.
     *
     * <p>Each plane is copied, split by row and column phase ({@code row % sh}, {@code col % sw}),
     * into sub-planes with a margin of -inf wide enough for every window's padding, all with
     * one row stride. Tap {@code (i, j)} of output {@code (r, c)} is then element {@code (r, c)}
     * of one sub-plane shifted by a constant, so {@link FloatPasses#shiftedMax} reads each tap
     * with plain loads, in row-major tap order. A padded tap reads -inf, which never replaces a
     * maximum and, when it comes first, is replaced by the first tap inside, unless that is a
     * NaN (-inf is not less than NaN): the -inf bits are those of a first tap -inf, and a window
     * with no tap inside gets -inf as it should. So only a border window whose first inside tap
     * is NaN differs, and it gets that NaN afterwards.
     */
    private static boolean shiftedPlanes(float[] x, Axis[] ax, ConvGeometry g, int planes, float[] y,
                                         FloatPasses passes, int[][] b, int kh, int kw) {
        int lead = 3 - g.rank();
        int h = ax[1].in;
        int w = ax[2].in;
        int oh = ax[1].out;
        int ow = ax[2].out;
        int sh = ax[1].stride;
        int sw = ax[2].stride;
        if (sw > 2 || kh < sh || kw < sw) {
            return false;
        }
        int dh = ax[1].dilation;
        int dw = ax[2].dilation;
        int padTop = lead == 2 ? 0 : g.padBegin[g.rank() - 2];
        int padLeft = g.padBegin[g.rank() - 1];
        int ph = (h + sh - 1) / sh;
        int pw = (w + sw - 1) / sw;
        // Tap shifts in sub-plane rows and columns; the first tap has the smallest, the last the largest.
        int top = Math.max(0, -Math.floorDiv(-padTop, sh));
        int left = Math.max(0, -Math.floorDiv(-padLeft, sw));
        int rowsNeeded = Math.max(ph, oh + Math.floorDiv((kh - 1) * dh - padTop, sh));
        int stride = left + Math.max(pw, ow + Math.floorDiv((kw - 1) * dw - padLeft, sw));
        int sub = (top + rowsNeeded) * stride;
        int[] off = new int[kh * kw];
        for (int i = 0, k = 0; i < kh; i++) {
            int a = i * dh - padTop;
            for (int j = 0; j < kw; j++, k++) {
                int c = j * dw - padLeft;
                off[k] = (Math.floorMod(a, sh) * sw + Math.floorMod(c, sw)) * sub
                        + (Math.floorDiv(a, sh) + top) * stride + Math.floorDiv(c, sw) + left;
            }
        }
        // Border windows with a tap inside: output and first tap, per plane.
        int[] rowAt = b[0];
        int[] rows = b[1];
        int[] colAt = b[2];
        int[] cols = b[3];
        int nb = 0;
        int[] border = new int[2 * oh * ow];
        for (int r = 0; r < oh; r++) {
            for (int c = 0; c < ow; c++) {
                if ((rows[r] < kh || cols[c] < kw) && rows[r] > 0 && cols[c] > 0) {
                    border[nb++] = r * ow + c;
                    border[nb++] = rowAt[r] + colAt[c];
                }
            }
        }
        int n = (oh - 1) * stride + ow;
        int inPlane = h * w;
        int outPlane = oh * ow;
        int parts = parts(planes, (long) planes * inPlane);
        int borders = nb;
        Kernels.parallelFor(parts, part -> {
            // Each part copies its planes into scratch planes of its own.
            float[] scratch = new float[sh * sw * sub];
            Arrays.fill(scratch, Float.NEGATIVE_INFINITY);
            float[] tmp = stride == ow ? null : new float[oh * stride];
            for (int p = planes * part / parts, end = planes * (part + 1) / parts; p < end; p++) {
                int xb = p * inPlane;
                int yb = p * outPlane;
                for (int r = 0; r < h; r++) {
                    int at = (r % sh) * sw * sub + (r / sh + top) * stride + left;
                    if (sw == 1) {
                        System.arraycopy(x, xb + r * w, scratch, at, w);
                    } else {
                        passes.deinterleave(x, xb + r * w, w, scratch, at, at + sub);
                    }
                }
                if (tmp == null) {
                    passes.shiftedMax(scratch, 0, off, y, yb, n);
                } else {
                    // Sub-plane rows are longer than output rows (margins): one pass, then row copies.
                    passes.shiftedMax(scratch, 0, off, tmp, 0, n);
                    for (int r = 0; r < oh; r++) {
                        System.arraycopy(tmp, r * stride, y, yb + r * ow, ow);
                    }
                }
                for (int k = 0; k < borders; k += 2) {
                    float first = x[xb + border[k + 1]];
                    if (first != first) {
                        y[yb + border[k]] = first;
                    }
                }
            }
        });
        return true;
    }

    /** Parts for a pass over planes: one per kernel thread when it reads at least 2^18 floats. */
    private static int parts(int planes, long work) {
        return work < (1L << 18) ? 1 : Math.max(1, Math.min(Kernels.threads(), planes));
    }

    /**
     * AveragePool with {@code count_include_pad} summed in double, tap by tap in row-major
     * order, then divided in double and rounded once: exactly what {@link ReferencePool} gives
     * (same additions in the same order), with the window bounds resolved before the loops.
     * For operators defined by that formula (onebit's ActivationScale).
     */
    public static float[] boxMean(float[] x, int[] xShape, ConvGeometry g) {
        if (g.rank() > 3) {
            throw new IllegalArgumentException("pooling supports 1 to 3 spatial axes, got " + g.rank());
        }
        Axis[] ax = axes3(g);
        int planes = xShape[0] * xShape[1];
        int inPlane = g.inCount();
        int outPlane = g.outCount();
        float[] y = new float[planes * outPlane];
        int h = ax[1].in;
        int w = ax[2].in;
        int lead = 3 - g.rank();
        if (g.rank() <= 2) {
            boxMeanPlanes(x, ax, g, planes, y);
            return y;
        }
        for (int p = 0; p < planes; p++) {
            int xb = p * inPlane;
            int yi = p * outPlane;
            for (int od = 0; od < ax[0].out; od++) {
                for (int oh = 0; oh < ax[1].out; oh++) {
                    for (int ow = 0; ow < ax[2].out; ow++, yi++) {
                        double sum = 0;
                        for (int td = ax[0].t0[od]; td < ax[0].t1[od]; td++) {
                            int id = pos(g, lead, 0, od, td);
                            for (int th = ax[1].t0[oh]; th < ax[1].t1[oh]; th++) {
                                int rowBase = xb + (id * h + pos(g, lead, 1, oh, th)) * w;
                                int tw0 = ax[2].t0[ow];
                                int iw = pos(g, lead, 2, ow, tw0);
                                for (int tw = tw0; tw < ax[2].t1[ow]; tw++, iw += ax[2].dilation) {
                                    sum += x[rowBase + iw];
                                }
                            }
                        }
                        int count = ax[0].inPad[od] * ax[1].inPad[oh] * ax[2].inPad[ow];
                        y[yi] = count > 0 ? (float) (sum / count) : 0f;
                    }
                }
            }
        }
        return y;
    }

    /**
     * The window bounds of 1-D and 2-D pools as flat tables: per output row the offset of its
     * first in-bounds input row and how many there are ({rowAt, rows}), likewise per output
     * column ({colAt, cols}).
     */
    private static int[][] bounds(Axis[] ax, ConvGeometry g, int lead) {
        int oh = ax[1].out;
        int ow = ax[2].out;
        int w = ax[2].in;
        int[] rowAt = new int[oh];
        int[] rows = new int[oh];
        for (int o = 0; o < oh; o++) {
            rowAt[o] = pos(g, lead, 1, o, ax[1].t0[o]) * w;
            rows[o] = Math.max(0, ax[1].t1[o] - ax[1].t0[o]);
        }
        int[] colAt = new int[ow];
        int[] cols = new int[ow];
        for (int o = 0; o < ow; o++) {
            colAt[o] = pos(g, lead, 2, o, ax[2].t0[o]);
            cols[o] = Math.max(0, ax[2].t1[o] - ax[2].t0[o]);
        }
        return new int[][] {rowAt, rows, colAt, cols};
    }

    /** {@link #boxMean} of 1-D and 2-D windows: the same sums, window bounds from flat tables. */
    private static void boxMeanPlanes(float[] x, Axis[] ax, ConvGeometry g, int planes, float[] y) {
        int lead = 3 - g.rank();
        int oh = ax[1].out;
        int ow = ax[2].out;
        int w = ax[2].in;
        int inPlane = g.inCount();
        int dh = ax[1].dilation * w;
        int dw = ax[2].dilation;
        int[][] b = bounds(ax, g, lead);
        int[] rowAt = b[0];
        int[] rows = b[1];
        int[] colAt = b[2];
        int[] cols = b[3];
        int yi = 0;
        for (int p = 0; p < planes; p++) {
            int xb = p * inPlane;
            for (int r = 0; r < oh; r++) {
                int nr = rows[r];
                int rb = xb + rowAt[r];
                int countH = ax[1].inPad[r];
                for (int c = 0; c < ow; c++, yi++) {
                    int nc = cols[c];
                    double sum = 0;
                    for (int i = 0, at = rb + colAt[c]; i < nr; i++, at += dh) {
                        for (int j = 0, q = at; j < nc; j++, q += dw) {
                            sum += x[q];
                        }
                    }
                    int count = countH * ax[2].inPad[c];
                    y[yi] = count > 0 ? (float) (sum / count) : 0f;
                }
            }
        }
    }

    /** Input coordinate of tap {@code t} of output {@code o} on padded axis {@code a} (0 for a front axis). */
    private static int pos(ConvGeometry g, int lead, int a, int o, int t) {
        if (a < lead) {
            return 0;
        }
        int d = a - lead;
        return o * g.strides[d] - g.padBegin[d] + t * g.dilations[d];
    }

    private static int transpose(int rowMajor, Axis[] ax) {
        int w = ax[2].in;
        int h = ax[1].in;
        int iw = rowMajor % w;
        int ih = (rowMajor / w) % h;
        int id = rowMajor / (w * h);
        return (iw * h + ih) * ax[0].in + id;
    }

    /**
     * Average pooling. The divisor is the number of taps inside the input, or with
     * {@code countIncludePad} inside the padded input (taps past the end padding, which only
     * ceil mode creates, never count).
     */
    public static float[] averagePool(float[] x, int[] xShape, ConvGeometry g, boolean countIncludePad) {
        if (g.rank() > 3) {
            throw new IllegalArgumentException("pooling supports 1 to 3 spatial axes, got " + g.rank());
        }
        Axis[] ax = axes3(g);
        int planes = xShape[0] * xShape[1];
        int inPlane = g.inCount();
        int outPlane = g.outCount();
        float[] y = new float[planes * outPlane];
        int h = ax[1].in;
        int w = ax[2].in;
        int lead = 3 - g.rank();
        for (int p = 0; p < planes; p++) {
            int xb = p * inPlane;
            int yi = p * outPlane;
            for (int od = 0; od < ax[0].out; od++) {
                for (int oh = 0; oh < ax[1].out; oh++) {
                    for (int ow = 0; ow < ax[2].out; ow++, yi++) {
                        float sum = 0f;
                        for (int td = ax[0].t0[od]; td < ax[0].t1[od]; td++) {
                            int id = pos(g, lead, 0, od, td);
                            for (int th = ax[1].t0[oh]; th < ax[1].t1[oh]; th++) {
                                int rowBase = xb + (id * h + pos(g, lead, 1, oh, th)) * w;
                                int tw0 = ax[2].t0[ow];
                                int iw = pos(g, lead, 2, ow, tw0);
                                for (int tw = tw0; tw < ax[2].t1[ow]; tw++, iw += ax[2].dilation) {
                                    sum += x[rowBase + iw];
                                }
                            }
                        }
                        int count = countIncludePad
                                ? ax[0].inPad[od] * ax[1].inPad[oh] * ax[2].inPad[ow]
                                : (ax[0].t1[od] - ax[0].t0[od]) * (ax[1].t1[oh] - ax[1].t0[oh]) * (ax[2].t1[ow] - ax[2].t0[ow]);
                        y[yi] = count > 0 ? sum / count : 0f;
                    }
                }
            }
        }
        return y;
    }

    /** GlobalAveragePool ({@code avg}) or GlobalMaxPool over all spatial axes. */
    public static float[] global(float[] x, int[] xShape, boolean avg) {
        int planes = xShape[0] * xShape[1];
        int size = 1;
        for (int i = 2; i < xShape.length; i++) {
            size *= xShape[i];
        }
        float[] y = new float[planes];
        for (int p = 0; p < planes; p++) {
            int b = p * size;
            if (avg) {
                double s = 0;
                for (int i = 0; i < size; i++) {
                    s += x[b + i];
                }
                y[p] = (float) (s / size);
            } else {
                float m = Float.NEGATIVE_INFINITY;
                for (int i = 0; i < size; i++) {
                    m = Math.max(m, x[b + i]);
                }
                y[p] = m;
            }
        }
        return y;
    }

    /** The output shape {@code [N, C, out...]} of a pool. */
    public static int[] outputShape(int[] xShape, ConvGeometry g) {
        int[] o = Arrays.copyOf(xShape, xShape.length);
        System.arraycopy(g.out, 0, o, 2, g.rank());
        return o;
    }
}
