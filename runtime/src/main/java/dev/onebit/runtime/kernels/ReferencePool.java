package dev.onebit.runtime.kernels;

/**
 * The ONNX pooling formulas evaluated literally, for testing: every tap of every window is
 * visited and tested against the input bounds. Slow by design.
 */
public final class ReferencePool {
    private ReferencePool() {
    }

    /**
     * MaxPool or AveragePool.
     *
     * @param max true for MaxPool
     * @param countIncludePad AveragePool's count_include_pad: the divisor counts taps in the
     *     padded input instead of the input
     * @param indices null, or receives the row-major flat input index of each maximum
     */
    public static float[] pool(float[] x, int[] xShape, ConvGeometry g, boolean max, boolean countIncludePad, long[] indices) {
        int planes = xShape[0] * xShape[1];
        int r = g.rank();
        int inPlane = g.inCount();
        int opos = g.outCount();
        int taps = g.kernelCount();
        float[] y = new float[planes * opos];
        int[] o = new int[r];
        int[] t = new int[r];
        for (int p = 0; p < planes; p++) {
            java.util.Arrays.fill(o, 0);
            for (int j = 0; j < opos; j++) {
                double sum = 0;
                int count = 0;
                float best = Float.NEGATIVE_INFINITY;
                long arg = -1;
                java.util.Arrays.fill(t, 0);
                for (int tap = 0; tap < taps; tap++) {
                    boolean inside = true;
                    boolean inPadded = true;
                    int flat = 0;
                    for (int d = 0; d < r; d++) {
                        int pos = o[d] * g.strides[d] - g.padBegin[d] + t[d] * g.dilations[d];
                        inside &= pos >= 0 && pos < g.in[d];
                        inPadded &= pos >= -g.padBegin[d] && pos < g.in[d] + g.padEnd[d];
                        flat = flat * g.in[d] + pos;
                    }
                    if (inside) {
                        float v = x[p * inPlane + flat];
                        sum += v;
                        if (arg < 0 || v > best) {
                            best = v;
                            arg = (long) p * inPlane + flat;
                        }
                    }
                    if (countIncludePad ? inPadded : inside) {
                        count++;
                    }
                    Convolution.increment(t, g.kernel);
                }
                y[p * opos + j] = max ? best : (count == 0 ? 0f : (float) (sum / count));
                if (indices != null) {
                    indices[p * opos + j] = Math.max(arg, 0);
                }
                Convolution.increment(o, g.out);
            }
        }
        return y;
    }
}
