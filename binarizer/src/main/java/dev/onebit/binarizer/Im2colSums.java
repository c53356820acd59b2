package dev.onebit.binarizer;

import dev.onebit.runtime.kernels.ConvGeometry;
import dev.onebit.runtime.kernels.FloatGemm;
import dev.onebit.runtime.kernels.Kernels;
import dev.onebit.runtime.kernels.Offsets;
import dev.onebit.runtime.kernels.PackedMatrix;

/**
 * What {@link SignRefit} needs of a layer's inputs and the float layer's outputs: over the
 * layer's im2col rows x (n values each) paired with the float outputs y at the same image and
 * position, the sums of x, of x x' ({@code n x n}), of x y' ({@code [n][outputs]}) and of y,
 * and the row count. The block products x'x and x'y run through the runtime's float GEMM
 * (rounded in float over a block of {@value #BLOCK} rows), the sums across blocks in double.
 */
final class Im2colSums {
    /** im2col rows accumulated in float before they are added to the double sums. */
    private static final int BLOCK = 256;

    final int n;
    final int outputs;
    final double[] sx;
    final double[] g;
    final double[] c;
    final double[] sy;
    long rows;

    /**
     * The sums of a batch: im2col rows of {@code x} ({@code [images, channels, spatial...]})
     * under the geometry's windows, padded taps 0, in (image, output position) order, each
     * paired with {@code y[image][o][position]}; of each image's positions only every
     * {@code step}-th, from {@code image % step} on.
     */
    static Im2colSums of(float[] x, int images, int channels, ConvGeometry geo, float[] y, int outputs, int step) {
        int positions = geo.outCount();
        int taps = geo.kernelCount();
        int plane = geo.inCount();
        int per = channels * taps;
        int[] src = geo.tapSources();
        Im2colSums s = new Im2colSums(per, outputs);
        float[] rows = new float[BLOCK * per];
        float[] ys = new float[BLOCK * outputs];
        float[] gBlock = new float[per * per];
        float[] cBlock = new float[per * outputs];
        int r = 0;
        for (int img = 0; img < images; img++) {
            // Every step-th position, starting at a different one in each image.
            for (int p = img % step; p < positions; p += step) {
                int row = r * per;
                for (int c = 0; c < channels; c++) {
                    int xb = (img * channels + c) * plane;
                    for (int t = 0; t < taps; t++) {
                        int at = src[p * taps + t];
                        rows[row + c * taps + t] = at < 0 ? 0f : x[xb + at];
                    }
                }
                for (int o = 0; o < outputs; o++) {
                    ys[r * outputs + o] = y[(img * outputs + o) * positions + p];
                }
                if (++r == BLOCK) {
                    s.add(rows, ys, r, gBlock, cBlock);
                    r = 0;
                }
            }
        }
        s.add(rows, ys, r, gBlock, cBlock);
        return s;
    }

    Im2colSums(int n, int outputs) {
        this.n = n;
        this.outputs = outputs;
        sx = new double[n];
        g = new double[n * n];
        c = new double[n * outputs];
        sy = new double[outputs];
    }

    /**
     * Adds {@code count} rows ({@code x[r * n + j]}, {@code ys[r * outputs + o]}): the block's
     * x'x and x'y as float products into the scratch {@code gBlock} and {@code cBlock}, then
     * added to the double sums.
     */
    void add(float[] x, float[] ys, int count, float[] gBlock, float[] cBlock) {
        if (count == 0) {
            return;
        }
        FloatGemm gemm = Kernels.floatGemm();
        // A = x' (n x count) is x read with swapped strides; B = x (count x n) and y in place.
        PackedMatrix xt = gemm.pack(x, 0, 1, n, n, count, 1f);
        int[] rowsOfX = Offsets.strided(count, n);
        gemm.multiply(xt, n, x, 0, rowsOfX, Offsets.strided(n, 1), null, 0, false, gBlock, 0, n, 1);
        gemm.multiply(xt, outputs, ys, 0, Offsets.strided(count, outputs), Offsets.strided(outputs, 1), null, 0,
                false, cBlock, 0, outputs, 1);
        for (int k = 0; k < g.length; k++) {
            g[k] += gBlock[k];
        }
        for (int k = 0; k < c.length; k++) {
            c[k] += cBlock[k];
        }
        for (int r = 0; r < count; r++) {
            for (int j = 0; j < n; j++) {
                sx[j] += x[r * n + j];
            }
            for (int o = 0; o < outputs; o++) {
                sy[o] += ys[r * outputs + o];
            }
        }
        rows += count;
    }

    /** Adds another batch's sums to these. */
    void merge(Im2colSums other) {
        for (int k = 0; k < g.length; k++) {
            g[k] += other.g[k];
        }
        for (int k = 0; k < c.length; k++) {
            c[k] += other.c[k];
        }
        for (int k = 0; k < n; k++) {
            sx[k] += other.sx[k];
        }
        for (int k = 0; k < outputs; k++) {
            sy[k] += other.sy[k];
        }
        rows += other.rows;
    }
}
