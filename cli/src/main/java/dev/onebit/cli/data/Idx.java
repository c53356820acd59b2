package dev.onebit.cli.data;

import dev.onebit.ir.ModelException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * IDX files, the format of MNIST and Fashion-MNIST, optionally gzipped.
 *
 * <pre>
 * offset 0  two zero bytes
 *        2  element type: 0x08 unsigned byte (the only one onebit reads)
 *        3  number of dimensions D
 *        4  D sizes, big-endian int32 each
 *  4 + 4*D  the elements, row-major
 * </pre>
 */
public final class Idx {
    /** The elements (unsigned bytes) and sizes of an IDX file. */
    public record Array(int[] shape, byte[] data) {
        /** Element {@code i} as 0..255. */
        public int get(int i) {
            return data[i] & 0xFF;
        }
    }

    private Idx() {
    }

    /**
     * Reads an IDX file of unsigned bytes.
     *
     * @throws ModelException naming the file and offset when the content is not valid IDX
     */
    public static Array read(Path file) throws IOException {
        byte[] raw;
        try (InputStream in = Files.newInputStream(file)) {
            InputStream s = isGzip(file) ? new GZIPInputStream(in, 1 << 16) : in;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            s.transferTo(out);
            raw = out.toByteArray();
        } catch (java.util.zip.ZipException e) {
            throw new ModelException(file + ": corrupt gzip data (" + e.getMessage() + ")");
        } catch (java.io.EOFException e) {
            throw new ModelException(file + ": gzip stream ends early");
        }
        ByteBuffer b = ByteBuffer.wrap(raw);
        if (raw.length < 4 || raw[0] != 0 || raw[1] != 0) {
            throw new ModelException(file + ": not an IDX file (no zero bytes at offset 0)");
        }
        if (raw[2] != 0x08) {
            throw new ModelException(file + ": IDX element type 0x" + Integer.toHexString(raw[2] & 0xFF)
                    + " at offset 2 is not supported (only unsigned bytes, 0x08)");
        }
        int dims = raw[3] & 0xFF;
        if (dims == 0 || raw.length < 4 + 4 * dims) {
            throw new ModelException(file + ": IDX header with " + dims + " dimensions is truncated at offset 4");
        }
        int[] shape = new int[dims];
        long count = 1;
        for (int d = 0; d < dims; d++) {
            shape[d] = b.getInt(4 + 4 * d);
            if (shape[d] < 0) {
                throw new ModelException(file + ": negative IDX size at offset " + (4 + 4 * d));
            }
            count *= shape[d];
        }
        int start = 4 + 4 * dims;
        if (raw.length - start != count) {
            throw new ModelException(file + ": IDX data at offset " + start + " holds " + (raw.length - start)
                    + " bytes, the header promises " + count);
        }
        byte[] data = new byte[(int) count];
        System.arraycopy(raw, start, data, 0, data.length);
        return new Array(shape, data);
    }

    private static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    /** The labels file beside an images file, by the MNIST naming ({@code images-idx3} to {@code labels-idx1}), or null. */
    public static Path labelsBeside(Path images) {
        String name = images.getFileName().toString();
        if (!name.contains("images-idx3")) {
            return null;
        }
        Path labels = images.resolveSibling(name.replace("images-idx3", "labels-idx1"));
        return Files.exists(labels) ? labels : null;
    }
}
