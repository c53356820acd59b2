package dev.onebit.binarizer;

import java.util.Arrays;

/**
 * The weight approximations: BWN (one plane, {@code alpha = mean |W|}) and CBD (K planes: greedy
 * on the residual or a uniform grid, then alternating refinement). All work row by row: row {@code o} of the
 * effective weight (see the package conventions) is approximated by
 * {@code sum_k alpha[k][o] * B[k][o]} with B in {-1, +1}.
 */
public final class BinaryWeights {
    /** Highest number of planes CBD supports (its B step enumerates all 2^K sign combinations). */
    public static final int MAX_PLANES = 8;

    /**
     * Ranges {@link #uniform} tries, as fractions of a row's max |W|: clipping the few largest
     * weights buys a finer grid for all others, which pays off on heavy-tailed rows.
     */
    private static final double[] GRID_RANGES = {1.0, 0.85, 0.7, 0.55, 0.4};

    private BinaryWeights() {
    }

    /** XNOR-Net's binary weights: {@code B = sign(W)}, {@code alpha[o] = mean_j |W[o][j]|}. */
    public static BinaryPlanes bwn(float[] w, int outputs) {
        return greedy(w, outputs, 1);
    }

    /**
     * CBD's start: K planes fitted greedily to the residual: {@code B_k = sign(R)},
     * {@code alpha_k = mean |R|}, {@code R -= alpha_k B_k}, starting from R = W. With K = 1 this
     * is {@link #bwn}.
     *
     * @throws IllegalArgumentException if K is outside 1..{@value #MAX_PLANES} or the weight does not split into rows
     */
    public static BinaryPlanes greedy(float[] w, int outputs, int planes) {
        int per = rowLength(w, outputs, planes);
        float[] signs = new float[planes * outputs * per];
        float[] alpha = new float[planes * outputs];
        double[] r = new double[per];
        for (int o = 0; o < outputs; o++) {
            for (int j = 0; j < per; j++) {
                r[j] = w[o * per + j];
            }
            for (int k = 0; k < planes; k++) {
                double sum = 0;
                for (int j = 0; j < per; j++) {
                    sum += Math.abs(r[j]);
                }
                float a = per == 0 ? 0f : (float) (sum / per);
                alpha[k * outputs + o] = a;
                int base = (k * outputs + o) * per;
                for (int j = 0; j < per; j++) {
                    float s = r[j] < 0 ? -1f : 1f;
                    signs[base + j] = s;
                    r[j] -= a * s;
                }
            }
        }
        BinaryPlanes p = new BinaryPlanes(planes, outputs, per, signs, alpha);
        p.canonicalize();
        return p;
    }

    /**
     * CBD's second start: the binary expansion on a uniform grid. Row o gets
     * {@code alpha_k = r * 2^(K-1-k) / (2^K - 1)}, whose 2^K sign combinations are evenly
     * spaced over {@code [-r, r]}, and every weight the nearest combination; the range r is the
     * best for the row among a few fractions of {@code max |W[o]|}.
     * Greedy fits few planes better; this one many planes, where the greedy residual fit
     * stalls on heavy-tailed rows (every plane must move every weight by its full alpha).
     *
     * @throws IllegalArgumentException if K is outside 1..{@value #MAX_PLANES} or the weight does not split into rows
     */
    public static BinaryPlanes uniform(float[] w, int outputs, int planes) {
        int per = rowLength(w, outputs, planes);
        float[] signs = new float[planes * outputs * per];
        float[] alpha = new float[planes * outputs];
        float[] rowAlpha = new float[planes];
        for (int o = 0; o < outputs; o++) {
            double max = 0;
            for (int j = 0; j < per; j++) {
                max = Math.max(max, Math.abs(w[o * per + j]));
            }
            double best = Double.POSITIVE_INFINITY;
            for (double fraction : GRID_RANGES) {
                for (int k = 0; k < planes; k++) {
                    rowAlpha[k] = (float) (fraction * max * (1L << (planes - 1 - k)) / ((1L << planes) - 1));
                }
                nearestSigns(w, o, per, signs, outputs, planes, rowAlpha);
                double e = rowError(w, o, per, signs, outputs, planes, rowAlpha);
                if (e < best) {
                    best = e;
                    for (int k = 0; k < planes; k++) {
                        alpha[k * outputs + o] = rowAlpha[k];
                    }
                }
            }
            for (int k = 0; k < planes; k++) {
                rowAlpha[k] = alpha[k * outputs + o];
            }
            nearestSigns(w, o, per, signs, outputs, planes, rowAlpha);
        }
        BinaryPlanes p = new BinaryPlanes(planes, outputs, per, signs, alpha);
        p.canonicalize();
        return p;
    }

