package dev.onebit.runtime.kernels;

import dev.onebit.ir.Tensor;
import dev.onebit.runtime.ops.BinaryOps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The BWN convolution (real-valued inputs, table lookup on the packed weight) against
 * BinaryOps' reference semantics (ONNX Conv with the effective weight) to float rounding, and
 * its scalar and Vector API engines against each other bit for bit, on the random
 * configurations of {@link BinaryConvolutionTest} that it takes: channel counts 1..130, kernels
 * 1/3/5/7, dilation, asymmetric and automatic pads, 1-3 planes and images.
 */
class BwnConvolutionTest {
    private int previousThreads;

    /** Cases that split their tiles run the parts on kernel threads, whatever the machine. */
    @BeforeEach
    void kernelThreads() {
        previousThreads = Kernels.threads();
        Kernels.setThreads(3);
    }

    @AfterEach
    void putBackThreads() {
        Kernels.setThreads(previousThreads);
    }

    /** Random stride-1, one-group 2-D cases with Gaussian inputs. */
    static List<BinaryConvolutionTest.Case> cases(long seed, int count) {
        Random rnd = new Random(seed);
        List<BinaryConvolutionTest.Case> l = new ArrayList<>();
        while (l.size() < count) {
            BinaryConvolutionTest.Case c = BinaryConvolutionTest.randomCase(rnd, 2);
            if (c == null || !BwnConvolution.supports(c.params(), c.b().shape())) {
                continue;
            }
            l.add(new BinaryConvolutionTest.Case(c.n(), c.group(), c.cg(), c.mg(), c.planes(), c.in(), c.kernel(),
                    c.strides(), c.dilations(), c.pads(), c.autoPad(), c.b(), c.alpha(), c.bias(), false,
                    Close.random(rnd, c.x().length)));
        }
        return l;
    }

    @Test
    void matchesTheReferenceConvToRounding() {
        List<BwnGemm> engines = new ArrayList<>(List.of(Kernels.scalarBwnGemm()));
        if (Kernels.vectorBwnGemm() != null) {
            engines.add(Kernels.vectorBwnGemm());
        }
        int i = 0;
        for (BinaryConvolutionTest.Case c : cases(41, 120)) {
            BwnGemm gemm = engines.get(i % engines.size());
            // Every third case splits its tiles into parts, as with several threads.
            var conv = new BwnConvolution(gemm, c.params(), c.b(), c.alpha(), 1 + i++ % 3, 0);
            float[] y = conv.run(c.x(), c.xShape(), c.bias());
            assertArrayEquals(conv.outputShape(c.xShape()), new int[] {c.n(), c.mg(), c.geometry().out[0],
                c.geometry().out[1]});
            Close.check(gemm.name() + " " + c, BinaryConvolutionTest.referenceOutput(c, null, false), y,
                    BinaryConvolutionTest.referenceOutput(c, null, true), 1e-5);
        }
    }

    @Test
    void enginesGiveTheSameBits() {
        assumeTrue(Kernels.vectorBwnGemm() != null, "no Vector API engine in this JVM");
        int i = 0;
        for (BinaryConvolutionTest.Case c : cases(42, 120)) {
            var scalar = new BwnConvolution(Kernels.scalarBwnGemm(), c.params(), c.b(), c.alpha(), 1, 0);
            var vector = new BwnConvolution(Kernels.vectorBwnGemm(), c.params(), c.b(), c.alpha(), 1 + i++ % 3, 0);
            assertArrayEquals(scalar.run(c.x(), c.xShape(), c.bias()), vector.run(c.x(), c.xShape(), c.bias()),
                    c.toString());
        }
    }

    /** ±1 inputs make every partial sum a small integer, exact in float: the reference's bits. */
    @Test
    void signInputsGiveTheReferenceBits() {
        Random rnd = new Random(43);
        for (BinaryConvolutionTest.Case c : cases(44, 40)) {
            float[] x = BinaryConvolutionTest.signs(rnd, c.x().length);
            var conv = new BwnConvolution(Kernels.bwnGemm(), c.params(), c.b(), c.alpha(), 2, 0);
            float[][] dots = new float[c.planes()][];
            for (int k = 0; k < c.planes(); k++) {
                dots[k] = ReferenceConv.conv(x, c.xShape(), BinaryOps.planeWeight(c.b(), k),
                        BinaryOps.weightShape(c.b()), null, 1, c.geometry());
            }
            // The output step in its documented order: alpha_0 * dot_0, + alpha_k * dot_k, + bias.
            int m = c.mg();
            int positions = c.geometry().outCount();
            float[] expected = new float[dots[0].length];
            for (int e = 0; e < expected.length; e++) {
                int o = e / positions % m;
                float v = c.alpha()[o] * dots[0][e];
                for (int k = 1; k < c.planes(); k++) {
                    v += c.alpha()[k * m + o] * dots[k][e];
                }
                expected[e] = v + (c.bias() == null ? 0f : c.bias()[o]);
            }
            assertArrayEquals(expected, conv.run(x, c.xShape(), c.bias()), c.toString());
        }
    }

    @Test
    void takesOnlyStrideOneSingleGroup2dLayers() {
        int[] shape = {1, 4, 3, 3, 3};
        assertTrue(BwnConvolution.supports(new Convolution.Params(1, null, null, null, null, "NOTSET"), shape));
        assertTrue(BwnConvolution.supports(new Convolution.Params(1, new int[] {3, 3}, new long[] {1, 1},
                new long[] {2, 2}, null, "NOTSET"), shape));
        assertFalse(BwnConvolution.supports(new Convolution.Params(1, null, new long[] {2, 1}, null, null, "NOTSET"), shape));
        assertFalse(BwnConvolution.supports(new Convolution.Params(3, null, null, null, null, "NOTSET"), shape));
        assertFalse(BwnConvolution.supports(new Convolution.Params(1, null, null, null, null, "NOTSET"),
                new int[] {1, 4, 3, 3}));
        Tensor b = Tensor.ofSigns(shape, new float[108]);
        var params = new Convolution.Params(1, null, new long[] {2, 2}, null, null, "NOTSET");
        assertThrows(IllegalArgumentException.class, () -> new BwnConvolution(params, b, new float[4]));
        var conv = new BwnConvolution(new Convolution.Params(1, null, null, null, null, "NOTSET"), b, new float[4]);
        assertThrows(IllegalArgumentException.class, () -> conv.run(new float[27], new int[] {1, 2, 3, 3}, null));
        assertThrows(IllegalArgumentException.class, () -> conv.run(new float[26], new int[] {1, 3, 3, 3}, null));
        assertThrows(IllegalArgumentException.class, () -> conv.run(new float[27], new int[] {1, 3, 3, 3}, new float[3]));
    }
}
