package dev.onebit.runtime;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Tensor;

import java.util.Arrays;

/**
 * A tensor while a graph runs: element type, shape and a plain Java array that kernels read and
 * write directly. Floating-point values live in {@link #floats}; integer and boolean values in
 * {@link #longs} (whatever their declared width). Unlike the IR's {@link Tensor}, a Value is
 * mutable and owned by one run.
 *
 * <p>During shape inference a FLOAT value may carry only its shape ({@link #hasData()} false).
 * Between binary layers a FLOAT value that is all ±1 may be held as {@link PackedSigns} instead
 * of floats ({@link #signs} set, {@link #floats} null); the executor hands such values only to
 * kernels that read them ({@link SignKernel}) and unpacks them for every other one.
 */
public final class Value {
    /** Element type; DOUBLE values are computed in float. */
    public final DataType type;
    /** Dimensions, outermost first (NCHW for images). */
    public final int[] shape;
    /** Data of a FLOAT value, row-major; null for other types or shape-only values. */
    public final float[] floats;
    /** Data of an integer or BOOL value, row-major; null for FLOAT. */
    public final long[] longs;
    /** Data of a FLOAT value held as packed signs (then {@link #floats} is null), else null. */
    public final PackedSigns signs;

    private Value(DataType type, int[] shape, float[] floats, long[] longs, PackedSigns signs) {
        this.type = type;
        this.shape = shape;
        this.floats = floats;
        this.longs = longs;
        this.signs = signs;
    }

    private Value(DataType type, int[] shape, float[] floats, long[] longs) {
        this(type, shape, floats, longs, null);
    }

    /**
     * A FLOAT value of -1/+1 elements held as packed signs (not copied).
     *
     * @throws IllegalArgumentException if shape is not {@code [images, ...]} with as many elements
     */
    public static Value ofSigns(int[] shape, PackedSigns signs) {
        if (shape.length == 0 || shape[0] != signs.images || count(shape) != (long) signs.images * signs.perImage()) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " does not fit " + signs);
        }
        return new Value(DataType.FLOAT, shape, null, null, signs);
    }

    /** This value with its data as floats: itself, or for packed signs a new unpacked value. */
    public Value unpacked() {
        return signs == null ? this : ofFloats(shape, signs.unpack());
    }

    /** A FLOAT value over {@code data} (not copied). */
    public static Value ofFloats(int[] shape, float[] data) {
        if (data != null && data.length != count(shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                    + " elements, data has " + data.length);
        }
        return new Value(DataType.FLOAT, shape, data, null);
    }

    /** A new zero-filled FLOAT value. */
    public static Value zeros(int... shape) {
        return new Value(DataType.FLOAT, shape, new float[count(shape)], null);
    }

    /** A FLOAT value that has a shape but no data, for shape inference. */
    public static Value shapeOnly(int... shape) {
        return new Value(DataType.FLOAT, shape, null, null);
    }

    /** An INT64 value over {@code data} (not copied). */
    public static Value ofLongs(int[] shape, long[] data) {
        return ofLongs(DataType.INT64, shape, data);
    }

    /** An integer or BOOL value of the given type over {@code data} (not copied). */
    public static Value ofLongs(DataType type, int[] shape, long[] data) {
        if (type.isFloatingPoint()) {
            throw new IllegalArgumentException("ofLongs with " + type);
        }
        if (data.length != count(shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                    + " elements, data has " + data.length);
        }
        return new Value(type, shape, null, data);
    }

    /** A value holding a copy of a constant tensor's data. */
    public static Value of(Tensor t) {
        // A BIT tensor read as a value is its -1/+1 elements; binary kernels read the packed tensor itself.
        if (t.type().isFloatingPoint() || t.type() == DataType.BIT) {
            return ofFloats(t.shape(), t.toFloatArray());
        }
        return ofLongs(t.type(), t.shape(), t.toLongArray());
    }

    /** An immutable tensor holding a copy of this value. */
    public Tensor toTensor() {
        if (!hasData()) {
            throw new IllegalStateException("value has no data");
        }
        if (signs != null) {
            return unpacked().toTensor();
        }
        return type.isFloatingPoint() ? Tensor.ofFloats(shape, floats) : Tensor.ofLongs(type, shape, longs);
    }

    /** Number of elements. */
    public int size() {
        return count(shape);
    }

    /** Rank. */
    public int rank() {
        return shape.length;
    }

    /** False for a shape-only value made for shape inference. */
    public boolean hasData() {
        return floats != null || longs != null || signs != null;
    }

    /** True for FLOAT or DOUBLE. */
    public boolean isFloat() {
        return type.isFloatingPoint();
    }

    /** Element {@code i} as a double, whatever the type. */
    public double get(int i) {
        return floats != null ? floats[i] : signs != null ? unpackedElement(i) : longs[i];
    }

    private float unpackedElement(int i) {
        int per = signs.perImage();
        int rest = i % per;
        return signs.isNegative(i / per, rest / signs.pixels, rest % signs.pixels) ? -1f : 1f;
    }

    /** The number of elements of a shape. */
    public static int count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n *= d;
        }
        return Math.toIntExact(n);
    }

    @Override
    public String toString() {
        return "Value" + type.name().toLowerCase() + Arrays.toString(shape) + (signs != null ? " (packed signs)" : "");
    }
}
