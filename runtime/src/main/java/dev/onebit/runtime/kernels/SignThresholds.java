package dev.onebit.runtime.kernels;

/**
 * The integer form of "is this output negative" for an XNOR layer whose output only feeds a
 * sign: per output channel, a threshold on the popcount that decides
 * {@code alpha * (full - 2 * pop) + bias < 0} exactly as the float output step computes it
 * ({@link BinaryGemm#affine}: exact dot, then a float multiply and a float add, each rounded).
 *
 * <p>Both roundings are monotone, so as {@code pop} grows the float result never increases
 * when alpha &gt; 0 and never decreases when alpha &lt; 0: the negative outputs are a suffix or a
 * prefix of {@code 0..full}. A suffix is {@code pop >= threshold}; a prefix is its negation
 * ({@code flip}), which is what flipping the channel's weights would give. The threshold is
 * found by evaluating the float expression itself at every popcount, not by solving it in
 * real numbers, so the bits equal the signs of the float output bit for bit, ties and -0.0
 * included. A channel where the evaluated signs were neither (NaN scale) is marked inexact and
 * its caller takes the float path.
 */
final class SignThresholds {
    /** Per channel: negative iff {@code (pop >= threshold) != flip}. */
    final int[] threshold;
    final boolean[] flip;
    /** False for a channel whose test is not a threshold. */
    final boolean[] exact;

    private SignThresholds(int m) {
        threshold = new int[m];
        flip = new boolean[m];
        exact = new boolean[m];
    }

    /**
     * @param alpha per output channel (one binary plane)
     * @param bias per output channel, or null for 0
     * @param full the number of ±1 products in an unpadded dot ({@code C/group * taps})
     */
    static SignThresholds of(float[] alpha, float[] bias, int full) {
        int m = alpha.length;
        SignThresholds t = new SignThresholds(m);
        for (int o = 0; o < m; o++) {
            float a = alpha[o];
            float add = bias == null ? 0f : bias[o];
            // firstNegative: the smallest pop with a negative output; lastNegative: the largest.
            int firstNegative = -1;
            int lastNegative = -1;
            int count = 0;
            for (int pop = 0; pop <= full; pop++) {
                if (a * (full - 2 * pop) + add < 0) {
                    if (firstNegative < 0) {
                        firstNegative = pop;
                    }
                    lastNegative = pop;
                    count++;
                }
            }
            if (count == 0) {
                t.threshold[o] = full + 1;
                t.exact[o] = true;
            } else if (lastNegative == full && count == full + 1 - firstNegative) {
                t.threshold[o] = firstNegative;
                t.exact[o] = true;
            } else if (firstNegative == 0 && count == lastNegative + 1) {
                t.threshold[o] = lastNegative + 1;
                t.flip[o] = true;
                t.exact[o] = true;
            }
        }
        return t;
    }
}
