package dev.onebit.runtime.kernels;

import java.util.Arrays;

/**
 * The sliding-window arithmetic shared by Conv and the pools: given the input's spatial sizes
 * and the window attributes, the resolved begin/end padding and the output sizes, following
 * the ONNX formulas for explicit pads and for {@code auto_pad}.
 */
public final class ConvGeometry {
    /** Input spatial sizes. */
    public final int[] in;
    /** Window sizes. */
    public final int[] kernel;
    /** Strides. */
    public final int[] strides;
    /** Dilations. */
    public final int[] dilations;
    /** Padding before each spatial axis. */
    public final int[] padBegin;
    /** Padding after each spatial axis. */
    public final int[] padEnd;
    /** Output spatial sizes. */
    public final int[] out;

    private ConvGeometry(int[] in, int[] kernel, int[] strides, int[] dilations, int[] padBegin, int[] padEnd, int[] out) {
        this.in = in;
        this.kernel = kernel;
        this.strides = strides;
        this.dilations = dilations;
        this.padBegin = padBegin;
        this.padEnd = padEnd;
        this.out = out;
    }

    /**
     * Resolves a window.
     *
     * @param in input spatial sizes
     * @param kernel window sizes (same rank)
     * @param strides strides, or null for all 1
     * @param dilations dilations, or null for all 1
     * @param pads ONNX pads {@code [b1..bn, e1..en]}, or null for none; ignored unless autoPad is NOTSET
     * @param autoPad NOTSET, SAME_UPPER, SAME_LOWER or VALID
     * @param ceilMode round the output size up (pools); a window that would start in the end padding is dropped
     * @throws IllegalArgumentException naming the attribute that does not fit
     */
    public static ConvGeometry of(int[] in, int[] kernel, long[] strides, long[] dilations, long[] pads,
                                  String autoPad, boolean ceilMode) {
        int r = in.length;
        if (kernel.length != r) {
            throw new IllegalArgumentException("kernel_shape has " + kernel.length + " axes, input has " + r + " spatial axes");
        }
        int[] s = ints("strides", strides, r);
        int[] d = ints("dilations", dilations, r);
        int[] pb = new int[r];
        int[] pe = new int[r];
        int[] out = new int[r];
        String mode = autoPad == null || autoPad.isEmpty() ? "NOTSET" : autoPad;
        if (mode.equals("NOTSET") && pads != null) {
            if (pads.length != 2 * r) {
                throw new IllegalArgumentException("pads has " + pads.length + " values, expected " + 2 * r);
            }
            for (int i = 0; i < r; i++) {
                pb[i] = checked("pads", pads[i], 0);
                pe[i] = checked("pads", pads[r + i], 0);
            }
        }
        for (int i = 0; i < r; i++) {
            if (kernel[i] < 1) {
                throw new IllegalArgumentException("kernel size " + kernel[i] + " on axis " + i);
            }
            int span = d[i] * (kernel[i] - 1) + 1;
            switch (mode) {
                case "NOTSET" -> {
                    long room = (long) in[i] + pb[i] + pe[i] - span;
                    if (room < 0) {
                        throw new IllegalArgumentException("window " + span + " exceeds padded input "
                                + (in[i] + pb[i] + pe[i]) + " on spatial axis " + i);
                    }
                    long o = (ceilMode ? Math.floorDiv(room + s[i] - 1, s[i]) : room / s[i]) + 1;
                    if (ceilMode && (o - 1) * s[i] >= (long) in[i] + pb[i]) {
                        o--;
                    }
                    out[i] = (int) o;
                }
                case "VALID" -> {
                    if (in[i] < span) {
                        throw new IllegalArgumentException("window " + span + " exceeds input " + in[i] + " on spatial axis " + i);
                    }
                    out[i] = (in[i] - span) / s[i] + 1;
                }
                case "SAME_UPPER", "SAME_LOWER" -> {
                    out[i] = (in[i] + s[i] - 1) / s[i];
                    int total = Math.max(0, (out[i] - 1) * s[i] + span - in[i]);
                    int small = total / 2;
                    pb[i] = mode.equals("SAME_UPPER") ? small : total - small;
                    pe[i] = total - pb[i];
                }
                default -> throw new IllegalArgumentException("unknown auto_pad '" + autoPad + "'");
            }
        }
        return new ConvGeometry(in.clone(), kernel.clone(), s, d, pb, pe, out);
    }

