package dev.onebit.runtime.kernels;

/**
 * The ONNX Conv formula evaluated literally, for testing the fast kernels: for every output
 * element, sum {@code x[n][g*Cg+ci][o*s - padBegin + t*d] * w[m][ci][t]} over the in-bounds taps,
 * plus the bias. Accumulates in double. Slow by design.
 */
public final class ReferenceConv {
    private ReferenceConv() {
    }

    /**
     * @param x input {@code [N, C, in...]}
     * @param w weight {@code [M, C/group, kernel...]}
     * @param bias {@code [M]} or null
     * @param g resolved geometry (pads and output sizes)
     * @return output {@code [N, M, out...]}
     */
    public static float[] conv(float[] x, int[] xShape, float[] w, int[] wShape, float[] bias, int group, ConvGeometry g) {
        int n = xShape[0];
        int c = xShape[1];
        int m = wShape[0];
        int cg = wShape[1];
        int mg = m / group;
        int r = g.rank();
        int inPlane = g.inCount();
        int taps = g.kernelCount();
        int opos = g.outCount();
        float[] y = new float[n * m * opos];
        int[] o = new int[r];
        int[] t = new int[r];
        for (int img = 0; img < n; img++) {
            for (int oc = 0; oc < m; oc++) {
                int grp = oc / mg;
                java.util.Arrays.fill(o, 0);
                for (int j = 0; j < opos; j++) {
                    double sum = bias == null ? 0 : bias[oc];
                    for (int ci = 0; ci < cg; ci++) {
                        int ch = grp * cg + ci;
                        java.util.Arrays.fill(t, 0);
                        for (int tap = 0; tap < taps; tap++) {
                            int flat = 0;
                            boolean inside = true;
                            for (int d = 0; d < r; d++) {
                                int pos = o[d] * g.strides[d] - g.padBegin[d] + t[d] * g.dilations[d];
                                if (pos < 0 || pos >= g.in[d]) {
                                    inside = false;
                                }
                                flat = flat * g.in[d] + pos;
                            }
                            if (inside) {
                                sum += (double) x[(img * c + ch) * inPlane + flat] * w[(oc * cg + ci) * taps + tap];
                            }
                            Convolution.increment(t, g.kernel);
                        }
                    }
                    y[(img * m + oc) * opos + j] = (float) sum;
                    Convolution.increment(o, g.out);
                }
            }
        }
        return y;
    }
}
