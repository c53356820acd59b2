package dev.onebit.runtime.kernels;

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
            t0[o] = firstTap(start, 0, dl, k);
            t1[o] = endTap(start, in, dl, k);
            inPad[o] = Math.max(0, endTap(start, in + g.padEnd[d], dl, k) - firstTap(start, -g.padBegin[d], dl, k));
        }
        return new Axis(in, out, s, dl, t0, t1, inPad);
    }

    private static int firstTap(int start, int lo, int dl, int k) {
        return start >= lo ? 0 : Math.min(k, (lo - start + dl - 1) / dl);
    }

    private static int endTap(int start, int hi, int dl, int k) {
        return start >= hi ? 0 : Math.min(k, (hi - 1 - start) / dl + 1);
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