    private static int[] ints(String name, long[] v, int r) {
        int[] o = new int[r];
        if (v == null || v.length == 0) {
            Arrays.fill(o, 1);
            return o;
        }
        if (v.length != r) {
            throw new IllegalArgumentException(name + " has " + v.length + " values, expected " + r);
        }
        for (int i = 0; i < r; i++) {
            o[i] = checked(name, v[i], 1);
        }
        return o;
    }

    private static int checked(String name, long v, int min) {
        if (v < min || v > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(name + " value " + v + " is out of range");
        }
        return (int) v;
    }

    /** Spatial rank. */
    public int rank() {
        return in.length;
    }

    /** Number of output positions (product of {@link #out}). */
    public int outCount() {
        int n = 1;
        for (int o : out) {
            n = Math.multiplyExact(n, o);
        }
        return n;
    }

    /** Number of window taps (product of {@link #kernel}). */
    public int kernelCount() {
        int n = 1;
        for (int k : kernel) {
            n = Math.multiplyExact(n, k);
        }
        return n;
    }

    /** Number of input positions (product of {@link #in}). */
    public int inCount() {
        int n = 1;
        for (int k : in) {
            n = Math.multiplyExact(n, k);
        }
        return n;
    }

    /**
     * Where every window reads: {@code [outCount][kernelCount]}, for output position j (row-major)
     * and tap t (row-major over the window), the flat row-major input position under it, or -1
     * when the tap lies in the padding.
     */
    public int[] tapSources() {
        int r = rank();
        int opos = outCount();
        int kc = kernelCount();
        int[] src = new int[Math.multiplyExact(opos, kc)];
        int[] o = new int[r];
        int[] t = new int[r];
        for (int j = 0; j < opos; j++) {
            Arrays.fill(t, 0);
            for (int tap = 0; tap < kc; tap++) {
                int flat = 0;
                boolean inside = true;
                for (int d = 0; d < r; d++) {
                    int pos = o[d] * strides[d] - padBegin[d] + t[d] * dilations[d];
                    inside &= pos >= 0 && pos < in[d];
                    flat = flat * in[d] + pos;
                }
                src[j * kc + tap] = inside ? flat : -1;
                Convolution.increment(t, kernel);
            }
            Convolution.increment(o, out);
        }
        return src;
    }

    /**
     * Of the taps {@code start + t * dilation} ({@code t < kernel}) of one window on one axis, the
     * first at or above {@code lo}: 0 when all are, {@code kernel} when none is.
     */
    static int firstTap(int start, int lo, int dilation, int kernel) {
        return start >= lo ? 0 : Math.min(kernel, (lo - start + dilation - 1) / dilation);
    }

    /** Of the same taps, one past the last below {@code hi}: 0 when none is. */
    static int endTap(int start, int hi, int dilation, int kernel) {
        return start >= hi ? 0 : Math.min(kernel, (hi - 1 - start) / dilation + 1);
    }

    /** The input's extent on axis {@code d} with both pads: a zero-padded copy's size. */
    public int paddedIn(int d) {
        return Math.addExact(Math.addExact(in[d], padBegin[d]), padEnd[d]);
    }

    /**
     * For a 2-D window read in place from a zero-padded copy of the input whose rows are
     * {@code rowLength} elements apart: each tap's offset (row-major over the window) from
     * the element under tap (0, 0). At stride 1 that element is output {@code (oy, ox)}'s own
     * {@code oy * rowLength + ox}, so a run of outputs of one row reads a run of elements per
     * tap ({@link BinaryConvolution} on packed words, {@link BwnConvolution} on tables).
     */
    public int[] paddedTapOffsets(int rowLength) {
        if (rank() != 2) {
            throw new IllegalStateException("2 spatial axes expected, got " + rank());
        }
        int[] offsets = new int[kernelCount()];
        for (int ky = 0; ky < kernel[0]; ky++) {
            for (int kx = 0; kx < kernel[1]; kx++) {
                offsets[ky * kernel[1] + kx] = Math.addExact(Math.multiplyExact(ky * dilations[0], rowLength),
                        kx * dilations[1]);
            }
        }
        return offsets;
    }

    /** True when there is no padding at all. */
    public boolean unpadded() {
        for (int i = 0; i < in.length; i++) {
            if (padBegin[i] != 0 || padEnd[i] != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public String toString() {
        return "in " + Arrays.toString(in) + " k " + Arrays.toString(kernel) + " s " + Arrays.toString(strides)
                + " d " + Arrays.toString(dilations) + " pads " + Arrays.toString(padBegin) + Arrays.toString(padEnd)
                + " out " + Arrays.toString(out);
    }
}
