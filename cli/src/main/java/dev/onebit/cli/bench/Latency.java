package dev.onebit.cli.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;

/**
 * Per-call latency of one or two sides measured side by side: untimed warm-up calls, then timed
 * calls that alternate between the sides (which side goes first alternates too), so that
 * machine noise, frequency changes and cache state hit both alike.
 */
public final class Latency {

    /** One call of a side. */
    @FunctionalInterface
    public interface Call {
        /** Runs one call; its time is measured. */
        void run() throws Exception;
    }

    /**
     * The distribution of one side's timed calls, in milliseconds.
     *
     * @param median the 50th percentile
     * @param p10 the 10th percentile
     * @param p90 the 90th percentile
     * @param min the fastest call
     * @param max the slowest call
     */
    public record Stats(double median, double p10, double p90, double min, double max) {
        /** The statistics of a set of times (not modified). */
        public static Stats of(double[] ms) {
            double[] s = ms.clone();
            Arrays.sort(s);
            return new Stats(percentile(s, 0.5), percentile(s, 0.1), percentile(s, 0.9), s[0], s[s.length - 1]);
        }

        /** Linear interpolation between the two nearest ranks of a sorted array. */
        static double percentile(double[] sorted, double p) {
            double pos = p * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(sorted.length - 1, lo + 1);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }
    }

    /**
     * Both sides' results.
     *
     * @param ours onebit's calls
     * @param reference the reference's calls, or null when there was none
     */
    public record Result(Stats ours, Stats reference) {
        /** Reference median over ours: above 1 when onebit is faster; NaN without a reference. */
        public double speedup() {
            return reference == null ? Double.NaN : reference.median() / ours.median();
        }
    }

    /** The least warm-up time, both sides together. */
    static final long WARMUP_NANOS = 2_000_000_000L;
    /** After the least warm-up, warm-up goes on until the JIT compiler has been idle this long... */
    static final long JIT_QUIET_NANOS = 1_000_000_000L;
    /** ...or this much time has passed in all. */
    static final long MAX_WARMUP_NANOS = 30_000_000_000L;

    private Latency() {
    }

    /**
     * Measures {@code ours} and, when not null, {@code reference}.
     *
     * @param warmup untimed calls per side first, continued until at least 2 s have passed and
     *     the JIT compiler has compiled nothing for 1 s (at most 30 s in all; 0: no warm-up)
     * @param runs timed calls per side, at least 1
     */
    public static Result measure(Call ours, Call reference, int warmup, int runs) throws Exception {
        // A few dozen calls of a small model pass before C2 has compiled the vector kernels, and
        // on two shared cores the compiler threads took more than 2 s for the vgg sample with
        // activation scales: its median over 200 calls after 2 s varied from 0.17 to 0.75 ms
        // between runs (0.14 ms once compiled). So warm-up lasts until the JIT is idle.
        long start = System.nanoTime();
        JitActivity jit = new JitActivity();
        for (int i = 0; warmup > 0; i++) {
            long elapsed = System.nanoTime() - start;
            boolean done = i >= warmup && elapsed >= WARMUP_NANOS && jit.idleFor(JIT_QUIET_NANOS);
            if (done || elapsed >= MAX_WARMUP_NANOS) {
                break;
            }
            ours.run();
            if (reference != null) {
                reference.run();
            }
        }
        double[] tOurs = new double[runs];
        double[] tRef = new double[runs];
        for (int i = 0; i < runs; i++) {
            if (reference == null) {
                tOurs[i] = time(ours);
            } else if (i % 2 == 0) {
                tOurs[i] = time(ours);
                tRef[i] = time(reference);
            } else {
                tRef[i] = time(reference);
                tOurs[i] = time(ours);
            }
        }
        return new Result(Stats.of(tOurs), reference == null ? null : Stats.of(tRef));
    }

    /** Whether the JIT compiler has been idle for a while, from its total compilation time. */
    private static final class JitActivity {
        private final CompilationMXBean bean = ManagementFactory.getCompilationMXBean();
        private long total = -1;
        private long since;

        boolean idleFor(long nanos) {
            if (bean == null || !bean.isCompilationTimeMonitoringSupported()) {
                return true;
            }
            long now = System.nanoTime();
            long t = bean.getTotalCompilationTime();
            if (t != total) {
                total = t;
                since = now;
            }
            return now - since >= nanos;
        }
    }

    private static double time(Call c) throws Exception {
        long t0 = System.nanoTime();
        c.run();
        return (System.nanoTime() - t0) / 1e6;
    }
}
