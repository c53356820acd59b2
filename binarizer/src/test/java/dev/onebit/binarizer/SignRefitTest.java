package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.ConvGeometry;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SignRefitTest {

    /**
     * The block sums (float products through the runtime's GEMM, added in double) against a
     * direct double sum over explicitly unfolded windows, for strides, dilations, asymmetric
     * pads, 1-D and 2-D windows, row counts across the block size, and every 1st to 3rd position.
     */
    @Test
    void sumsMatchADirectIm2colSum() {
        Random rnd = new Random(7);
        int[][] inShapes = {{5, 6}, {9, 7}, {11}, {20, 20}};
        int[][] kernels = {{3, 3}, {2, 3}, {3}, {3, 3}};
        long[][] strides = {{1, 1}, {2, 1}, {2}, {1, 1}};
        long[][] dilations = {{1, 1}, {1, 2}, {1}, {2, 1}};
        long[][] pads = {{1, 1, 1, 1}, {0, 2, 1, 0}, {1, 2}, {0, 1, 2, 1}};
        for (int t = 0; t < inShapes.length; t++) {
            ConvGeometry geo = ConvGeometry.of(inShapes[t], kernels[t], strides[t], dilations[t], pads[t], "NOTSET", false);
            int images = 1 + t;
            int channels = 2 + t % 2;
            int outputs = 3;
            float[] x = gaussian(rnd, images * channels * geo.inCount());
            float[] y = gaussian(rnd, images * outputs * geo.outCount());
            int step = 1 + t % 3;
            Im2colSums s = Im2colSums.of(x, images, channels, geo, y, outputs, step);
            int n = channels * geo.kernelCount();
            assertEquals(n, s.n);
            int[] src = geo.tapSources();
            double[] g = new double[n * n];
            double[] c = new double[n * outputs];
            double[] sx = new double[n];
            double[] sy = new double[outputs];
            double[] row = new double[n];
            for (int img = 0; img < images; img++) {
                for (int p = 0; p < geo.outCount(); p++) {
                    if (p % step != img % step) {
                        continue;
                    }
                    for (int ch = 0; ch < channels; ch++) {
                        for (int k = 0; k < geo.kernelCount(); k++) {
                            int at = src[p * geo.kernelCount() + k];
                            row[ch * geo.kernelCount() + k] = at < 0 ? 0 : x[(img * channels + ch) * geo.inCount() + at];
                        }
                    }
                    for (int i = 0; i < n; i++) {
                        sx[i] += row[i];
                        for (int j = 0; j < n; j++) {
                            g[i * n + j] += row[i] * row[j];
                        }
                        for (int o = 0; o < outputs; o++) {
                            c[i * outputs + o] += row[i] * y[(img * outputs + o) * geo.outCount() + p];
                        }
                    }
                    for (int o = 0; o < outputs; o++) {
                        sy[o] += y[(img * outputs + o) * geo.outCount() + p];
                    }
                }
            }
            long rows = 0;
            for (int img = 0; img < images; img++) {
                for (int p = img % step; p < geo.outCount(); p += step) {
                    rows++;
                }
            }
            assertEquals(rows, s.rows, "case " + t);
            assertClose(g, s.g, "G, case " + t);
            assertClose(c, s.c, "x'y, case " + t);
            assertClose(sx, s.sx, "sum x, case " + t);
            assertClose(sy, s.sy, "sum y, case " + t);
        }
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian();
        }
        return v;
    }

    private static void assertClose(double[] want, double[] got, String what) {
        assertEquals(want.length, got.length, what);
        double scale = 0;
        for (double v : want) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * scale + 1e-9, what + " [" + i + "]");
        }
    }

    /**
     * The channel refit, for one and two planes, ends in a local optimum of the explained
     * variance {@code v' M^-1 v} (no single flip raises it, each evaluated from scratch by a
     * direct least-squares solve), never below its start, returns the least-squares alphas,
     * and on small rows mostly finds the exhaustive optimum.
     */
    @Test
    void channelRefitEndsWhereNoSingleFlipHelps() {
        Random rnd = new Random(11);
        for (int planes = 1; planes <= 2; planes++) {
            int globalHits = 0;
            int trials = 30;
            for (int trial = 0; trial < trials; trial++) {
                int n = 3 + rnd.nextInt(planes == 1 ? 8 : 5);
                // A covariance with strongly unequal directions, as conv inputs have: G = A'A.
                double[] a = new double[2 * n * n];
                for (int i = 0; i < a.length; i++) {
                    a[i] = rnd.nextGaussian() * (1 + (i % n));
                }
                double[] cov = new double[n * n];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        for (int r = 0; r < 2 * n; r++) {
                            cov[i * n + j] += a[r * n + i] * a[r * n + j];
                        }
                    }
                }
                double[] w = new double[n];
                for (int i = 0; i < n; i++) {
                    w[i] = rnd.nextGaussian();
                }
                double[] c = new double[n];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        c[i] += cov[i * n + j] * w[j];
                    }
                }
                // The greedy start: sign(w), then the sign of the residual.
                double[][] b = new double[planes][n];
                double[] r = w.clone();
                for (int k = 0; k < planes; k++) {
                    double mean = 0;
                    for (int i = 0; i < n; i++) {
                        mean += Math.abs(r[i]) / n;
                    }
                    for (int i = 0; i < n; i++) {
                        b[k][i] = r[i] < 0 ? -1 : 1;
                        r[i] -= mean * b[k][i];
                    }
                }
                double start = explained(cov, c, b, null);
                double[] alpha = ChannelRefit.refitChannel(cov, c, b, 100);
                double[] direct = new double[planes];
                double end = explained(cov, c, b, direct);
                assertTrue(end >= start * (1 - 1e-12), "trial " + trial + ": " + end + " < start " + start);
                for (int k = 0; k < planes; k++) {
                    assertEquals(direct[k], alpha[k], 1e-9 * Math.abs(direct[k]) + 1e-12, "alpha " + k);
                }
                for (int k = 0; k < planes; k++) {
                    for (int j = 0; j < n; j++) {
                        b[k][j] = -b[k][j];
                        double flipped = explained(cov, c, b, null);
                        assertTrue(Double.isNaN(flipped) || flipped <= end * (1 + 1e-9),
                                "trial " + trial + ": flipping " + k + "/" + j + " still helps");
                        b[k][j] = -b[k][j];
                    }
                }
                double best = 0;
                for (long mask = 0; mask < 1L << (planes * n); mask++) {
                    double[][] e = new double[planes][n];
                    for (int i = 0; i < planes * n; i++) {
                        e[i / n][i % n] = (mask >>> i & 1) != 0 ? -1 : 1;
                    }
                    double v = explained(cov, c, e, null);
                    best = Double.isNaN(v) ? best : Math.max(best, v);
                }
                globalHits += end >= best * (1 - 1e-9) ? 1 : 0;
            }
            System.out.printf("%d plane(s): %d of %d channels reached the exhaustive optimum%n", planes, globalHits, trials);
            assertTrue(globalHits >= trials / 3, planes + " planes: " + globalHits + " of " + trials + " at the optimum");
        }
    }

    /**
     * v' M^-1 v for the rows b (M[k][l] = b_k' G b_l, v[k] = b_k . c) by the binarizer's Gaussian
     * elimination, independent of the Cholesky solve under test; NaN when M is singular; alpha = M^-1 v.
     */
    private static double explained(double[] cov, double[] c, double[][] b, double[] alpha) {
        int planes = b.length;
        int n = c.length;
        double[][] m = new double[planes][planes + 1];
        for (int k = 0; k < planes; k++) {
            for (int l = 0; l < planes; l++) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        m[k][l] += b[k][i] * cov[i * n + j] * b[l][j];
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                m[k][planes] += b[k][i] * c[i];
            }
        }
        double[] v = new double[planes];
        for (int k = 0; k < planes; k++) {
            v[k] = m[k][planes];
        }
        double[] x = BinaryWeights.solve(m, planes, 1e-9 * Math.abs(m[0][0]));
        if (x == null) {
            return Double.NaN;
        }
        if (alpha != null) {
            System.arraycopy(x, 0, alpha, 0, planes);
        }
        double f = 0;
        for (int k = 0; k < planes; k++) {
            f += v[k] * x[k];
        }
        return f;
    }

    /**
     * On the vgg sample and real images: every refitted layer's output is closer to the float
     * network's (mean squared error over the calibration images) than with the moment fit, its
     * channel means match the float ones, and refitting changes signs but keeps the layer BWN
     * (one plane, alpha positive).
     */
    @Test
    void refittedLayersTrackTheFloatNetworkBetterThanTheMomentFit() {
        Graph g = Samples.model("vgg");
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        Value x = Samples.images("train1k", 200);
        List<Value> batches = Calibration.split(x, 50);
        Calibration.Result refit = Calibration.run(g, b, batches, true);
        Graph moments = Calibration.run(g, b, batches, false).graph();
        assertEquals(6, refit.refitSigns().size(), "the five middle convs and the first classifier layer: "
                + refit.refitSigns());
        Set<String> outputs = new HashSet<>();
        Map<String, String> outputOf = new HashMap<>();
        for (Node n : refit.graph().nodes()) {
            if (refit.refitSigns().containsKey(n.name())) {
                outputs.add(n.output(0));
                outputOf.put(n.name(), n.output(0));
                float[] alpha = refit.graph().initializer(n.input(2)).toFloatArray();
                for (float a : alpha) {
                    assertTrue(a > 0, n.name() + " alpha " + a);
                }
                assertEquals(1, refit.graph().initializer(n.input(1)).shape()[0]);
            }
        }
        Map<String, Value> f = TestGraphs.run(g, x, outputs);
        Map<String, Value> r = TestGraphs.run(refit.graph(), x, outputs);
        Map<String, Value> m = TestGraphs.run(moments, x, outputs);
        for (Map.Entry<String, Double> e : refit.refitSigns().entrySet()) {
            String v = outputOf.get(e.getKey());
            double errRefit = mse(f.get(v), r.get(v));
            double errMoments = mse(f.get(v), m.get(v));
            System.out.printf("%s: %.1f%% of signs changed, output MSE %.4f (moment fit %.4f)%n", e.getKey(),
                    100 * e.getValue(), errRefit, errMoments);
            assertTrue(e.getValue() > 0.001 && e.getValue() < 0.5, e.getKey() + " changed " + e.getValue());
            assertTrue(errRefit < 0.9 * errMoments, e.getKey() + ": " + errRefit + " vs " + errMoments);
            double[][] sf = CalibrationTest.channelStats(f.get(v));
            double[][] sr = CalibrationTest.channelStats(r.get(v));
            for (int ch = 0; ch < sf[0].length; ch++) {
                assertEquals(sf[0][ch], sr[0][ch], 2e-3 * sf[1][ch] + 1e-4, e.getKey() + " channel " + ch + " mean");
            }
        }
    }

    private static double mse(Value a, Value b) {
        double s = 0;
        for (int i = 0; i < a.size(); i++) {
            double d = a.floats[i] - b.floats[i];
            s += d * d;
        }
        return s / a.size();
    }

    /** Layers with binary inputs (xnor) keep the moment fit; bwn refits the conv and the fully connected layer. */
    @Test
    void otherLayersKeepTheMomentFit() {
        Graph g = Samples.model("plain");
        Value x = Samples.images("train1k", 100);
        List<Value> batches = Calibration.split(x, 50);
        for (BinarizeOptions o : List.of(BinarizeOptions.of(Method.XNOR))) {
            Graph b = Binarizer.binarize(g, o).graph();
            Calibration.Result r = Calibration.run(g, b, batches, true);
            assertTrue(r.refitSigns().isEmpty(), o.method() + ": " + r.refitSigns());
            Graph m = Calibration.run(g, b, batches, false).graph();
            for (String k : m.initializers().keySet()) {
                assertEquals(m.initializer(k), r.graph().initializer(k), o.method() + " " + k);
            }
        }
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        assertEquals(Set.of("/conv2/Conv", "/fc1/Gemm"), Calibration.run(g, b, batches, true).refitSigns().keySet());
    }
}
