package dev.onebit.cli.jmh;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.io.PrintStream;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs the JMH kernel benchmarks ({@link ConvKernelBench}, {@link DenseKernelBench}) and then
 * prints, per layer shape, onebit's XNOR and float kernels beside ONNX Runtime's float op of the
 * same shape, with the ratios: {@code xnor} takes ±1 floats in and gives floats out,
 * {@code pk-in} (XNOR) takes packed signs in, {@code pk-io} (XNOR) also gives packed signs out
 * (see the benchmark classes); {@code bwn} is the BWN conv (binary weight, real input) by
 * table lookup. Everything single-threaded; speed is only ever measured this way,
 * side by side in one JVM, never asserted by a test.
 *
 * <p>From the repository root (Maven may run on any JDK 17+; the benchmarks run on the JDK 25
 * the toolchains plugin finds, with the Vector API):
 *
 * <pre>
 * mvn -B -ntp -pl cli -am -Pjmh -DskipTests test
 * mvn -B -ntp -pl cli -am -Pjmh -DskipTests test -Djmh.args="ConvKernelBench -p shape=64@56,512@7 -wi 2 -i 3"
 * </pre>
 *
 * <p>{@code jmh.args} takes the usual JMH options (a benchmark regex, {@code -f}, {@code -wi},
 * {@code -i}, {@code -p}, {@code -rf json}, {@code -h}, ...); without a regex every benchmark
 * of this package runs (about six minutes: one fork per benchmark and shape, 5 x 1 s warm-up,
 * 5 x 1 s measurement). The benchmarks are test sources, compiled by {@code mvn verify} (the
 * JMH annotation processor generates their harness) but never run by it.
 */
public final class KernelBenchmarks {
    /** Fork JVM option: the Vector API module, without which onebit's scalar kernels would be timed. */
    static final String VECTOR_API = "--add-modules=jdk.incubator.vector";
    /** Fork JVM option: silences JDK 24+'s sun.misc.Unsafe warning (protobuf, building the ONNX models). */
    static final String QUIET_UNSAFE = "--sun-misc-unsafe-memory-access=allow";
    /** Fork JVM option: silences JDK 24+'s restricted-method warning (ONNX Runtime loads its native library). */
    static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    /** Benchmark method names of the sides, in table order, and their column labels. */
    private static final Map<String, String> SIDES = new LinkedHashMap<>();

    static {
        SIDES.put("xnor", "xnor");
        SIDES.put("xnorPacked", "pk-in");
        SIDES.put("xnorSigns", "pk-io");
        SIDES.put("bwn", "bwn");
        SIDES.put("onebitFloat", "float");
        SIDES.put("ort", "ORT");
    }

    private KernelBenchmarks() {
    }

    /**
     * Runs the benchmarks selected by the JMH options in {@code args} (all of this package when
     * they name none), then prints the side-by-side table.
     */
    public static void main(String[] args) throws Exception {
        CommandLineOptions cli = new CommandLineOptions(args);
        if (cli.shouldHelp() || cli.shouldList() || cli.shouldListWithParams() || cli.shouldListProfilers()
                || cli.shouldListResultFormats()) {
            org.openjdk.jmh.Main.main(args);
            return;
        }
        OptionsBuilder builder = new OptionsBuilder();
        builder.parent(cli);
        if (cli.getIncludes().isEmpty()) {
            builder.include(KernelBenchmarks.class.getPackageName() + "\\..*KernelBench\\.");
        }
        Options options = builder.build();
        Collection<RunResult> results = new Runner(options).run();
        printTable(results, System.out);
    }

    /**
     * One row per benchmark class and shape: each side's score, then ONNX Runtime's score over
     * each onebit side's (above 1 when onebit is faster). Only sides that ran get a column; a
     * side missing from a row is "-". JMH's own table above has the score errors.
     */
    static void printTable(Collection<RunResult> results, PrintStream out) {
        // "Conv 64@56" -> side -> score; sides in SIDES order, whatever order JMH ran them in
        Map<String, Map<String, Double>> rows = new LinkedHashMap<>();
        Set<String> ran = new LinkedHashSet<>();
        String unit = "";
        for (RunResult r : results) {
            String benchmark = r.getParams().getBenchmark();
            int dot = benchmark.lastIndexOf('.');
            String side = benchmark.substring(dot + 1);
            String cls = benchmark.substring(benchmark.lastIndexOf('.', dot - 1) + 1, dot).replace("KernelBench", "");
            rows.computeIfAbsent(cls + " " + r.getParams().getParam("shape"), k -> new LinkedHashMap<>())
                    .put(side, r.getPrimaryResult().getScore());
            ran.add(side);
            unit = r.getPrimaryResult().getScoreUnit();
        }
        List<String> sides = SIDES.keySet().stream().filter(ran::contains).toList();
        List<String> ours = sides.stream().filter(s -> !s.equals("ort")).toList();
        out.println();
        out.println("Side by side, single thread (" + unit + ", lower is better; ORT/x above 1: onebit faster;"
                + " pk-in: XNOR from packed signs, pk-io: packed signs in and out)");
        StringBuilder header = new StringBuilder(String.format("%-16s", "layer"));
        sides.forEach(s -> header.append(String.format(" %12s", SIDES.get(s))));
        if (ran.contains("ort")) {
            ours.forEach(s -> header.append(String.format(" %12s", "ORT/" + SIDES.get(s))));
        }
        out.println(header);
        for (Map.Entry<String, Map<String, Double>> row : rows.entrySet()) {
            Map<String, Double> score = row.getValue();
            StringBuilder line = new StringBuilder(String.format("%-16s", row.getKey()));
            sides.forEach(s -> line.append(score.containsKey(s) ? String.format(" %12.1f", score.get(s))
                    : String.format(" %12s", "-")));
            if (ran.contains("ort")) {
                Double ort = score.get("ort");
                ours.forEach(s -> line.append(ort == null || !score.containsKey(s) ? String.format(" %12s", "-")
                        : String.format(" %12.2f", ort / score.get(s))));
            }
            out.println(line);
        }
    }
}
