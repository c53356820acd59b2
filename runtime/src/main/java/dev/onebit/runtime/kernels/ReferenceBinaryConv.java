package dev.onebit.runtime.kernels;

import dev.onebit.ir.Tensor;

/**
 * The XNOR layers' integer dot products evaluated literally, for testing the fast kernels:
 * sign(x) times the ±1 weight read bit by bit from the BIT tensor, summed over the in-bounds
 * taps only (a padded tap contributes 0). Slow by design; no packing, no popcount.
 */
public final class ReferenceBinaryConv {
    private ReferenceBinaryConv() {
    }

    private static int sign(float v) {
        return v < 0 ? -1 : 1;
    }

    private static int weight(Tensor b, int element) {
        return b.isNegativeBit(element) ? -1 : 1;
    }

    /**
     * @param x input {@code [N, C, in...]}, read as sign(x)
     * @param b BIT weight {@code [K, M, C/group, kernel...]}
     * @param g resolved geometry
     * @return {@code [N, K * M, out positions]}, row {@code k * M + o}
     */
    public static int[] conv(float[] x, int[] xShape, Tensor b, int group, ConvGeometry g) {
        int[] s = b.shape();
        int planes = s[0];
        int m = s[1];
        int cg = s[2];
        int n = xShape[0];
        int c = xShape[1];
        int mg = m / group;
        int r = g.rank();
        int inPlane = g.inCount();
        int taps = g.kernelCount();
        int opos = g.outCount();
        int[] y = new int[n * planes * m * opos];
        int[] o = new int[r];
        int[] t = new int[r];
        for (int img = 0; img < n; img++) {
            for (int k = 0; k < planes; k++) {
                for (int oc = 0; oc < m; oc++) {
                    int grp = oc / mg;
                    java.util.Arrays.fill(o, 0);
                    for (int j = 0; j < opos; j++) {
                        int sum = 0;
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
                                    sum += sign(x[(img * c + ch) * inPlane + flat])
                                            * weight(b, ((k * m + oc) * cg + ci) * taps + tap);
                                }
                                Convolution.increment(t, g.kernel);
                            }
                        }
                        y[((img * planes + k) * m + oc) * opos + j] = sum;
                        Convolution.increment(o, g.out);
                    }
                }
            }
        }
        return y;
    }

    /**
     * @param x input {@code [rows, IN]}, read as sign(x)
     * @param b BIT weight {@code [K, OUT, IN]}
     * @return {@code [rows, K * OUT]}, column {@code k * OUT + o}
     */
    public static int[] dense(float[] x, int rows, Tensor b) {
        int[] s = b.shape();
        int cols = s[0] * s[1];
        int in = s[2];
        int[] y = new int[rows * cols];
        for (int i = 0; i < rows; i++) {
            for (int col = 0; col < cols; col++) {
                int sum = 0;
                for (int e = 0; e < in; e++) {
                    sum += sign(x[i * in + e]) * weight(b, col * in + e);
                }
                y[i * cols + col] = sum;
            }
        }
        return y;
    }
}
