package dev.onebit.onnx;

import dev.onebit.ir.ModelException;
import dev.onebit.onnx.proto.OnnxProto.StringStringEntryProto;
import dev.onebit.onnx.proto.OnnxProto.TensorProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Reads tensor data kept in side files ({@code data_location = EXTERNAL}), confined to the
 * model's folder: a model file is untrusted input, and its {@code location} strings must not
 * make onebit read arbitrary files, so absolute paths, {@code ..} components and symbolic links
 * that lead out of the folder are refused.
 *
 * <p>Files are memory-mapped once and shared by every tensor they hold, so weights are not
 * copied onto the heap.
 */
final class ExternalData {
    private static final Pattern SEPARATORS = Pattern.compile("[/\\\\]");
    private static final Pattern DRIVE = Pattern.compile("^[A-Za-z]:.*");

    private final Path baseDir;
    private final Map<Path, ByteBuffer> mapped = new HashMap<>();

    /** @param baseDir the model's folder; null when the model came without one */
    ExternalData(Path baseDir) {
        this.baseDir = baseDir == null ? null : baseDir.toAbsolutePath().normalize();
    }

    /**
     * The bytes of an external tensor, as a read-only buffer.
     *
     * @param what the tensor's description for errors
     * @param expectedBytes the byte count its type and shape need, used when no length is given
     */
    ByteBuffer read(TensorProto t, String what, long expectedBytes) {
        String location = null;
        String offsetText = null;
        String lengthText = null;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            switch (e.getKey()) {
                case "location" -> location = e.getValue();
                case "offset" -> offsetText = e.getValue();
                case "length" -> lengthText = e.getValue();
                default -> {
                    // checksum and unknown keys do not affect where the bytes are
                }
            }
        }
        if (location == null || location.isEmpty()) {
            throw new ModelException(what + " is stored externally but names no location");
        }
        String file = "external data file '" + location + "'";
        Path path = resolve(location, what, file);
        long offset = parse(offsetText, 0, what, file, "offset");
        long length = parse(lengthText, expectedBytes, what, file, "length");
        try {
            long size = Files.size(path);
            if (offset + length > size || offset + length < 0) {
                throw new ModelException(what + ": " + file + " has " + size + " bytes, but the tensor needs bytes "
                        + offset + ".." + (offset + length));
            }
            if (length > Integer.MAX_VALUE) {
                throw new ModelException(what + ": " + file + " holds more than 2 GiB for one tensor");
            }
            if (size <= Integer.MAX_VALUE) {
                ByteBuffer whole = mapped.get(path);
                if (whole == null) {
                    whole = map(path, 0, size);
                    mapped.put(path, whole);
                }
                return whole.slice((int) offset, (int) length).asReadOnlyBuffer();
            }
            return map(path, offset, length);
        } catch (IOException e) {
            throw new ModelException(what + ": cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static ByteBuffer map(Path path, long offset, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, offset, length).asReadOnlyBuffer();
        }
    }

    private Path resolve(String location, String what, String file) {
        if (baseDir == null) {
            throw new ModelException(what + " is stored in " + file + ", but the model was given without a folder");
        }
        String refusal = what + ": " + file + " is outside the model's folder";
        if (location.startsWith("/") || location.startsWith("\\") || DRIVE.matcher(location).matches()) {
            throw new ModelException(refusal + " (absolute path)");
        }
        for (String part : SEPARATORS.split(location)) {
            if (part.equals("..")) {
                throw new ModelException(refusal + " ('..' in the path)");
            }
        }
        Path path;
        try {
            path = baseDir.resolve(location).normalize();
        } catch (InvalidPathException e) {
            throw new ModelException(what + ": " + file + " is not a valid path");
        }
        if (!path.startsWith(baseDir) || path.equals(baseDir)) {
            throw new ModelException(refusal);
        }
        if (!Files.isRegularFile(path)) {
            throw new ModelException(what + ": " + file + " does not exist in " + baseDir);
        }
        try {
            Path real = path.toRealPath();
            if (!real.startsWith(baseDir.toRealPath())) {
                throw new ModelException(refusal + " (a symbolic link leads to " + real + ")");
            }
            return real;
        } catch (IOException e) {
            throw new ModelException(what + ": cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    private static long parse(String text, long dflt, String what, String file, String key) {
        if (text == null || text.isEmpty()) {
            return dflt;
        }
        try {
            long v = Long.parseLong(text.trim());
            if (v < 0) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new ModelException(what + ": " + file + " has an invalid " + key + " '" + text + "'");
        }
    }
}
