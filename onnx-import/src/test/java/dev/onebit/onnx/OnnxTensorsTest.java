package dev.onebit.onnx;

import static dev.onebit.onnx.GraphFixtures.NODE_TESTS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onebit.ir.DataType;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backend test tensors (input_N.pb / output_N.pb) and the tensor writer. */
class OnnxTensorsTest {
    private static Tensor pb(String test, String file) {
        return OnnxTensors.read(NODE_TESTS.resolve(test).resolve("test_data_set_0").resolve(file));
    }

    @Test
    void floatInputOfConvTest() {
        Tensor x = pb("test_conv_with_strides_padding", "input_0.pb");
        assertEquals(DataType.FLOAT, x.type());
        assertArrayEquals(new int[] {1, 1, 7, 5}, x.shape());
        float[] v = x.toFloatArray();
        assertEquals(0f, v[0]);
        assertEquals(34f, v[34]);
        Tensor y = pb("test_conv_with_strides_padding", "output_0.pb");
        assertArrayEquals(new int[] {1, 1, 4, 3}, y.shape());
        assertEquals("x", OnnxTensors.name(NODE_TESTS.resolve("test_conv_with_strides_padding/test_data_set_0/input_0.pb")));
    }

    @Test
    void integerAndBoolTensors() {
        Tensor shape = pb("test_reshape_reordered_all_dims", "input_1.pb");
        assertEquals(DataType.INT64, shape.type());
        assertArrayEquals(new long[] {4, 2, 3}, shape.toLongArray());
        Tensor b = pb("test_and2d", "input_0.pb");
        assertEquals(DataType.BOOL, b.type());
        assertArrayEquals(new int[] {3, 4}, b.shape());
        assertEquals(1L, b.toLongArray()[0]);
        Tensor u8 = pb("test_dequantizelinear", "input_0.pb");
        assertEquals(DataType.UINT8, u8.type());
        assertArrayEquals(new long[] {0, 3, 128, 255}, u8.toLongArray());
    }

    @Test
    void halfAndDoubleTensors() {
        Tensor half = pb("test_cast_FLOAT16_to_FLOAT", "input_0.pb");
        assertEquals(DataType.FLOAT, half.type(), "float16 is widened exactly to float");
        Tensor expected = pb("test_cast_FLOAT16_to_FLOAT", "output_0.pb");
        assertArrayEquals(expected.toFloatArray(), half.toFloatArray());
        Tensor dbl = pb("test_cast_DOUBLE_to_FLOAT", "input_0.pb");
        assertEquals(DataType.DOUBLE, dbl.type());
        assertArrayEquals(new int[] {3, 4}, dbl.shape());
    }

    @Test
    void writtenTensorsReadBack(@TempDir Path dir) throws Exception {
        Tensor t = Tensor.ofFloats(new int[] {2, 3}, new float[] {1, -2, 3.5f, 0, 7, -0.25f});
        Path f = dir.resolve("t.pb");
        Files.write(f, OnnxTensors.toBytes(t, "t"));
        assertEquals(t, OnnxTensors.read(f));
        assertEquals("t", OnnxTensors.name(f));
        Tensor l = Tensor.ofLongs(DataType.INT32, new int[] {3}, new long[] {-1, 0, 1 << 20});
        Files.write(f, OnnxTensors.toBytes(l, null));
        assertEquals(l, OnnxTensors.read(f));
    }

    @Test
    void badTensorFiles(@TempDir Path dir) throws Exception {
        byte[] good = Files.readAllBytes(NODE_TESTS.resolve("test_conv_with_strides_padding/test_data_set_0/input_0.pb"));
        Path f = dir.resolve("cut.pb");
        Files.write(f, Arrays.copyOf(good, good.length - 7));
        ModelException e = assertThrows(ModelException.class, () -> OnnxTensors.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        Path s = dir.resolve("string.pb");
        Files.write(s, Files.readAllBytes(NODE_TESTS.resolve("test_cast_STRING_to_FLOAT/test_data_set_0/input_0.pb")));
        ModelException e2 = assertThrows(ModelException.class, () -> OnnxTensors.read(s));
        assertTrue(e2.getMessage().contains("element type STRING"), e2.getMessage());
    }
}
