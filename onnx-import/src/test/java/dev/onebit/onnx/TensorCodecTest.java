package dev.onebit.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.onebit.ir.DataType;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;

import org.junit.jupiter.api.Test;

/** Decoding of every storage form the ONNX spec allows for the types onebit reads. */
class TensorCodecTest {
    private static Tensor decode(TensorProto.Builder t) {
        return TensorCodec.decode(t.build(), "tensor 't'", null);
    }

    @Test
    void typedFields() {
        assertArrayEquals(new float[] {1.5f, -2},
                decode(TensorProto.newBuilder().setDataType(1).addDims(2).addFloatData(1.5f).addFloatData(-2)).toFloatArray());
        Tensor i8 = decode(TensorProto.newBuilder().setDataType(3).addDims(3).addInt32Data(-128).addInt32Data(0).addInt32Data(127));
        assertEquals(DataType.INT8, i8.type());
        assertArrayEquals(new long[] {-128, 0, 127}, i8.toLongArray());
        Tensor u8 = decode(TensorProto.newBuilder().setDataType(2).addDims(2).addInt32Data(255).addInt32Data(1));
        assertArrayEquals(new long[] {255, 1}, u8.toLongArray());
        Tensor bool = decode(TensorProto.newBuilder().setDataType(9).addDims(2).addInt32Data(1).addInt32Data(0));
        assertEquals(DataType.BOOL, bool.type());
        Tensor i16 = decode(TensorProto.newBuilder().setDataType(5).addDims(1).addInt32Data(-300));
        assertEquals(DataType.INT32, i16.type(), "int16 widens to int32");
        assertArrayEquals(new long[] {-300}, i16.toLongArray());
        Tensor i64 = decode(TensorProto.newBuilder().setDataType(7).addInt64Data(Long.MIN_VALUE));
        assertEquals(0, i64.rank(), "no dims is a scalar");
        assertEquals(Long.MIN_VALUE, i64.toLongArray()[0]);
        Tensor d = decode(TensorProto.newBuilder().setDataType(11).addDims(1).addDoubleData(0.1));
        assertEquals(DataType.DOUBLE, d.type());
        assertEquals(0.1, d.bytes().getDouble(0));
        Tensor u64 = decode(TensorProto.newBuilder().setDataType(13).addDims(1).addUint64Data(1L << 40));
        assertArrayEquals(new long[] {1L << 40}, u64.toLongArray());
        Tensor half = decode(TensorProto.newBuilder().setDataType(10).addDims(3)
                .addInt32Data(0x3C00).addInt32Data(0xC000).addInt32Data(0x0001));
        assertArrayEquals(new float[] {1, -2, 0x1p-24f}, half.toFloatArray());
        Tensor bf = decode(TensorProto.newBuilder().setDataType(16).addDims(1).addInt32Data(0x3FC0));
        assertArrayEquals(new float[] {1.5f}, bf.toFloatArray());
    }

    @Test
    void rawDataIsWrappedWithoutCopy() throws Exception {
        Tensor src = Tensor.ofFloats(new int[] {2, 2}, new float[] {1, 2, 3, 4});
        byte[] bytes = TensorCodec.encode(src, "w").toByteArray();
        CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
        in.enableAliasing(true);
        Tensor t = TensorCodec.decode(TensorProto.parseFrom(in), "w", null);
        assertEquals(src, t);
        // Aliased: the tensor's buffer is a view of the message bytes, so changing those shows.
        int before = Float.floatToIntBits(t.toFloatArray()[0]);
        int pos = indexOf(bytes, new byte[] {0, 0, (byte) 0x80, 0x3F});
        bytes[pos + 3] = 0x40;
        assertNotEquals(before, Float.floatToIntBits(t.toFloatArray()[0]), "raw data shares the file's bytes");
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void rawDataOfWidenedTypes() {
        byte[] u16 = {(byte) 0xFF, (byte) 0xFF, 1, 0};
        Tensor t = decode(TensorProto.newBuilder().setDataType(4).addDims(2).setRawData(ByteString.copyFrom(u16)));
        assertArrayEquals(new long[] {65535, 1}, t.toLongArray());
        byte[] u32 = {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        assertArrayEquals(new long[] {0xFFFFFFFFL},
                decode(TensorProto.newBuilder().setDataType(12).addDims(1).setRawData(ByteString.copyFrom(u32))).toLongArray());
    }

    @Test
    void inconsistentTensorsAreRefused() {
        String count = assertThrows(ModelException.class, () -> decode(TensorProto.newBuilder().setDataType(1)
                .addDims(3).addFloatData(1))).getMessage();
        assertTrue(count.contains("tensor 't' of shape [3] needs 3 elements, found 1"), count);
        String raw = assertThrows(ModelException.class, () -> decode(TensorProto.newBuilder().setDataType(1)
                .addDims(2).setRawData(ByteString.copyFrom(new byte[5])))).getMessage();
        assertTrue(raw.contains("needs 8 bytes of data, found 5"), raw);
        String type = assertThrows(ModelException.class, () -> decode(TensorProto.newBuilder().setDataType(14)
                .addDims(1))).getMessage();
        assertTrue(type.contains("element type COMPLEX64"), type);
        String dim = assertThrows(ModelException.class, () -> decode(TensorProto.newBuilder().setDataType(1)
                .addDims(-1))).getMessage();
        assertTrue(dim.contains("invalid dimension -1"), dim);
        String seg = assertThrows(ModelException.class, () -> decode(TensorProto.newBuilder().setDataType(1)
                .setSegment(TensorProto.Segment.newBuilder().setBegin(0).setEnd(1)))).getMessage();
        assertTrue(seg.contains("segments"), seg);
    }
}
