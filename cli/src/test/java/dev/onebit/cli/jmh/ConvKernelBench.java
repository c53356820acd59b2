package dev.onebit.cli.jmh;

import ai.onnxruntime.OrtException;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.BenchBuffers;
import dev.onebit.runtime.PackedSigns;
import dev.onebit.runtime.kernels.BinaryConvolution;
import dev.onebit.runtime.kernels.BwnConvolution;
import dev.onebit.runtime.kernels.Convolution;
import dev.onebit.runtime.kernels.Kernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * One 3x3 convolution, pad 1, stride 1, batch 1, by three kernels in the same JVM: onebit's
 * XNOR kernel ({@link BinaryConvolution}), onebit's float kernel ({@link Convolution}) and ONNX
 * Runtime's float Conv, all single-threaded. Run through {@link KernelBenchmarks}.
 *
 * <p>{@code xnor} times what a binary conv node costs inside a graph when its input arrives as
 * ±1 floats: packing them into bits, the popcount product, and the float output transform
 * ({@code alpha * dot + bias}, no per-position activation scale). Its output array is handed
 * back after each call as the executor does ({@link BenchBuffers}). Two more XNOR sides time
 * the executor's packed paths between binary layers: {@code xnorPacked} takes the input
 * already as {@link PackedSigns} (floats out), {@code xnorSigns} also emits packed signs (the
 * layer feeding another binary one). The float sides take a Gaussian input; the XNOR sides
 * its signs. {@code bwn} is the BWN layer (binary weight, Gaussian input) on its table-lookup
 * kernel ({@link BwnConvolution}), output transform included.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
// The first warm-up second is 2-5x slow (C2 still compiling the Vector API code); scores were
// steady from the second on. The rest is margin for a loaded machine, where the compiler
// threads compete with other work.
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {KernelBenchmarks.VECTOR_API, KernelBenchmarks.QUIET_UNSAFE,
        KernelBenchmarks.NATIVE_ACCESS})
public class ConvKernelBench {

    /** {@code C@S}: a 3x3 conv from C to C channels on an S x S input. */
    @Param({"64@56", "128@28", "256@14", "512@7", "32@28"})
    public String shape;

    private int[] xShape;
    private float[] x;
    private float[] signs;
    private PackedSigns packed;
    private float[] bias;
    private BinaryConvolution xnorConv;
    private BwnConvolution bwnConv;
    private Convolution floatConv;
    private OrtNode ortConv;

    /**
     * Builds the three kernels on the same random weight (the XNOR one on its signs and BWN
     * scales) and checks their outputs before anything is timed.
     */
    @Setup
    public void setUp() throws OrtException {
        BenchData.singleThreadVectorKernels();
        int c = Integer.parseInt(shape.substring(0, shape.indexOf('@')));
        int s = Integer.parseInt(shape.substring(shape.indexOf('@') + 1));
        int taps = 9;
        Random rnd = new Random(shape.hashCode());
        xShape = new int[] {1, c, s, s};
        int[] wShape = {c, c, 3, 3};
        x = BenchData.gaussian(rnd, c * s * s, 1f);
        signs = BenchData.signs(x);
        float[] w = BenchData.gaussian(rnd, c * c * taps, (float) Math.sqrt(2.0 / (c * taps)));
        bias = BenchData.gaussian(rnd, c, 0.1f);
        Convolution.Params params = new Convolution.Params(1, new int[] {3, 3}, new long[] {1, 1}, new long[] {1, 1},
                new long[] {1, 1, 1, 1}, "NOTSET");

        float[] alpha = BenchData.alpha(w, c, c * taps);
        xnorConv = new BinaryConvolution(Kernels.binaryGemm(), params, Tensor.ofSigns(new int[] {1, c, c, 3, 3}, w), alpha);
        floatConv = new Convolution(Kernels.floatGemm(), params, w, wShape, bias);
        ortConv = OrtNode.conv(w, wShape, bias, 1, x, xShape);

        BenchData.requireClose("onebit float conv vs ONNX Runtime", floatConv.run(x, xShape, null, null, null),
                ortConv.output(), 1e-4);
        // The XNOR kernel against the float kernel on the same binarized problem: a null output
        // (input not ±1, the graph would fall back to float) or a wrong one fails here.
        float[] binarized = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            binarized[i] = (w[i] < 0 ? -1f : 1f) * alpha[i / (c * taps)];
        }
        float[] expected = new Convolution(Kernels.floatGemm(), params, binarized, wShape, bias)
                .run(signs, xShape, null, null, null);
        float[] pooled = xnorConv.run(signs, xShape, null, bias);
        float[] y = pooled.clone();
        BenchBuffers.giveBack(pooled);
        BenchData.requireClose("onebit xnor conv vs float conv of the binarized layer", y, expected, 1e-4);
        bwnConv = new BwnConvolution(params, Tensor.ofSigns(new int[] {1, c, c, 3, 3}, w), alpha);
        float[] bwnOut = bwnConv.run(x, xShape, bias);
        BenchData.requireClose("onebit bwn conv vs float conv of the binarized layer", bwnOut.clone(),
                new Convolution(Kernels.floatGemm(), params, binarized, wShape, bias).run(x, xShape, null, null, null),
                1e-4);
        BenchBuffers.giveBack(bwnOut);
        packed = PackedSigns.pack(signs, xShape, Kernels.binaryGemm());
        float[] fromPacked = xnorConv.run(packed, xShape, null, bias);
        if (!Arrays.equals(fromPacked, y)) {
            throw new IllegalStateException("onebit xnor conv: packed input gives another output than ±1 floats");
        }
        BenchBuffers.giveBack(fromPacked);
        PackedSigns bits = xnorConv.runSigns(null, packed, xShape, bias);
        if (!Arrays.equals(bits.words, PackedSigns.pack(y, xnorConv.outputShape(xShape), Kernels.binaryGemm()).words)) {
            throw new IllegalStateException("onebit xnor conv: packed output is not the signs of the float output");
        }
    }

    /** Releases ONNX Runtime's session and input tensor. */
    @TearDown
    public void tearDown() throws OrtException {
        ortConv.close();
    }

    /** onebit's XNOR conv on the ±1 input: pack, popcount, output transform. */
    @Benchmark
    public float[] xnor() {
        float[] y = xnorConv.run(signs, xShape, null, bias);
        // Only the reference goes to the blackhole, so giving the array back first is safe.
        BenchBuffers.giveBack(y);
        return y;
    }

    /** onebit's XNOR conv on the input already packed (as between binary layers): popcount, output transform. */
    @Benchmark
    public float[] xnorPacked() {
        float[] y = xnorConv.run(packed, xShape, null, bias);
        BenchBuffers.giveBack(y);
        return y;
    }

    /** onebit's XNOR conv from packed signs to packed signs (integer thresholds instead of the float transform). */
    @Benchmark
    public PackedSigns xnorSigns() {
        return xnorConv.runSigns(null, packed, xShape, bias);
    }

    /** onebit's BWN conv (table lookup on the packed weight) on the Gaussian input, output transform included. */
    @Benchmark
    public float[] bwn() {
        float[] y = bwnConv.run(x, xShape, bias);
        BenchBuffers.giveBack(y);
        return y;
    }

    /** onebit's float conv (implicit im2col + float GEMM) on the Gaussian input. */
    @Benchmark
    public float[] onebitFloat() {
        return floatConv.run(x, xShape, null, null, null);
    }

    /** ONNX Runtime's float Conv on the Gaussian input, one intra-op thread. */
    @Benchmark
    public void ort() throws OrtException {
        ortConv.run();
    }
}
