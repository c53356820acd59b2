package dev.onebit.binarizer;

/**
 * Options of {@link Binarizer#binarize}.
 *
 * @param method how to binarize
 * @param planes binary planes per weight: 1 for BWN, XNOR and Bi-Real; 1..{@value BinaryWeights#MAX_PLANES} for CBD
 * @param refineRounds CBD's alternating refinement rounds after the greedy start (ignored otherwise)
 * @param keepFloat which layers stay real-valued
 * @param scaleActivations XNOR-Net's activation scale (an {@code ActivationScale} node feeding
 *     each binary conv); only with XNOR and Bi-Real, and only for convs
 */
public record BinarizeOptions(Method method, int planes, int refineRounds, KeepFloat keepFloat, boolean scaleActivations) {
    /** Refinement rounds CBD does unless told otherwise. */
    public static final int DEFAULT_REFINE_ROUNDS = 4;

    /**
     * Checks the options.
     *
     * @throws IllegalArgumentException if the plane count does not fit the method, rounds are
     *     negative, or the activation scale is asked for a method without binary inputs
     */
    public BinarizeOptions {
        if (method == null || keepFloat == null) {
            throw new IllegalArgumentException("method and keepFloat are required");
        }
        if (method == Method.CBD) {
            if (planes < 1 || planes > BinaryWeights.MAX_PLANES) {
                throw new IllegalArgumentException("cbd needs 1.." + BinaryWeights.MAX_PLANES + " planes, got " + planes);
            }
        } else if (planes != 1) {
            throw new IllegalArgumentException(method.id() + " has exactly one plane, got " + planes);
        }
        if (refineRounds < 0) {
            throw new IllegalArgumentException("refineRounds must be >= 0, got " + refineRounds);
        }
        if (scaleActivations && !method.binarizesInputs()) {
            throw new IllegalArgumentException("scaleActivations needs binarized inputs (xnor or bireal), not " + method.id());
        }
    }

    /** BWN with the default keep-float policy. */
    public static BinarizeOptions defaults() {
        return of(Method.BWN);
    }

    /** The method with its defaults: 1 plane (2 for CBD), default policy, no activation scale. */
    public static BinarizeOptions of(Method method) {
        return new BinarizeOptions(method, method == Method.CBD ? 2 : 1, DEFAULT_REFINE_ROUNDS, KeepFloat.DEFAULT, false);
    }

    /** CBD with {@code planes} planes and the default policy. */
    public static BinarizeOptions cbd(int planes) {
        return of(Method.CBD).withPlanes(planes);
    }

    /** A copy with another plane count. */
    public BinarizeOptions withPlanes(int k) {
        return new BinarizeOptions(method, k, refineRounds, keepFloat, scaleActivations);
    }

    /** A copy with another number of refinement rounds. */
    public BinarizeOptions withRefineRounds(int rounds) {
        return new BinarizeOptions(method, planes, rounds, keepFloat, scaleActivations);
    }

    /** A copy with another keep-float policy. */
    public BinarizeOptions withKeepFloat(KeepFloat k) {
        return new BinarizeOptions(method, planes, refineRounds, k, scaleActivations);
    }

    /** A copy with the activation scale on or off. */
    public BinarizeOptions withScaleActivations(boolean on) {
        return new BinarizeOptions(method, planes, refineRounds, keepFloat, on);
    }
}