    /**
     * CBD: both starts ({@link #greedy} and {@link #uniform}), each followed by {@code rounds}
     * rounds of {@link #refine}; per output row the one with the smaller error is kept (greedy on
     * a tie, so K = 1 is exactly {@link #bwn}).
     *
     * @throws IllegalArgumentException if K is outside 1..{@value #MAX_PLANES} or rounds is negative
     */
    public static BinaryPlanes cbd(float[] w, int outputs, int planes, int rounds) {
        if (rounds < 0) {
            throw new IllegalArgumentException("rounds must be >= 0, got " + rounds);
        }
        BinaryPlanes g = greedy(w, outputs, planes);
        BinaryPlanes u = uniform(w, outputs, planes);
        for (int i = 0; i < rounds; i++) {
            g = refine(g, w);
            u = refine(u, w);
        }
        return better(g, u, w);
    }

    /** Per row, the planes of {@code a} or of {@code b}, whichever approximates that row of w better ({@code a} on a tie). */
    static BinaryPlanes better(BinaryPlanes a, BinaryPlanes b, float[] w) {
        int planes = a.planes();
        int outputs = a.outputs();
        int per = a.perOutput();
        float[] signs = a.signsView().clone();
        float[] alpha = a.alphaView().clone();
        float[] ra = new float[planes];
        float[] rb = new float[planes];
        for (int o = 0; o < outputs; o++) {
            for (int k = 0; k < planes; k++) {
                ra[k] = a.alphaView()[k * outputs + o];
                rb[k] = b.alphaView()[k * outputs + o];
            }
            if (rowError(w, o, per, b.signsView(), outputs, planes, rb)
                    < rowError(w, o, per, a.signsView(), outputs, planes, ra)) {
                for (int k = 0; k < planes; k++) {
                    alpha[k * outputs + o] = rb[k];
                    System.arraycopy(b.signsView(), (k * outputs + o) * per, signs, (k * outputs + o) * per, per);
                }
            }
        }
        return new BinaryPlanes(planes, outputs, per, signs, alpha);
    }

    /**
     * One refinement round, per output row: first the least-squares alphas for the current
     * planes (the K x K normal equations), then for every weight the sign combination of the K
     * planes whose sum is nearest to it (exhaustive over 2^K combinations, found by binary
     * search in their sorted sums). Each step is optimal given the other, so a row's squared
     * error cannot grow; a step that would grow it through rounding is dropped for that row.
     *
     * @return new planes; {@code p} is not modified
     */
    public static BinaryPlanes refine(BinaryPlanes p, float[] w) {
        int planes = p.planes();
        int outputs = p.outputs();
        int per = p.perOutput();
        rowLength(w, outputs, planes);
        if (w.length != outputs * per) {
            throw new IllegalArgumentException("weight has " + w.length + " values, planes cover " + outputs * per);
        }
        float[] signs = p.signsView().clone();
        float[] alpha = p.alphaView().clone();
        float[] rowAlpha = new float[planes];
        for (int o = 0; o < outputs; o++) {
            for (int k = 0; k < planes; k++) {
                rowAlpha[k] = alpha[k * outputs + o];
            }
            double before = rowError(w, o, per, signs, outputs, planes, rowAlpha);
            float[] solved = leastSquaresAlpha(w, o, per, signs, outputs, planes);
            if (solved != null && rowError(w, o, per, signs, outputs, planes, solved) <= before) {
                System.arraycopy(solved, 0, rowAlpha, 0, planes);
                before = rowError(w, o, per, signs, outputs, planes, rowAlpha);
            }
            float[] saved = new float[planes * per];
            for (int k = 0; k < planes; k++) {
                System.arraycopy(signs, (k * outputs + o) * per, saved, k * per, per);
            }
            nearestSigns(w, o, per, signs, outputs, planes, rowAlpha);
            if (rowError(w, o, per, signs, outputs, planes, rowAlpha) > before) {
                for (int k = 0; k < planes; k++) {
                    System.arraycopy(saved, k * per, signs, (k * outputs + o) * per, per);
                }
            }
            for (int k = 0; k < planes; k++) {
                alpha[k * outputs + o] = rowAlpha[k];
            }
        }
        BinaryPlanes out = new BinaryPlanes(planes, outputs, per, signs, alpha);
        out.canonicalize();
        return out;
    }

