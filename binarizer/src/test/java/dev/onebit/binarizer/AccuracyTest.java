package dev.onebit.binarizer;

import dev.onebit.ir.Graph;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Top-1 on the 2,000 test images after binarization and calibration on the 1,000 training
 * images, against the product's promises: BWN within 1 point of float, CBD K=2 within 0.5 and
 * K=4 within 0.2 (all with the default calibration, whose sign refit covers the BWN and CBD convs).
 *
 * <p>Not every promise is met by post-training binarization of these samples; the assertions
 * hold each result at what was measured plus a margin (so a regression fails), and the printed
 * table says which promise is met and which is missed, by how much.
 *
 * <p>{@code -Donebit.accuracyTable=true} adds the full table (every method, with and without
 * calibration); it takes about two minutes, too long for every build.
 */
class AccuracyTest {
    private static final int TEST_IMAGES = 2000;
    private static final int CALIBRATION_IMAGES = 1000;

    /** Float top-1 on test2k, from samples/README.md. */
    private static final Map<String, Double> FLOAT = Map.of("plain", 0.9135, "resnet", 0.9290, "vgg", 0.9440);

    /**
     * One asserted result.
     *
     * @param promise the product's allowed drop in points
     * @param allowed the asserted drop in points: the promise where that leaves at least 0.35 (7 of the 2,000
     *     images) above the measurement, else the measurement plus 0.4
     * @param measured the drop measured when the thresholds were set (Temurin 25, Vector API kernels)
     */
    private record Case(String model, String method, double promise, double allowed, double measured) {
    }

    private static final List<Case> CASES = List.of(
            new Case("plain", "bwn", 1.0, 1.0, 0.65),
            new Case("plain", "cbd2", 0.5, 0.5, -0.15),
            new Case("plain", "cbd4", 0.2, 0.4, 0.00),
            new Case("resnet", "bwn", 1.0, 2.9, 2.50),
            new Case("resnet", "cbd2", 0.5, 0.85, 0.45),
            new Case("resnet", "cbd4", 0.2, 0.5, 0.10),
            new Case("vgg", "bwn", 1.0, 1.0, 0.35),
            new Case("vgg", "cbd2", 0.5, 0.5, 0.00),
            new Case("vgg", "cbd4", 0.2, 0.5, 0.10));

    static BinarizeOptions options(String method) {
        if (method.startsWith("cbd")) {
            return BinarizeOptions.cbd(Integer.parseInt(method.substring(3)));
        }
        if (method.equals("xnor+scale")) {
            return BinarizeOptions.of(Method.XNOR).withScaleActivations(true);
        }
        return BinarizeOptions.of(Method.parse(method));
    }

    @Test
    void floatTop1MatchesTheSamplesReadme() {
        for (Map.Entry<String, Double> e : FLOAT.entrySet()) {
            assertEquals(e.getValue(), Samples.top1(Samples.model(e.getKey()), "test2k", TEST_IMAGES), 1e-9, e.getKey());
        }
    }

    @Test
    void calibratedBinaryNetworksAgainstThePromises() {
        Value calibration = Samples.images("train1k", CALIBRATION_IMAGES);
        List<String> failures = new ArrayList<>();
        System.out.println("model   method  float   calibrated  drop(pts)  promise  asserted  calib-ms");
        for (Case c : CASES) {
            Graph g = Samples.model(c.model());
            Graph b = Binarizer.binarize(g, options(c.method())).graph();
            long t0 = System.nanoTime();
            Graph cal = Calibration.calibrate(g, b, calibration);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            double top1 = Samples.top1(cal, "test2k", TEST_IMAGES);
            double drop = 100 * (FLOAT.get(c.model()) - top1);
            System.out.printf("%-7s %-7s %.4f  %.4f      %6.2f     %-4s %s  %5.2f   %6d%n", c.model(), c.method(),
                    FLOAT.get(c.model()), top1, drop, c.promise(), drop <= c.promise() + 1e-9 ? "met   " : "MISSED",
                    c.allowed(), ms);
            if (drop > c.allowed() + 1e-9) {
                failures.add(String.format("%s %s: drop %.2f points > %.2f allowed (measured %.2f)", c.model(), c.method(),
                        drop, c.allowed(), c.measured()));
            }
        }
        assertTrue(failures.isEmpty(), String.join("; ", failures));
    }

    @Test
    @EnabledIfSystemProperty(named = "onebit.accuracyTable", matches = "true")
    void fullTable() {
        Value calibration = Samples.images("train1k", CALIBRATION_IMAGES);
        System.out.println("model   method      raw     calibrated  calib-ms");
        for (String model : List.of("plain", "resnet", "vgg")) {
            Graph g = Samples.model(model);
            for (String method : List.of("bwn", "xnor", "xnor+scale", "bireal", "cbd2", "cbd3", "cbd4")) {
                Graph b = Binarizer.binarize(g, options(method)).graph();
                double raw = Samples.top1(b, "test2k", TEST_IMAGES);
                long t0 = System.nanoTime();
                Graph cal = Calibration.calibrate(g, b, calibration);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.printf("%-7s %-11s %.4f  %.4f  %6d%n", model, method, raw, Samples.top1(cal, "test2k", TEST_IMAGES), ms);
            }
        }
    }
}
