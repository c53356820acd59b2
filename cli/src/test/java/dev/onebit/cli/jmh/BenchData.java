package dev.onebit.cli.jmh;

import dev.onebit.runtime.kernels.Kernels;

import java.util.Random;

/** Inputs, weights and setup checks shared by the kernel benchmarks. */
final class BenchData {
    private BenchData() {
    }

    /** {@code n} Gaussian values times {@code scale}, from a fixed seed so every fork sees the same data. */
    static float[] gaussian(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * scale;
        }
        return v;
    }

    /** sign(x) as ±1 floats, sign(0) = +1: what a binary layer's input looks like in a graph. */
    static float[] signs(float[] x) {
        float[] s = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            s[i] = x[i] < 0 ? -1f : 1f;
        }
        return s;
    }

    /** BWN's scale per output row: {@code alpha[o] = mean |w[o]|} over rows of {@code rowLength}. */
    static float[] alpha(float[] w, int rows, int rowLength) {
        float[] a = new float[rows];
        for (int o = 0; o < rows; o++) {
            double sum = 0;
            for (int i = o * rowLength, e = i + rowLength; i < e; i++) {
                sum += Math.abs(w[i]);
            }
            a[o] = (float) (sum / rowLength);
        }
        return a;
    }

    /**
     * Makes onebit's kernels created from now on single-threaded (ONNX Runtime gets one
     * intra-op thread too) and checks that the Vector API kernels are the ones in use: without
     * {@code --add-modules jdk.incubator.vector} the scalar fallback would be measured instead,
     * silently.
     *
     * @throws IllegalStateException if the JVM runs the scalar kernels
     */
    static void singleThreadVectorKernels() {
        Kernels.setThreads(1);
        String binary = Kernels.binaryGemm().name();
        String floats = Kernels.floatGemm().name();
        if (!binary.startsWith("vector") || !floats.startsWith("vector")) {
            throw new IllegalStateException("onebit runs its scalar kernels (binary " + binary + ", float " + floats
                    + "); the benchmark JVM needs --add-modules jdk.incubator.vector on JDK 25");
        }
        // Leading newline: JMH has just printed "# Warmup Iteration 1: " without one.
        System.out.println("\n# onebit kernels: binary " + binary + ", float " + floats + ", threads " + Kernels.threads());
    }

    /**
     * Checks that two outputs of the same layer agree (largest difference over largest
     * magnitude at most {@code tolerance}), so that a benchmark never times a wrong or
     * fallen-back computation.
     *
     * @throws IllegalStateException naming {@code what} otherwise
     */
    static void requireClose(String what, float[] ours, float[] reference, double tolerance) {
        if (ours == null || ours.length != reference.length) {
            throw new IllegalStateException(what + ": output missing or of the wrong length");
        }
        double maxAbs = 1e-30;
        double maxDiff = 0;
        for (int i = 0; i < ours.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(reference[i]));
            maxDiff = Math.max(maxDiff, Math.abs(ours[i] - reference[i]));
        }
        if (maxDiff / maxAbs > tolerance) {
            throw new IllegalStateException(what + ": differs from the reference by " + maxDiff / maxAbs
                    + " of the largest output");
        }
    }
}
