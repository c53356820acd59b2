package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CalibrationTest {

    /** Per channel (axis 1) mean and population standard deviation, in double. */
    static double[][] channelStats(Value v) {
        int c = v.shape[1];
        int inner = v.size() / (v.shape[0] * c);
        double[] mean = new double[c];
        double[] std = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double s = 0;
            double ss = 0;
            for (int n = 0; n < v.shape[0]; n++) {
                for (int i = 0; i < inner; i++) {
                    double x = v.floats[(n * c + ch) * inner + i];
                    s += x;
                    ss += x * x;
                }
            }
            double count = (double) v.shape[0] * inner;
            mean[ch] = s / count;
            std[ch] = Math.sqrt(Math.max(0, ss / count - mean[ch] * mean[ch]));
        }
        return new double[][] {mean, std};
    }

    /** The value each binary layer is fitted at: its output, or its shortcut's sum. */
    private static List<String> fittedValues(Graph floatGraph, Graph b) {
        List<String> out = new ArrayList<>();
        for (Site s : Site.find(b, floatGraph)) {
            out.add(s.target);
        }
        return out;
    }

    /**
     * Counts channels of each fitted value whose mean and std differ from the float graph's by
     * more than the tolerance; the mean check covers every channel, the std check those the
     * result reports as failing.
     */
    private static int[] mismatches(Graph floatGraph, Graph b, Value x) {
        List<String> names = fittedValues(floatGraph, b);
        Map<String, Value> f = TestGraphs.run(floatGraph, x, new HashSet<>(names));
        Map<String, Value> c = TestGraphs.run(b, x, new HashSet<>(names));
        int meanBad = 0;
        int stdBad = 0;
        for (String v : names) {
            double[][] sf = channelStats(f.get(v));
            double[][] sc = channelStats(c.get(v));
            for (int ch = 0; ch < sf[0].length; ch++) {
                double tol = 2e-3 * sf[1][ch] + 1e-4;
                meanBad += Math.abs(sf[0][ch] - sc[0][ch]) > tol ? 1 : 0;
                stdBad += Math.abs(sf[1][ch] - sc[1][ch]) > tol ? 1 : 0;
            }
        }
        return new int[] {meanBad, stdBad};
    }

    /** The moment fit at every layer (no sign refit): what the statistics tests below check. */
    private static Graph momentFit(Graph floatGraph, Graph b, List<Value> batches) {
        return Calibration.run(floatGraph, b, batches, false).graph();
    }

    private static Graph momentFit(Graph floatGraph, Graph b, Value x) {
        return momentFit(floatGraph, b, Calibration.split(x, Calibration.DEFAULT_BATCH));
    }

    @Test
    void everyCalibratedLayerHasTheFloatChannelStatistics() {
        Graph g = Samples.model("vgg");
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        Value x = Samples.images("train1k", 200);
        int[] before = mismatches(g, b, x);
        assertTrue(before[0] > 100 && before[1] > 100, "the uncalibrated graph should be off: " + before[0] + ", " + before[1]);
        Graph c = momentFit(g, b, Calibration.split(x, 64));
        assertArrayEquals(new int[] {0, 0}, mismatches(g, c, x));
        for (Node n : c.nodes()) {
            if (n.opType().equals("BinaryConv")) {
                assertTrue(n.hasInput(3), n.name() + " gets a bias");
                assertEquals(n.name() + ".bias", n.input(3));
            }
        }
        // Names and structure are unchanged: only alpha and bias differ.
        assertEquals(b.nodes().size(), c.nodes().size());
    }

    @Test
    void resnetIsCalibratedItemByItem() {
        Graph g = Samples.model("resnet");
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        Value x = Samples.images("train1k", 40);
        Graph c = momentFit(g, b, Calibration.split(x, 16));
        assertArrayEquals(new int[] {0, 0}, mismatches(g, c, x));
    }

    @Test
    void cbdPlanesAreScaledTogether() {
        Graph g = Samples.model("plain");
        Graph b = Binarizer.binarize(g, BinarizeOptions.cbd(3)).graph();
        Value x = Samples.images("train1k", 100);
        Graph c = momentFit(g, b, x);
        assertArrayEquals(new int[] {0, 0}, mismatches(g, c, x));
        Node n = TestGraphs.find(c, "/conv2/Conv");
        float[] before = b.initializer(n.input(2)).toFloatArray();
        float[] after = c.initializer(n.input(2)).toFloatArray();
        for (int o = 0; o < 32; o++) {
            double a = after[o] / (double) before[o];
            assertTrue(a > 0);
            for (int k = 1; k < 3; k++) {
                assertEquals(a, after[k * 32 + o] / (double) before[k * 32 + o], 1e-5 * a);
            }
        }
    }

    @Test
    void xnorLayersWithActivationScaleAreCalibratedToo() {
        Graph g = Samples.model("plain");
        Graph b = Binarizer.binarize(g, BinarizeOptions.of(Method.XNOR).withScaleActivations(true)).graph();
        Value x = Samples.images("train1k", 100);
        assertArrayEquals(new int[] {0, 0}, mismatches(g, Calibration.calibrate(g, b, x), x));
    }

    @Test
    void biRealIsFittedAtTheShortcutSum() {
        Graph g = Samples.model("vgg");
        Graph b = Binarizer.binarize(g, BinarizeOptions.of(Method.BIREAL)).graph();
        List<String> fitted = fittedValues(g, b);
        assertTrue(fitted.contains("/features/features.4/BatchNormalization_output_0"), fitted.toString());
        Value x = Samples.images("train1k", 200);
        Graph c = Calibration.calibrate(g, b, Calibration.split(x, 64));
        int[] bad = mismatches(g, c, x);
        int channels = 32 + 64 + 64 + 128 + 128 + 256;
        assertEquals(0, bad[0], "the shift always matches the mean");
        // The std matches wherever the quadratic has a positive root; the rest use the fallback.
        assertTrue(bad[1] <= channels / 10, bad[1] + " of " + channels + " channels miss the float std");
        System.out.printf("bi-real calibration: %d of %d channels took the variance fallback%n", bad[1], channels);
    }

    @Test
    void sumScaleSolvesTheQuadraticOrFallsBack() {
        // Var(a Y + X) = a² vy + 2 a cyx + vx.
        double a = Site.sumScale(4, 1, 2, 10);
        assertEquals(10, a * a * 4 + 2 * a * 1 + 2, 1e-12);
        assertTrue(a > 0);
        // The shortcut alone exceeds the target and cov < 0: the variance minimizer -cyx / vy.
        assertEquals(0.5, Site.sumScale(4, -2, 5, 0.5), 1e-12);
        // No positive root, no positive minimizer: the plain std ratio.
        assertEquals(Math.sqrt(1.0 / 4), Site.sumScale(4, 1, 5, 1), 1e-12);
    }

    @Test
    void calibrationIsDeterministic() {
        Graph g = Samples.model("plain");
        Graph b = Binarizer.binarize(g, BinarizeOptions.defaults()).graph();
        Value x = Samples.images("train1k", 300);
        // The default: conv2's signs are refitted, the rest moment-fitted.
        Graph c1 = Calibration.calibrate(g, b, x);
        Graph c2 = Calibration.calibrate(g, b, Calibration.split(x, 100));
        Set<String> names = new HashSet<>(c1.initializers().keySet());
        assertEquals(names, c2.initializers().keySet());
        for (String k : names) {
            Tensor t = c1.initializer(k);
            assertEquals(t, c2.initializer(k), k);
        }
    }

    @Test
    void refusesGraphsThatDoNotCorrespond() {
        Graph b = Binarizer.binarize(Samples.model("vgg"), BinarizeOptions.defaults()).graph();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Calibration.calibrate(Samples.model("plain"), b, Samples.images("train1k", 10)));
        assertTrue(e.getMessage().contains("features"), e.getMessage());
        Graph plain = Samples.model("plain");
        assertSame(plain, Calibration.calibrate(plain, plain, Samples.images("train1k", 10)));
    }
}
