package dev.onebit.cli.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxExporter;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import dev.onebit.runtime.kernels.Kernels;

import java.io.PrintStream;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Single-threaded float Conv throughput, onebit against ONNX Runtime, on typical CNN layers.
 * Both run the same one-node model (same weights) in the same process; runs alternate between
 * the two so that machine noise hits both alike, and the median of each is reported.
 */
public final class FloatConvBench {

    /**
     * One measured layer.
     *
     * @param layer description
     * @param oursMs median onebit time per run
     * @param ortMs median ONNX Runtime time per run
     * @param oursGflops onebit throughput, 2 * multiply-adds per second
     * @param ortGflops ONNX Runtime throughput
     * @param maxRelDiff largest difference between the two outputs, relative to the largest output magnitude
     */
    public record Row(String layer, double oursMs, double ortMs, double oursGflops, double ortGflops, double maxRelDiff) {
        /** Our throughput over ONNX Runtime's. */
        public double ratio() {
            return oursGflops / ortGflops;
        }
    }

    /** A conv layer: channels, square input size, square kernel, stride and padding. */
    private record Layer(int in, int out, int size, int kernel, int stride, int pad) {
        long macs() {
            long o = (size + 2L * pad - kernel) / stride + 1;
            return (long) in * out * kernel * kernel * o * o;
        }

        String describe() {
            return kernel + "x" + kernel + (stride > 1 ? "/s" + stride : "") + " " + in + "->" + out + " @" + size + "x" + size;
        }
    }

    private static final List<Layer> LAYERS = List.of(
            new Layer(64, 64, 56, 3, 1, 1),
            new Layer(256, 256, 14, 3, 1, 1),
            new Layer(3, 64, 224, 7, 2, 3));

    private FloatConvBench() {
    }

    /** Runs the benchmark: arguments [warm-up runs (default 100), timed runs (default 40)] per layer and side. */
    public static void main(String[] args) throws Exception {
        int warmup = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int runs = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        run(warmup, runs, System.out);
    }

    /**
     * Measures every layer and prints a table to {@code out}.
     *
     * @param warmup untimed runs per side before measuring
     * @param runs timed runs per side
     * @return one row per layer
     */
    public static List<Row> run(int warmup, int runs, PrintStream out) {
        out.println("onebit float Conv vs ONNX Runtime (1 thread), onebit " + Kernels.threads() + " thread(s), batch 1, gemm "
                + Kernels.floatGemm().name() + ", " + warmup + " warm-up + " + runs + " timed runs (median)");
        out.printf("%-24s %10s %10s %12s %12s %7s %10s%n", "layer", "ours ms", "ORT ms", "ours GFLOP/s", "ORT GFLOP/s",
                "ratio", "max diff");
        List<Row> rows = new ArrayList<>();
        try (OrtEnvironment env = OrtEnvironment.getEnvironment()) {
            for (Layer l : LAYERS) {
                Row r = measure(env, l, warmup, runs);
                rows.add(r);
                out.printf("%-24s %10.3f %10.3f %12.1f %12.1f %7.2f %10.1e%n", r.layer(), r.oursMs(), r.ortMs(),
                        r.oursGflops(), r.ortGflops(), r.ratio(), r.maxRelDiff());
            }
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
        }
        return rows;
    }

    private static Row measure(OrtEnvironment env, Layer l, int warmup, int runs) throws OrtException {
        Random rnd = new Random(l.hashCode());
        int[] xShape = {1, l.in(), l.size(), l.size()};
        float[] x = randoms(rnd, Value.count(xShape), 1f);
        Graph graph = convGraph(l, rnd);
        Executor ours = Executor.create(graph);
        Map<String, Value> inputs = Map.of("x", Value.ofFloats(xShape, x));

        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(1);
            opts.setInterOpNumThreads(1);
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession ort = env.createSession(OnnxExporter.toBytes(graph), opts);
                 OnnxTensor xt = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), Arrays.stream(xShape).asLongStream().toArray())) {
                Map<String, OnnxTensor> ortIn = Map.of("x", xt);
                float[] mine = ours.run(inputs).get("y").floats;
                float[] theirs;
                try (OrtSession.Result res = ort.run(ortIn)) {
                    FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
                    theirs = new float[fb.remaining()];
                    fb.get(theirs);
                }
                for (int i = 0; i < warmup; i++) {
                    ours.run(inputs);
                    ort.run(ortIn).close();
                }
                double[] tOurs = new double[runs];
                double[] tOrt = new double[runs];
                for (int i = 0; i < runs; i++) {
                    // Alternate which side goes first so neither always runs on a warmer cache.
                    if (i % 2 == 0) {
                        tOurs[i] = timeOurs(ours, inputs);
                        tOrt[i] = timeOrt(ort, ortIn);
                    } else {
                        tOrt[i] = timeOrt(ort, ortIn);
                        tOurs[i] = timeOurs(ours, inputs);
                    }
                }
                double mo = median(tOurs);
                double mr = median(tOrt);
                double gflop = 2.0 * l.macs() / 1e9;
                return new Row(l.describe(), mo, mr, gflop / (mo / 1e3), gflop / (mr / 1e3), maxRelDiff(mine, theirs));
            }
        }
    }

    private static double timeOurs(Executor ex, Map<String, Value> inputs) {
        long t0 = System.nanoTime();
        ex.run(inputs);
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double timeOrt(OrtSession s, Map<String, OnnxTensor> inputs) throws OrtException {
        long t0 = System.nanoTime();
        s.run(inputs).close();
        return (System.nanoTime() - t0) / 1e6;
    }

    /** A graph of one Conv with bias: x [1, in, size, size] to y. */
    private static Graph convGraph(Layer l, Random rnd) {
        int[] wShape = {l.out(), l.in(), l.kernel(), l.kernel()};
        float scale = (float) Math.sqrt(2.0 / (l.in() * l.kernel() * l.kernel()));
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("kernel_shape", Attribute.ofInts(l.kernel(), l.kernel()));
        attrs.put("strides", Attribute.ofInts(l.stride(), l.stride()));
        attrs.put("pads", Attribute.ofInts(l.pad(), l.pad(), l.pad(), l.pad()));
        return Graph.builder("conv")
                .opset("", 13)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(1, l.in(), l.size(), l.size())))
                .initializer("w", Tensor.ofFloats(wShape, randoms(rnd, Value.count(wShape), scale)))
                .initializer("b", Tensor.ofFloats(new int[] {l.out()}, randoms(rnd, l.out(), 0.1f)))
                .node(Node.of("conv", "Conv", List.of("x", "w", "b"), List.of("y"), attrs))
                .output(new ValueInfo("y", DataType.FLOAT, null))
                .build();
    }

    private static float[] randoms(Random rnd, int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) rnd.nextGaussian() * scale;
        }
        return v;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double maxRelDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.POSITIVE_INFINITY;
        }
        double maxAbs = 1e-30;
        double maxDiff = 0;
        for (int i = 0; i < a.length; i++) {
            maxAbs = Math.max(maxAbs, Math.abs(b[i]));
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
        }
        return maxDiff / maxAbs;
    }
}
