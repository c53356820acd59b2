package dev.onebit.binarizer;

import dev.onebit.ir.Graph;

import java.util.List;

/**
 * The outcome of {@link Binarizer#binarize}.
 *
 * @param graph the binarized graph (declares opset {@code dev.onebit} 1)
 * @param layers one report per Conv, Gemm and MatMul node of the float graph, in graph order
 */
public record BinarizeResult(Graph graph, List<LayerReport> layers) {
    /** Copies the reports. */
    public BinarizeResult {
        layers = List.copyOf(layers);
    }

    /** The report of the layer named {@code name}, or null. */
    public LayerReport layer(String name) {
        for (LayerReport r : layers) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        return null;
    }
}
