package dev.onebit.ir;

/**
 * A named value of the graph with its element type and shape, as declared by the model or
 * found by shape inference.
 *
 * @param name the value's name, unique in the graph
 * @param type element type, or null when unknown
 * @param shape shape, or null when even the rank is unknown
 */
public record ValueInfo(String name, DataType type, Shape shape) {
    public ValueInfo {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("value name is empty");
        }
    }

    @Override
    public String toString() {
        return name + ":" + (type == null ? "?" : type.name().toLowerCase()) + (shape == null ? "[?]" : shape.toString());
    }
}
