package dev.onebit.binarizer;

import dev.onebit.ir.Tensor;

/**
 * K binary planes approximating a weight with {@code outputs} rows of {@code perOutput} values:
 * {@code W[o][j] ≈ sum_k alpha[k][o] * B[k][o][j]}, B in {-1, +1}. Laid out as BinaryOps expects
 * (plane-major: {@code B[k][o][j]} at {@code (k * outputs + o) * perOutput + j}, alpha
 * {@code [K, O]}). Made by {@link BinaryWeights}.
 */
public final class BinaryPlanes {
    private final int planes;
    private final int outputs;
    private final int perOutput;
    private final float[] signs;
    private final float[] alpha;

    BinaryPlanes(int planes, int outputs, int perOutput, float[] signs, float[] alpha) {
        this.planes = planes;
        this.outputs = outputs;
        this.perOutput = perOutput;
        this.signs = signs;
        this.alpha = alpha;
    }

    /** Number of planes K. */
    public int planes() {
        return planes;
    }

    /** Number of rows (output channels) O. */
    public int outputs() {
        return outputs;
    }

    /** Weights per row. */
    public int perOutput() {
        return perOutput;
    }

    /** A copy of the signs, -1 or +1, {@code [K, O, perOutput]}. */
    public float[] signs() {
        return signs.clone();
    }

    /** A copy of the scales, {@code [K, O]}. */
    public float[] alpha() {
        return alpha.clone();
    }

    float[] signsView() {
        return signs;
    }

    float[] alphaView() {
        return alpha;
    }

    /** The approximated weight {@code sum_k alpha[k][o] * B[k][o]}, {@code [O, perOutput]}. */
    public float[] effective() {
        float[] w = new float[outputs * perOutput];
        for (int k = 0; k < planes; k++) {
            for (int o = 0; o < outputs; o++) {
                float a = alpha[k * outputs + o];
                int base = (k * outputs + o) * perOutput;
                for (int j = 0; j < perOutput; j++) {
                    w[o * perOutput + j] += a * signs[base + j];
                }
            }
        }
        return w;
    }

    /** {@code ||W - Ŵ|| / ||W||} over the whole weight (0 for an all-zero W that is matched exactly). */
    public double relativeError(float[] w) {
        float[] approx = effective();
        double num = 0;
        double den = 0;
        for (int i = 0; i < w.length; i++) {
            double d = w[i] - (double) approx[i];
            num += d * d;
            den += (double) w[i] * w[i];
        }
        return den == 0 ? (num == 0 ? 0 : Double.POSITIVE_INFINITY) : Math.sqrt(num / den);
    }

    /** B as a packed BIT tensor of shape {@code [K, weightShape...]} (weightShape's first axis is O). */
    public Tensor bits(int[] weightShape) {
        int[] shape = new int[weightShape.length + 1];
        shape[0] = planes;
        System.arraycopy(weightShape, 0, shape, 1, weightShape.length);
        return Tensor.ofSigns(shape, signs);
    }

    /** alpha as a float tensor {@code [K, O]}. */
    public Tensor alphaTensor() {
        return Tensor.ofFloats(new int[] {planes, outputs}, alpha);
    }

    /**
     * Puts every row in the canonical form of the package conventions: alpha &ge; 0 (a negative
     * scale flips its plane's signs, which leaves the product unchanged) and planes ordered by
     * decreasing alpha (stable, so equal scales keep their order).
     */
    void canonicalize() {
        float[] rowAlpha = new float[planes];
        float[][] rowSigns = new float[planes][perOutput];
        for (int o = 0; o < outputs; o++) {
            for (int k = 0; k < planes; k++) {
                int base = (k * outputs + o) * perOutput;
                float a = alpha[k * outputs + o];
                float flip = a < 0 ? -1f : 1f;
                rowAlpha[k] = a * flip;
                for (int j = 0; j < perOutput; j++) {
                    rowSigns[k][j] = signs[base + j] * flip;
                }
            }
            Integer[] order = new Integer[planes];
            for (int k = 0; k < planes; k++) {
                order[k] = k;
            }
            java.util.Arrays.sort(order, (x, y) -> Float.compare(rowAlpha[y], rowAlpha[x]));
            for (int k = 0; k < planes; k++) {
                int from = order[k];
                alpha[k * outputs + o] = rowAlpha[from];
                System.arraycopy(rowSigns[from], 0, signs, (k * outputs + o) * perOutput, perOutput);
            }
        }
    }
}
