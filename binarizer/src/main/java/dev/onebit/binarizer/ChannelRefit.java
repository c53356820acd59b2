package dev.onebit.binarizer;

/**
 * The arithmetic of {@link SignRefit} for one output channel: sign sweeps that maximise the
 * explained variance of K least-squares-scaled ±1 rows, given the input covariance G and the
 * input-target covariance c.
 */
final class ChannelRefit {
    private ChannelRefit() {
    }

    /**
     * Refits one output channel's K sign rows {@code b[k]} (±1, changed in place) to maximise
     * {@code v' M^-1 v}, {@code M[k][l] = b_k' G b_l}, {@code v[k] = b_k . c}: the output
     * variance the least-squares alphas explain. Sweeps over planes and weights flip each sign
     * that raises it (O(K³) per candidate from running products {@code G b_k}, O(n) per
     * accepted flip) until a sweep flips nothing or after {@code maxSweeps} sweeps.
     *
     * @param cov G, {@code n x n} row-major, symmetric
     * @return the least-squares alphas {@code M^-1 v} of the final rows (of either sign), or
     *     null, with the rows untouched, when M is not positive definite
     */
    static double[] refitChannel(double[] cov, double[] c, double[][] b, int maxSweeps) {
        int planes = b.length;
        int n = c.length;
        double[][] gb = new double[planes][n];
        double[] m = new double[planes * planes];
        double[] v = new double[planes];
        for (int k = 0; k < planes; k++) {
            for (int i = 0; i < n; i++) {
                double acc = 0;
                for (int j = 0; j < n; j++) {
                    acc += cov[i * n + j] * b[k][j];
                }
                gb[k][i] = acc;
            }
            v[k] = dot(b[k], c);
        }
        for (int k = 0; k < planes; k++) {
            for (int l = 0; l < planes; l++) {
                m[k * planes + l] = dot(b[k], gb[l]);
            }
        }
        double[] work = new double[planes * planes + planes];
        double f = explained(m, v, planes, work, null);
        if (Double.isNaN(f)) {
            return null;
        }
        double[] m2 = new double[m.length];
        double[] v2 = new double[planes];
        for (int sweep = 0; sweep < maxSweeps; sweep++) {
            int flips = 0;
            for (int k = 0; k < planes; k++) {
                double[] bk = b[k];
                for (int j = 0; j < n; j++) {
                    double bj = bk[j];
                    System.arraycopy(m, 0, m2, 0, m.length);
                    System.arraycopy(v, 0, v2, 0, planes);
                    v2[k] = v[k] - 2 * bj * c[j];
                    for (int l = 0; l < planes; l++) {
                        if (l != k) {
                            double d = -2 * bj * gb[l][j];
                            m2[k * planes + l] += d;
                            m2[l * planes + k] += d;
                        }
                    }
                    m2[k * planes + k] = m[k * planes + k] - 4 * bj * gb[k][j] + 4 * cov[j * n + j];
                    double f2 = explained(m2, v2, planes, work, null);
                    // The margin keeps rounding from flipping a sign back and forth.
                    if (f2 > f * (1 + 1e-12)) {
                        double[] gk = gb[k];
                        for (int i = 0; i < n; i++) {
                            gk[i] -= 2 * bj * cov[j * n + i];
                        }
                        bk[j] = -bj;
                        System.arraycopy(m2, 0, m, 0, m.length);
                        System.arraycopy(v2, 0, v, 0, planes);
                        f = f2;
                        flips++;
                    }
                }
            }
            if (flips == 0) {
                break;
            }
        }
        double[] alpha = new double[planes];
        explained(m, v, planes, work, alpha);
        return alpha;
    }

    /**
     * {@code v' M^-1 v} through the Cholesky factor of M (K x K), or NaN when M is not
     * positive definite (a pivot at or below 1e-12 of the largest diagonal entry); with
     * {@code alpha} non-null, also {@code M^-1 v} into it.
     */
    static double explained(double[] m, double[] v, int k, double[] work, double[] alpha) {
        double[] l = work;
        double scale = 0;
        for (int i = 0; i < k; i++) {
            scale = Math.max(scale, m[i * k + i]);
        }
        for (int i = 0; i < k; i++) {
            for (int j = 0; j <= i; j++) {
                double sum = m[i * k + j];
                for (int p = 0; p < j; p++) {
                    sum -= l[i * k + p] * l[j * k + p];
                }
                if (i == j) {
                    if (!(sum > 1e-12 * scale)) {
                        return Double.NaN;
                    }
                    l[i * k + i] = Math.sqrt(sum);
                } else {
                    l[i * k + j] = sum / l[j * k + j];
                }
            }
        }
        // y = L^-1 v (in work's tail); v' M^-1 v = |y|².
        int y = k * k;
        double f = 0;
        for (int i = 0; i < k; i++) {
            double sum = v[i];
            for (int p = 0; p < i; p++) {
                sum -= l[i * k + p] * work[y + p];
            }
            work[y + i] = sum / l[i * k + i];
            f += work[y + i] * work[y + i];
        }
        if (alpha != null) {
            for (int i = k - 1; i >= 0; i--) {
                double sum = work[y + i];
                for (int p = i + 1; p < k; p++) {
                    sum -= l[p * k + i] * alpha[p];
                }
                alpha[i] = sum / l[i * k + i];
            }
        }
        return f;
    }

    /** The dot product of two vectors of the same length. */
    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
