package dev.onebit.cli.jmh;

import ai.onnxruntime.OrtException;
import dev.onebit.ir.Tensor;
import dev.onebit.runtime.PackedSigns;
import dev.onebit.runtime.kernels.BinaryDense;
import dev.onebit.runtime.kernels.FloatGemm;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.Offsets;
import dev.onebit.runtime.kernels.PackedMatrix;
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
 * One fully connected layer, batch 1, by three kernels in the same JVM: onebit's XNOR kernel
 * ({@link BinaryDense}), onebit's float product (the packed {@link FloatGemm} a Gemm or
 * BinaryMatMul node runs on) and ONNX Runtime's float Gemm ({@code transB = 1}, bias), all
 * single-threaded. Run through {@link KernelBenchmarks}.
 *
 * <p>{@code xnor} includes packing the ±1 float input and the float output transform
 * ({@code alpha * dot + bias}), as in a graph when the input arrives as ±1 floats;
 * {@code xnorPacked} takes it already as {@link PackedSigns}, as the executor passes it between
 * binary layers. The float sides take a Gaussian input; the XNOR sides its signs.
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
public class DenseKernelBench {

    /** {@code IN-OUT}: input and output features. */
    @Param({"1152-256", "4096-1000"})
    public String shape;

    private static final int ROWS = 1;

    private int in;
    private int out;
    private float[] x;
    private float[] signs;
    private PackedSigns packed;
    private float[] bias;
    private BinaryDense xnorDense;
    private FloatGemm gemm;
    private PackedMatrix floatWeight;
    private int[] rowOffsets;
    private int[] colOffsets;
    private OrtNode ortGemm;

    /**
     * Builds the three layers on the same random weight (the XNOR one on its signs and BWN
     * scales) and checks their outputs before anything is timed.
     */
    @Setup
    public void setUp() throws OrtException {
        BenchData.singleThreadVectorKernels();
        in = Integer.parseInt(shape.substring(0, shape.indexOf('-')));
        out = Integer.parseInt(shape.substring(shape.indexOf('-') + 1));
        Random rnd = new Random(shape.hashCode());
        x = BenchData.gaussian(rnd, ROWS * in, 1f);
        signs = BenchData.signs(x);
        float[] w = BenchData.gaussian(rnd, out * in, (float) Math.sqrt(2.0 / in));
        bias = BenchData.gaussian(rnd, out, 0.1f);

        float[] alpha = BenchData.alpha(w, out, in);
        xnorDense = new BinaryDense(Kernels.binaryGemm(), Tensor.ofSigns(new int[] {1, out, in}, w), alpha);
        gemm = Kernels.floatGemm();
        // As MatMulOps does for a constant weight: W [OUT][IN] packed once as the left operand,
        // the input read in place as its right operand, the output written transposed.
        floatWeight = gemm.pack(w, 0, in, 1, out, in, 1f);
        rowOffsets = Offsets.strided(in, 1);
        colOffsets = Offsets.strided(ROWS, in);
        ortGemm = OrtNode.gemm(w, out, in, bias, x, ROWS);

        BenchData.requireClose("onebit float dense vs ONNX Runtime", floatDense(floatWeight, x), ortGemm.output(), 1e-4);
        float[] binarized = new float[w.length];
        for (int i = 0; i < w.length; i++) {
            binarized[i] = (w[i] < 0 ? -1f : 1f) * alpha[i / in];
        }
        float[] expected = floatDense(gemm.pack(binarized, 0, in, 1, out, in, 1f), signs);
        float[] y = xnorDense.run(signs, ROWS, bias);
        BenchData.requireClose("onebit xnor dense vs float dense of the binarized layer", y, expected, 1e-4);
        packed = PackedSigns.pack(signs, new int[] {ROWS, in}, Kernels.binaryGemm());
        if (!Arrays.equals(xnorDense.run(packed, bias), y)) {
            throw new IllegalStateException("onebit xnor dense: packed input gives another output than ±1 floats");
        }
    }

    private float[] floatDense(PackedMatrix weight, float[] input) {
        float[] y = new float[ROWS * out];
        gemm.multiply(weight, ROWS, input, 0, rowOffsets, colOffsets, bias, 0, false, y, 0, 1, out);
        return y;
    }

    /** Releases ONNX Runtime's session and input tensor. */
    @TearDown
    public void tearDown() throws OrtException {
        ortGemm.close();
    }

    /** onebit's XNOR dense layer on the ±1 input: pack, popcount, output transform. */
    @Benchmark
    public float[] xnor() {
        return xnorDense.run(signs, ROWS, bias);
    }

    /** onebit's XNOR dense layer on the input already packed (as between binary layers). */
    @Benchmark
    public float[] xnorPacked() {
        return xnorDense.run(packed, bias);
    }

    /** onebit's float product with the packed weight, bias included. */
    @Benchmark
    public float[] onebitFloat() {
        return floatDense(floatWeight, x);
    }

    /** ONNX Runtime's float Gemm, one intra-op thread. */
    @Benchmark
    public void ort() throws OrtException {
        ortGemm.run();
    }
}
