package dev.onebit.ir;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape of a value: a list of {@link Dim}s, some possibly symbolic. A shape of unknown rank
 * is represented by {@code null} where a shape is optional, never by a Shape instance.
 */
public final class Shape {
    private final Dim[] dims;

    private Shape(Dim[] dims) {
        this.dims = dims;
    }

    /** A shape from its dimensions. */
    public static Shape of(List<Dim> dims) {
        return new Shape(dims.toArray(new Dim[0]));
    }

    /** A fully fixed shape. */
    public static Shape of(long... sizes) {
        Dim[] d = new Dim[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            d[i] = Dim.of(sizes[i]);
        }
        return new Shape(d);
    }

    /** A fully fixed shape from int sizes. */
    public static Shape ofInts(int... sizes) {
        Dim[] d = new Dim[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            d[i] = Dim.of(sizes[i]);
        }
        return new Shape(d);
    }

    /** Number of dimensions. */
    public int rank() {
        return dims.length;
    }

    /** Dimension {@code i}. */
    public Dim dim(int i) {
        return dims[i];
    }

    /** All dimensions, as an unmodifiable list. */
    public List<Dim> dims() {
        return List.of(dims);
    }

    /** True when every dimension is fixed. */
    public boolean isFixed() {
        for (Dim d : dims) {
            if (!d.isFixed()) {
                return false;
            }
        }
        return true;
    }

    /**
     * The sizes as ints.
     *
     * @throws IllegalStateException if a dimension is not fixed
     */
    public int[] toIntArray() {
        int[] out = new int[dims.length];
        for (int i = 0; i < dims.length; i++) {
            if (!dims[i].isFixed()) {
                throw new IllegalStateException("shape " + this + " is not fixed");
            }
            out[i] = Math.toIntExact(dims[i].size());
        }
        return out;
    }

    /** This shape with dimension {@code i} replaced. */
    public Shape with(int i, Dim d) {
        Dim[] copy = dims.clone();
        copy[i] = d;
        return new Shape(copy);
    }

    /** Product of the fixed sizes, or -1 if any dimension is not fixed. */
    public long elementCount() {
        long n = 1;
        for (Dim d : dims) {
            if (!d.isFixed()) {
                return -1;
            }
            n = Math.multiplyExact(n, d.size());
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>(dims.length);
        for (Dim d : dims) {
            parts.add(d.toString());
        }
        return "[" + String.join(", ", parts) + "]";
    }
}
