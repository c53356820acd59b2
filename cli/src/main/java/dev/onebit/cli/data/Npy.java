package dev.onebit.cli.data;

import dev.onebit.ir.ModelException;
import dev.onebit.runtime.Value;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy {@code .npy} files (format versions 1 to 3), C order.
 *
 * <pre>
 * offset 0   magic "\x93NUMPY"
 *        6   major, minor version bytes
 *        8   header length: uint16 LE (v1) or uint32 LE (v2, v3)
 *        10/12 header: ASCII/UTF-8 Python dict literal
 *            {'descr': '&lt;f4', 'fortran_order': False, 'shape': (16, 10), }
 *            padded with spaces and a final '\n' so the data starts 64-byte aligned
 *        then the array data, row-major
 * </pre>
 * Read: little-endian float32/float64/int64/int32/uint8/int8/bool. Written: float32, or int64.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /**
     * Reads an array. Floating-point arrays become FLOAT values, integer ones INT64.
     *
     * @throws ModelException naming the file and the offset of what is wrong
     */
    public static Value read(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (all.length < 10 || !ByteBuffer.wrap(all, 0, 6).equals(ByteBuffer.wrap(MAGIC))) {
            throw new ModelException(file + ": not a .npy file (no \\x93NUMPY magic at offset 0)");
        }
        int major = all[6];
        int headerLen;
        int dataStart;
        if (major == 1) {
            headerLen = b.getShort(8) & 0xFFFF;
            dataStart = 10 + headerLen;
        } else if (major == 2 || major == 3) {
            if (all.length < 12) {
                throw new ModelException(file + ": truncated .npy header at offset 8");
            }
            headerLen = b.getInt(8);
            dataStart = 12 + headerLen;
        } else {
            throw new ModelException(file + ": unsupported .npy version " + major + " at offset 6");
        }
        if (headerLen < 0 || dataStart > all.length) {
            throw new ModelException(file + ": .npy header length " + headerLen + " runs past the end of the file");
        }
        String header = new String(all, dataStart - headerLen, headerLen, StandardCharsets.UTF_8);
        String descr = group(DESCR, header, file, "descr");
        if ("True".equals(group(FORTRAN, header, file, "fortran_order"))) {
            throw new ModelException(file + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        int[] shape = parseShape(group(SHAPE, header, file, "shape"), file);
        int count = Value.count(shape);
        String type = descr.length() > 1 && (descr.charAt(0) == '<' || descr.charAt(0) == '|' || descr.charAt(0) == '=')
                ? descr.substring(1) : descr;
        if (descr.startsWith(">") && !type.endsWith("1")) {
            throw new ModelException(file + ": big-endian .npy arrays are not supported (descr '" + descr + "')");
        }
        int width = switch (type) {
            case "f4", "i4", "u4" -> 4;
            case "f8", "i8", "u8" -> 8;
            case "u1", "i1", "b1" -> 1;
            case "f2", "i2", "u2" -> 2;
            default -> throw new ModelException(file + ": unsupported .npy element type '" + descr + "'");
        };
        long need = (long) count * width;
        if (all.length - dataStart != need) {
            throw new ModelException(file + ": .npy data at offset " + dataStart + " holds " + (all.length - dataStart)
                    + " bytes, shape " + java.util.Arrays.toString(shape) + " of " + descr + " needs " + need);
        }
        b.position(dataStart);
        if (type.startsWith("f")) {
            float[] out = new float[count];
            for (int i = 0; i < count; i++) {
                out[i] = switch (type) {
                    case "f4" -> b.getFloat();
                    case "f8" -> (float) b.getDouble();
                    default -> Float.float16ToFloat(b.getShort());
                };
            }
            return Value.ofFloats(shape, out);
        }
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = switch (type) {
                case "i8", "u8" -> b.getLong();
                case "i4" -> b.getInt();
                case "u4" -> b.getInt() & 0xFFFFFFFFL;
                case "i2" -> b.getShort();
                case "u2" -> b.getShort() & 0xFFFF;
                case "i1" -> b.get();
                default -> b.get() & 0xFF;
            };
        }
        return Value.ofLongs(shape, out);
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new ModelException(file + ": .npy header has no '" + key + "' entry");
        }
        return m.group(1);
    }

    private static int[] parseShape(String text, Path file) {
        List<Integer> dims = new ArrayList<>();
        for (String part : text.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            try {
                dims.add(Integer.parseInt(t.endsWith("L") ? t.substring(0, t.length() - 1) : t));
            } catch (NumberFormatException e) {
                throw new ModelException(file + ": bad .npy shape (" + text + ")");
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The bytes of a version 1.0 .npy file holding {@code v} (float32, or int64 for integer values). */
    public static byte[] toBytes(Value v) {
        StringBuilder shape = new StringBuilder();
        for (int d : v.shape) {
            shape.append(d).append(", ");
        }
        if (v.shape.length > 1) {
            shape.setLength(shape.length() - 2);
        } else if (v.shape.length == 1) {
            shape.setLength(shape.length() - 1);
        }
        String dict = "{'descr': '" + (v.isFloat() ? "<f4" : "<i8") + "', 'fortran_order': False, 'shape': ("
                + shape.toString().trim() + "), }";
        int unpadded = 10 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        int width = v.isFloat() ? 4 : 8;
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + v.size() * width).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.US_ASCII));
        for (int i = 0; i < v.size(); i++) {
            if (v.isFloat()) {
                b.putFloat(v.floats[i]);
            } else {
                b.putLong(v.longs[i]);
            }
        }
        return b.array();
    }
}