    private static int rowLength(float[] w, int outputs, int planes) {
        if (planes < 1 || planes > MAX_PLANES) {
            throw new IllegalArgumentException("planes must be 1.." + MAX_PLANES + ", got " + planes);
        }
        if (outputs < 1 || w.length % outputs != 0) {
            throw new IllegalArgumentException(w.length + " weights do not split into " + outputs + " rows");
        }
        return w.length / outputs;
    }

    /** Squared error of row o, in double, with the given (float) alphas. */
    static double rowError(float[] w, int o, int per, float[] signs, int outputs, int planes, float[] rowAlpha) {
        double e = 0;
        for (int j = 0; j < per; j++) {
            double v = 0;
            for (int k = 0; k < planes; k++) {
                v += rowAlpha[k] * (double) signs[(k * outputs + o) * per + j];
            }
            double d = w[o * per + j] - v;
            e += d * d;
        }
        return e;
    }

    /** Solves G alpha = r with G = B B^T, r = B w for row o; null when G is (nearly) singular. */
    private static float[] leastSquaresAlpha(float[] w, int o, int per, float[] signs, int outputs, int planes) {
        double[][] g = new double[planes][planes + 1];
        for (int k = 0; k < planes; k++) {
            int bk = (k * outputs + o) * per;
            for (int l = k; l < planes; l++) {
                int bl = (l * outputs + o) * per;
                double s = 0;
                for (int j = 0; j < per; j++) {
                    s += signs[bk + j] * signs[bl + j];
                }
                g[k][l] = s;
                g[l][k] = s;
            }
            double r = 0;
            for (int j = 0; j < per; j++) {
                r += signs[bk + j] * (double) w[o * per + j];
            }
            g[k][planes] = r;
        }
        double[] x = solve(g, planes, 1e-9 * Math.max(1, per));
        if (x == null) {
            return null;
        }
        float[] out = new float[planes];
        for (int k = 0; k < planes; k++) {
            out[k] = (float) x[k];
        }
        return out;
    }

    /** Gaussian elimination with partial pivoting on the augmented matrix; null if a pivot is below tol. */
    static double[] solve(double[][] a, int n, double tol) {
        for (int c = 0; c < n; c++) {
            int best = c;
            for (int r = c + 1; r < n; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[best][c])) {
                    best = r;
                }
            }
            if (Math.abs(a[best][c]) < tol) {
                return null;
            }
            double[] t = a[c];
            a[c] = a[best];
            a[best] = t;
            for (int r = c + 1; r < n; r++) {
                double f = a[r][c] / a[c][c];
                for (int k = c; k <= n; k++) {
                    a[r][k] -= f * a[c][k];
                }
            }
        }
        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--) {
            double s = a[r][n];
            for (int k = r + 1; k < n; k++) {
                s -= a[r][k] * x[k];
            }
            x[r] = s / a[r][r];
        }
        return x;
    }

    /** For every weight of row o, the combination of plane signs whose weighted sum is nearest. */
    private static void nearestSigns(float[] w, int o, int per, float[] signs, int outputs, int planes, float[] rowAlpha) {
        int combos = 1 << planes;
        double[] sums = new double[combos];
        Integer[] order = new Integer[combos];
        for (int c = 0; c < combos; c++) {
            double v = 0;
            for (int k = 0; k < planes; k++) {
                v += ((c >>> k & 1) != 0 ? -1.0 : 1.0) * rowAlpha[k];
            }
            sums[c] = v;
            order[c] = c;
        }
        // Ties broken by combination index, so the result does not depend on the sort's stability.
        Arrays.sort(order, (x, y) -> sums[x] != sums[y] ? Double.compare(sums[x], sums[y]) : Integer.compare(x, y));
        double[] sorted = new double[combos];
        for (int i = 0; i < combos; i++) {
            sorted[i] = sums[order[i]];
        }
        for (int j = 0; j < per; j++) {
            double target = w[o * per + j];
            int i = Arrays.binarySearch(sorted, target);
            if (i < 0) {
                int hi = -i - 1;
                if (hi == 0) {
                    i = 0;
                } else if (hi == combos) {
                    i = combos - 1;
                } else {
                    // A tie goes up, so that a weight midway between -a and +a gets +a: sign(0) = +1.
                    i = target - sorted[hi - 1] < sorted[hi] - target ? hi - 1 : hi;
                }
            }
            int c = order[i];
            for (int k = 0; k < planes; k++) {
                signs[(k * outputs + o) * per + j] = (c >>> k & 1) != 0 ? -1f : 1f;
            }
        }
    }
}
