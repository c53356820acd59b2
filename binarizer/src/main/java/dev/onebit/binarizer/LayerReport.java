package dev.onebit.binarizer;

/**
 * What the binarizer did with one layer (a Conv, Gemm or MatMul node of the float graph).
 *
 * @param name the node's name (the binary node has the same name)
 * @param op the float node's op type: Conv, Gemm or MatMul
 * @param method {@code bwn}, {@code xnor}, {@code bireal} or {@code cbd}; {@code float} when kept real-valued
 * @param keptFloatReason why the layer stayed float, or null when it was binarized
 * @param params number of weights (not counting the bias)
 * @param bitsPerWeight storage per weight: 32 for a float layer; for a binary one K sign bits
 *     plus its row's K float32 scales spread over the row ({@code K + 32 K / rowLength})
 * @param relativeError {@code ||W - Ŵ|| / ||W||} of the effective weights (0 when kept float;
 *     the BWN error for xnor and bireal)
 * @param note extra facts worth a line in a report (Bi-Real's shortcut), or null
 */
public record LayerReport(String name, String op, String method, String keptFloatReason, long params,
                          double bitsPerWeight, double relativeError, String note) {

    /** True when the layer was replaced by a binary one. */
    public boolean binarized() {
        return keptFloatReason == null;
    }
}
