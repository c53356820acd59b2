package dev.onebit.ir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * An immutable constant tensor: an initializer, a Constant node's value or a tensor attribute.
 *
 * <p>The elements are kept as little-endian bytes in a read-only {@link ByteBuffer}, which may
 * be a slice of a memory-mapped file, so loading a model does not copy its weights. Readers
 * take typed copies ({@link #toFloatArray()}, {@link #toLongArray()}) once, when they prepare
 * their kernels.
 */
public final class Tensor {
    private final DataType type;
    private final int[] shape;
    private final ByteBuffer data;

    private Tensor(DataType type, int[] shape, ByteBuffer data) {
        this.type = type;
        this.shape = shape;
        this.data = data;
    }

    /**
     * A tensor over existing little-endian bytes, without copying them.
     *
     * @throws IllegalArgumentException if the byte count does not match type and shape
     */
    public static Tensor wrap(DataType type, int[] shape, ByteBuffer littleEndianBytes) {
        int[] s = shape.clone();
        long expected = type.storageBytes(elementCount(s));
        ByteBuffer b = littleEndianBytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() != expected) {
            throw new IllegalArgumentException("tensor of " + type + Arrays.toString(s) + " needs "
                    + expected + " bytes, got " + b.remaining());
        }
        return new Tensor(type, s, b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** A float tensor holding a copy of {@code values}. */
    public static Tensor ofFloats(int[] shape, float[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return new Tensor(DataType.FLOAT, shape.clone(), b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** An int64 tensor holding a copy of {@code values}. */
    public static Tensor ofLongs(int[] shape, long[] values) {
        return ofLongs(DataType.INT64, shape, values);
    }

    /** An integer or bool tensor of the given type holding {@code values} (narrowed to the type). */
    public static Tensor ofLongs(DataType type, int[] shape, long[] values) {
        checkCount(shape, values.length);
        if (type.isFloatingPoint()) {
            throw new IllegalArgumentException("ofLongs with " + type);
        }
        ByteBuffer b = ByteBuffer.allocate(values.length * type.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (type) {
                case INT64 -> b.putLong(v);
                case INT32 -> b.putInt((int) v);
                default -> b.put((byte) v);
            }
        }
        b.flip();
        return new Tensor(type, shape.clone(), b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    /**
     * A {@link DataType#BIT} tensor of the signs of {@code values}: -1 where a value is negative,
     * +1 where it is zero or positive (sign(0) = +1, as everywhere in onebit).
     */
    public static Tensor ofSigns(int[] shape, float[] values) {
        checkCount(shape, values.length);
        byte[] packed = new byte[(values.length + 7) / 8];
        for (int k = 0; k < values.length; k++) {
            if (values[k] < 0) {
                packed[k >>> 3] |= (byte) (1 << (k & 7));
            }
        }
        return new Tensor(DataType.BIT, shape.clone(), ByteBuffer.wrap(packed).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** Element {@code k} of a {@link DataType#BIT} tensor: true when it is -1. */
    public boolean isNegativeBit(int k) {
        if (type != DataType.BIT) {
            throw new IllegalStateException("not a BIT tensor: " + this);
        }
        return (data.get(k >>> 3) >>> (k & 7) & 1) != 0;
    }

    /** A DOUBLE tensor holding {@code values}. */
    public static Tensor ofDoubles(int[] shape, double[] values) {
        checkCount(shape, values.length);
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(values);
        return new Tensor(DataType.DOUBLE, shape.clone(), b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN));
    }

    /** A float scalar (rank 0). */
    public static Tensor scalar(float value) {
        return ofFloats(new int[0], new float[] {value});
    }

    private static void checkCount(int[] shape, int count) {
        if (elementCount(shape) != count) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds "
                    + elementCount(shape) + " elements, got " + count);
        }
    }

    /** Product of the sizes in {@code shape} (1 for a scalar). */
    public static long elementCount(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Element type. */
    public DataType type() {
        return type;
    }

    /** A copy of the shape. */
    public int[] shape() {
        return shape.clone();
    }

    /** Rank (0 for a scalar). */
    public int rank() {
        return shape.length;
    }

    /** Number of elements. */
    public int size() {
        return Math.toIntExact(elementCount(shape));
    }

    /** The raw little-endian bytes, read-only, positioned at 0. */
    public ByteBuffer bytes() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The elements converted to float (integers and doubles are cast, BIT elements are -1 or +1). */
    public float[] toFloatArray() {
        int n = size();
        float[] out = new float[n];
        ByteBuffer b = bytes();
        switch (type) {
            case FLOAT -> b.asFloatBuffer().get(out);
            case BIT -> {
                for (int i = 0; i < n; i++) {
                    out[i] = isNegativeBit(i) ? -1f : 1f;
                }
            }
            case DOUBLE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = (float) b.getDouble(i * 8);
                }
            }
            default -> {
                long[] l = toLongArray();
                for (int i = 0; i < n; i++) {
                    out[i] = l[i];
                }
            }
        }
        return out;
    }

    /** The elements converted to long (floating point values are truncated toward zero). */
    public long[] toLongArray() {
        int n = size();
        long[] out = new long[n];
        ByteBuffer b = bytes();
        for (int i = 0; i < n; i++) {
            out[i] = switch (type) {
                case INT64 -> b.getLong(i * 8);
                case INT32 -> b.getInt(i * 4);
                case INT8 -> b.get(i);
                case UINT8, BOOL -> b.get(i) & 0xFF;
                case FLOAT -> (long) b.getFloat(i * 4);
                case BIT -> isNegativeBit(i) ? -1 : 1;
                case DOUBLE -> (long) b.getDouble(i * 8);
            };
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tensor t && t.type == type && Arrays.equals(t.shape, shape) && t.bytes().equals(bytes());
    }

    @Override
    public int hashCode() {
        return 31 * type.hashCode() + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return "Tensor" + type.name().toLowerCase() + Arrays.toString(shape);
    }
}
