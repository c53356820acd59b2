package dev.onebit.onnx;

import com.google.protobuf.ByteString;
import dev.onebit.ir.DataType;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Converts between ONNX {@code TensorProto} messages and IR {@link Tensor}s.
 *
 * <p>Element types the runtime lacks but that hold exact values of a type it has are widened
 * on the way in (int16/uint16 to int32, uint32/uint64 to int64, float16/bfloat16 to float), so
 * constants such exporters emit can still be folded. Strings, complex and 8/4-bit floats are
 * refused.
 */
final class TensorCodec {
    private TensorCodec() {
    }

    /**
     * The tensor a message holds.
     *
     * @param what how to name the tensor in errors, such as {@code "initializer 'w'"}
     * @param external resolves {@code data_location = EXTERNAL}; null when side files are not allowed
     * @throws ModelException if the message is inconsistent or uses an unsupported type
     */
    static Tensor decode(TensorProto t, String what, ExternalData external) {
        int[] shape = shapeOf(t, what);
        int code = t.getDataType();
        long count = Tensor.elementCount(shape);
        if (t.hasSegment()) {
            throw new ModelException(what + " is split into segments, which onebit does not read");
        }
        int elemSize = storedSize(code, what);
        ByteBuffer raw = null;
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            if (external == null) {
                throw new ModelException(what + " refers to external data, which is not allowed here");
            }
            raw = external.read(t, what, Math.multiplyExact(count, (long) elemSize));
        } else if (t.hasRawData()) {
            raw = t.getRawData().asReadOnlyByteBuffer();
        }
        if (raw != null) {
            long expected = count * elemSize;
            if (raw.remaining() != expected) {
                throw new ModelException(what + " of type " + typeName(code) + Arrays.toString(shape) + " needs "
                        + expected + " bytes of data, found " + raw.remaining());
            }
            return fromRaw(code, shape, raw.order(ByteOrder.LITTLE_ENDIAN), what);
        }
        return fromTypedFields(t, code, shape, count, what);
    }

    private static int[] shapeOf(TensorProto t, String what) {
        int[] shape = new int[t.getDimsCount()];
        for (int i = 0; i < shape.length; i++) {
            long d = t.getDims(i);
            if (d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelException(what + " has invalid dimension " + d + " at axis " + i);
            }
            shape[i] = (int) d;
        }
        try {
            if (Tensor.elementCount(shape) > Integer.MAX_VALUE) {
                throw new ModelException(what + " has more than 2^31 elements, which onebit does not support");
            }
        } catch (ArithmeticException e) {
            throw new ModelException(what + " has a shape too large to address: " + Arrays.toString(shape));
        }
        return shape;
    }

    /** Bytes per element in raw_data for the codes onebit reads. */
    private static int storedSize(int code, String what) {
        return switch (code) {
            case 1, 6, 12 -> 4;        // float, int32, uint32
            case 2, 3, 9 -> 1;         // uint8, int8, bool
            case 4, 5, 10, 16 -> 2;    // uint16, int16, float16, bfloat16
            case 7, 11, 13 -> 8;       // int64, double, uint64
            default -> throw new ModelException(what + " has element type " + typeName(code)
                    + ", which onebit does not support");
        };
    }

    /** The ONNX name of a data type code, for messages. */
    static String typeName(int code) {
        TensorProto.DataType d = TensorProto.DataType.forNumber(code);
        return d == null ? "#" + code : d.name();
    }

    private static Tensor fromRaw(int code, int[] shape, ByteBuffer raw, String what) {
        int n = Math.toIntExact(Tensor.elementCount(shape));
        switch (code) {
            case 1, 2, 3, 6, 7, 9, 11 -> {
                return Tensor.wrap(DataType.fromOnnx(code), shape, raw);
            }
            case 4, 5 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    short s = raw.getShort(raw.position() + 2 * i);
                    v[i] = code == 4 ? (s & 0xFFFF) : s;
                }
                return Tensor.ofLongs(DataType.INT32, shape, v);
            }
            case 10, 16 -> {
                float[] v = new float[n];
                for (int i = 0; i < n; i++) {
                    v[i] = halfToFloat(code, raw.getShort(raw.position() + 2 * i) & 0xFFFF);
                }
                return Tensor.ofFloats(shape, v);
            }
            case 12 -> {
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = raw.getInt(raw.position() + 4 * i) & 0xFFFFFFFFL;
                }
                return Tensor.ofLongs(shape, v);
            }
            default -> {
                // uint64 read as int64: values beyond 2^63 cannot be represented and are refused.
                long[] v = new long[n];
                for (int i = 0; i < n; i++) {
                    v[i] = raw.getLong(raw.position() + 8 * i);
                    if (v[i] < 0) {
                        throw new ModelException(what + " holds uint64 value " + Long.toUnsignedString(v[i])
                                + ", which exceeds int64");
                    }
                }
                return Tensor.ofLongs(shape, v);
            }
        }
    }

    private static Tensor fromTypedFields(TensorProto t, int code, int[] shape, long count, String what) {
        int n = (int) count;
        int found;
        Tensor result;
        switch (code) {
            case 1 -> {
                found = t.getFloatDataCount();
                float[] v = new float[found];
                for (int i = 0; i < found; i++) {
                    v[i] = t.getFloatData(i);
                }
                result = found == n ? Tensor.ofFloats(shape, v) : null;
            }
            case 11 -> {
                found = t.getDoubleDataCount();
                double[] v = new double[found];
                for (int i = 0; i < found; i++) {
                    v[i] = t.getDoubleData(i);
                }
                result = found == n ? Tensor.ofDoubles(shape, v) : null;
            }
            case 7 -> {
                found = t.getInt64DataCount();
                long[] v = new long[found];
                for (int i = 0; i < found; i++) {
                    v[i] = t.getInt64Data(i);
                }
                result = found == n ? Tensor.ofLongs(shape, v) : null;
            }
            case 12, 13 -> {
                found = t.getUint64DataCount();
                long[] v = new long[found];
                for (int i = 0; i < found; i++) {
                    v[i] = t.getUint64Data(i);
                    if (v[i] < 0) {
                        throw new ModelException(what + " holds uint64 value " + Long.toUnsignedString(v[i])
                                + ", which exceeds int64");
                    }
                }
                result = found == n ? Tensor.ofLongs(shape, v) : null;
            }
            case 10, 16 -> {
                found = t.getInt32DataCount();
                float[] v = new float[found];
                for (int i = 0; i < found; i++) {
                    v[i] = halfToFloat(code, t.getInt32Data(i) & 0xFFFF);
                }
                result = found == n ? Tensor.ofFloats(shape, v) : null;
            }
            default -> {
                // int32, int8, uint8, bool, int16, uint16: one int32_data entry per element.
                found = t.getInt32DataCount();
                long[] v = new long[found];
                for (int i = 0; i < found; i++) {
                    v[i] = t.getInt32Data(i);
                }
                DataType type = code == 4 || code == 5 ? DataType.INT32 : DataType.fromOnnx(code);
                result = found == n ? Tensor.ofLongs(type, shape, v) : null;
            }
        }
        if (result == null) {
            throw new ModelException(what + " of shape " + Arrays.toString(shape) + " needs " + n
                    + " elements, found " + found);
        }
        return result;
    }

    /** Exact widening of an IEEE half (code 10) or bfloat16 (code 16) bit pattern. */
    static float halfToFloat(int code, int bits) {
        if (code == 16) {
            return Float.intBitsToFloat(bits << 16);
        }
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >> 10) & 0x1F;
        int mant = bits & 0x3FF;
        if (exp == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** A message holding {@code t} as little-endian raw_data. */
    static TensorProto encode(Tensor t, String name) {
        TensorProto.Builder b = TensorProto.newBuilder().setDataType(t.type().onnxCode());
        if (name != null && !name.isEmpty()) {
            b.setName(name);
        }
        for (int d : t.shape()) {
            b.addDims(d);
        }
        return b.setRawData(ByteString.copyFrom(t.bytes())).build();
    }
}
