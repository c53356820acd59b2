package dev.onebit.ir;

/**
 * Element types a tensor can have. The numeric codes are ONNX's {@code TensorProto.DataType}
 * values, so the importer and the {@code .bnn} container can store them unchanged.
 */
public enum DataType {
    /** 32-bit IEEE float, the type of every activation and real-valued weight. */
    FLOAT(1, 4),
    /** Unsigned byte. */
    UINT8(2, 1),
    /** Signed byte. */
    INT8(3, 1),
    /** 32-bit signed integer. */
    INT32(6, 4),
    /** 64-bit signed integer: shapes, axes and indices. */
    INT64(7, 8),
    /** Boolean, one byte per element (0 or 1). */
    BOOL(9, 1),
    /** 64-bit IEEE float; read so that such constants can be folded, computed as float. */
    DOUBLE(11, 8),
    /**
     * A binary tensor of values in {-1, +1}, packed 1 bit per element: element {@code k} (in
     * row-major order) is bit {@code k % 8} of byte {@code k / 8}, least significant bit first;
     * bit 1 means -1 and bit 0 means +1; the unused high bits of the last byte are 0. Not an
     * ONNX type ({@link #onnxCode()} is -1): it exists in onebit graphs and {@code .bnn} files.
     */
    BIT(-1, 0);

    private final int onnxCode;
    private final int byteSize;

    DataType(int onnxCode, int byteSize) {
        this.onnxCode = onnxCode;
        this.byteSize = byteSize;
    }

    /** The ONNX {@code TensorProto.DataType} number of this type. */
    public int onnxCode() {
        return onnxCode;
    }

    /** Bytes one element takes in the little-endian raw layout (0 for {@link #BIT}: see {@link #storageBytes}). */
    public int byteSize() {
        return byteSize;
    }

    /** Bytes that {@code elements} elements take in the raw layout ({@code ceil(elements / 8)} for BIT). */
    public long storageBytes(long elements) {
        return this == BIT ? (elements + 7) / 8 : Math.multiplyExact(elements, (long) byteSize);
    }

    /** True for FLOAT and DOUBLE. */
    public boolean isFloatingPoint() {
        return this == FLOAT || this == DOUBLE;
    }

    /**
     * The type with the given ONNX code.
     *
     * @throws IllegalArgumentException if onebit does not support that type
     */
    public static DataType fromOnnx(int code) {
        for (DataType t : values()) {
            if (t.onnxCode == code && t != BIT) {
                return t;
            }
        }
        throw new IllegalArgumentException("unsupported tensor element type " + code);
    }
}
