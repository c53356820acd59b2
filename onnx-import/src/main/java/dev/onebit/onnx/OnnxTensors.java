package dev.onebit.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads and writes single serialized ONNX {@code TensorProto}s, the format of the
 * {@code input_N.pb} / {@code output_N.pb} files of the ONNX backend tests.
 */
public final class OnnxTensors {
    private OnnxTensors() {
    }

    /**
     * The tensor stored in {@code pbFile}. External data, if any, is looked up in the file's folder.
     *
     * @throws ModelException if the file cannot be read or does not hold a tensor onebit supports
     */
    public static Tensor read(Path pbFile) {
        String display = pbFile.toString();
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(pbFile);
        } catch (NoSuchFileException e) {
            throw new ModelException(display + ": no such file");
        } catch (IOException e) {
            throw new ModelException(display + ": cannot read the file: " + e.getMessage(), e);
        }
        TensorProto t;
        try {
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            t = TensorProto.parseFrom(in);
        } catch (IOException e) {
            throw new ModelException(display + ": not a valid ONNX tensor: " + firstSentence(e.getMessage()), e);
        }
        if (!t.hasDataType()) {
            throw new ModelException(display + ": not a valid ONNX tensor: it has no data type");
        }
        String what = "tensor" + (t.getName().isEmpty() ? "" : " '" + t.getName() + "'");
        try {
            return TensorCodec.decode(t, what, new ExternalData(pbFile.toAbsolutePath().getParent()));
        } catch (ModelException e) {
            throw new ModelException(display + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ModelException(display + ": " + what + ": " + e.getMessage(), e);
        }
    }

    /** The name stored in a serialized tensor file, or {@code ""} if it has none. */
    public static String name(Path pbFile) {
        try {
            return TensorProto.parseFrom(Files.readAllBytes(pbFile)).getName();
        } catch (IOException e) {
            throw new ModelException(pbFile + ": cannot read the tensor: " + firstSentence(e.getMessage()), e);
        }
    }

    /**
     * {@code tensor} serialized as a {@code TensorProto} with little-endian {@code raw_data}.
     *
     * @param name the tensor's name, or null or empty for none
     */
    public static byte[] toBytes(Tensor tensor, String name) {
        return TensorCodec.encode(tensor, name).toByteArray();
    }

    private static String firstSentence(String m) {
        if (m == null) {
            return "unreadable";
        }
        int dot = m.indexOf(". ");
        return (dot > 0 ? m.substring(0, dot) : m).replace('\n', ' ');
    }
}
