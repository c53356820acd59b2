package dev.onebit.cli;

import ai.onnxruntime.OrtException;
import dev.onebit.Model;
import dev.onebit.cli.bench.Latency;
import dev.onebit.cli.bench.OrtModel;
import dev.onebit.cli.bench.Profile;
import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Kernels;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code onebit bench}: per-call latency of a model in onebit's runtime, optionally side by side
 * with ONNX Runtime on the float original (same process, same input, same thread count,
 * alternating calls). A {@code .bnn} runs through the embedding API ({@link Model}), so the
 * figure is what an application gets.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Time a model's per-call latency (median, p10/p90, min/max) on a fixed random input; with "
                + "--against, ONNX Runtime on the float model alternately, with the same input and threads, "
                + "and the speed-up.")
final class BenchCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model to time (.bnn, or .onnx for the float runtime).")
    Path model;

    @Option(names = "--threads", paramLabel = "N",
            description = "Threads per call, for onebit's kernels and ONNX Runtime's intra-op pool "
                    + "(default: the onebit.threads property, else the available processors).")
    Integer threads;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "1",
            description = "Items per call (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--against", paramLabel = "ORIG.onnx", description = "Also time this float model in ONNX Runtime.")
    Path against;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "50",
            description = "Untimed calls per side first, and more until at least 2 seconds have passed and the "
                    + "JIT compiler has been idle for 1 second (30 seconds at most), so that the kernels are "
                    + "compiled (default: ${DEFAULT-VALUE}; 0: no warm-up).")
    int warmup;

    @Option(names = "--profile", description = "Afterwards, time every node of onebit's graph separately and print "
            + "the milliseconds per call by operator type and the slowest nodes (JSON: \"profile\").")
    boolean profile;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "200",
            description = "Timed calls per side (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--json", description = "Print one JSON object (latency_ms, and with --against "
            + "reference_latency_ms and speedup, ...) instead of text.")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int n = threads != null ? threads : Kernels.threads();
        if (n < 1 || n > Kernels.MAX_THREADS) {
            throw new UserError("--threads must be 1 to " + Kernels.MAX_THREADS);
        }
        if (batch < 1 || warmup < 0 || runs < 1) {
            throw new UserError("--batch and --runs must be at least 1, --warmup at least 0");
        }
        if (!Files.isRegularFile(model)) {
            throw new UserError(model + ": no such file");
        }
        if (against != null && !Files.isRegularFile(against)) {
            throw new UserError(against + ": no such file");
        }
        // Kernels take the thread count when they are created, and parallelFor reads it on every
        // call: set it for the whole command, and put back what this JVM had (tests share one).
        int previous = Kernels.threads();
        Kernels.setThreads(n);
        try {
            return measure(n);
        } finally {
            Kernels.setThreads(previous);
        }
    }

    private int measure(int n) throws Exception {
        try (Side ours = open(model)) {
            float[] input = randomInput(ours.itemShape);
            Latency.Call oursCall = () -> ours.run.apply(input);
            Latency.Result r;
            if (against == null) {
                r = Latency.measure(oursCall, null, warmup, runs);
            } else {
                try (OrtModel ort = openOrt(n, input, ours.itemShape)) {
                    r = Latency.measure(oursCall, ort::run, warmup, runs);
                }
            }
            print(n, ours.itemShape, r, profile ? profile(ours.itemShape, input) : null);
        }
        return Main.OK;
    }

    /** The per-node profile of the same graph the timed side ran, on the same input. */
    private Profile profile(int[] itemShape, float[] input) throws IOException {
        ModelFile f = ModelFile.load(model);
        Executor ex = Executor.create(f.graph());
        int[] shape = new int[itemShape.length + 1];
        shape[0] = batch;
        System.arraycopy(itemShape, 0, shape, 1, itemShape.length);
        return Profile.of(ex, f.graph().inputs().get(0).name(), Value.ofFloats(shape, input), warmup, Math.max(runs, 20));
    }

    /** The model under test: its item shape and one call on a batch. */
    private record Side(int[] itemShape, java.util.function.Function<float[], float[]> run, AutoCloseable owner)
            implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (owner != null) {
                owner.close();
            }
        }
    }

    private Side open(Path file) throws IOException {
        int b = batch;
        if (ModelFile.isBnn(file)) {
            Model m = Model.load(file);
            return new Side(m.inputShape(), data -> m.runBatch(data, b), m);
        }
        ModelFile f = ModelFile.load(file);
        int[] item = f.itemShape();
        if (f.graph().inputs().size() != 1 || item == null) {
            throw new UserError(file + ": bench needs one input with every dimension but the batch fixed");
        }
        Executor ex = Executor.create(f.graph());
        String in = f.graph().inputs().get(0).name();
        String out = f.graph().outputs().get(0).name();
        int[] shape = new int[item.length + 1];
        shape[0] = b;
        System.arraycopy(item, 0, shape, 1, item.length);
        return new Side(item, data -> ex.run(Map.of(in, Value.ofFloats(shape, data))).get(out).floats, null);
    }

    private OrtModel openOrt(int n, float[] input, int[] itemShape) {
        try {
            return new OrtModel(against, n, input, batch, itemShape);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        } catch (OrtException e) {
            throw new ModelException(against + ": ONNX Runtime cannot run it: " + e.getMessage(), e);
        }
    }

    /** A fixed pseudo-random batch, roughly as normalised images look; the same on every run of the command. */
    private float[] randomInput(int[] itemShape) {
        Random rnd = new Random(42);
        float[] x = new float[Math.multiplyExact(batch, Value.count(itemShape))];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        return x;
    }

    private void print(int n, int[] itemShape, Latency.Result r, Profile p) {
        PrintWriter out = spec.commandLine().getOut();
        String kernels = Kernels.floatGemm().name() + ", " + Kernels.binaryGemm().name();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", model.toString());
            o.put("threads", n);
            o.put("batch", batch);
            o.put("input_shape", itemShape);
            o.put("warmup", warmup);
            o.put("runs", runs);
            o.put("kernels", kernels);
            put(o, "", r.ours());
            o.put("items_per_second", round(batch * 1000.0 / r.ours().median()));
            if (r.reference() != null) {
                o.put("reference", against.toString());
                put(o, "reference_", r.reference());
                o.put("speedup", round(r.speedup()));
            }
            if (p != null) {
                Map<String, Object> po = new LinkedHashMap<>();
                po.put("total_ms", round(p.totalMs()));
                po.put("packed_nodes", p.packed());
                Map<String, Object> ops = new LinkedHashMap<>();
                p.byOp().forEach((k, v) -> ops.put(k, round(v)));
                po.put("by_op_ms", ops);
                po.put("nodes", p.nodes().stream().map(x -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", x.name());
                    m.put("op", x.op());
                    m.put("ms", round(x.ms()));
                    return m;
                }).toList());
                o.put("profile", po);
            }
            out.println(Json.write(o));
            return;
        }
        out.printf("%s: batch %d of %s, %d thread(s), kernels %s; %d warm-up + %d timed calls%s%n", model, batch,
                Arrays.toString(itemShape), n, kernels, warmup, runs, r.reference() == null ? "" : " per side, alternating");
        out.printf("%-14s %10s %10s %10s %10s %10s%n", "", "median ms", "p10 ms", "p90 ms", "min ms", "max ms");
        row(out, "onebit", r.ours());
        if (r.reference() != null) {
            row(out, "ONNX Runtime", r.reference());
            out.printf("speed-up: %.2fx (ONNX Runtime median / onebit median, on %s)%n", r.speedup(), against);
        }
        if (p != null) {
            p.print(out, 15);
        }
    }

    private static void row(PrintWriter out, String name, Latency.Stats s) {
        out.printf("%-14s %10.3f %10.3f %10.3f %10.3f %10.3f%n", name, s.median(), s.p10(), s.p90(), s.min(), s.max());
    }

    private static void put(Map<String, Object> o, String prefix, Latency.Stats s) {
        o.put(prefix + "latency_ms", round(s.median()));
        o.put(prefix + "latency_p10_ms", round(s.p10()));
        o.put(prefix + "latency_p90_ms", round(s.p90()));
        o.put(prefix + "latency_min_ms", round(s.min()));
        o.put(prefix + "latency_max_ms", round(s.max()));
    }

    private static double round(double v) {
        return Math.round(v * 1e4) / 1e4;
    }
}
