package dev.onebit.bnn;

import dev.onebit.ir.ModelException;

import java.nio.ByteBuffer;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The metadata section of a {@code .bnn} container: string keys to string values, in the
 * writer's order. Layout (FORMAT.md §9): u32 count, then per entry a
 * string key (non-empty, unique) and a string value, each string a u32 byte length and UTF-8.
 */
public final class MetadataCodec {
    private MetadataCodec() {
    }

    /**
     * Encodes a metadata map.
     *
     * @throws ModelException for a null or empty key, a null value, or a string that is not
     *                        valid Unicode
     */
    public static byte[] encode(Map<String, String> metadata) {
        ByteSink out = new ByteSink();
        out.count(metadata.size());
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty()) {
                throw new ModelException("metadata key is empty");
            }
            out.string(e.getKey(), "metadata key");
            out.string(e.getValue(), "metadata '" + e.getKey() + "'");
        }
        return out.toByteArray();
    }

    /**
     * Decodes a metadata section.
     *
     * @param bytes the section's raw bytes, from position to limit
     * @return an unmodifiable map in the stored order
     * @throws BnnFormatException naming the offset relative to {@code bytes}' position
     */
    public static Map<String, String> decode(ByteBuffer bytes) {
        ByteCursor in = new ByteCursor(bytes, "metadata");
        int n = in.count("metadata entry count", 8);
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int at = in.position();
            String key = in.string("metadata key");
            if (key.isEmpty()) {
                throw in.error(at, "metadata key is empty");
            }
            if (out.put(key, in.string("metadata '" + key + "'")) != null) {
                throw in.error(at, "metadata key '" + key + "' appears twice");
            }
        }
        in.expectEnd();
        return Collections.unmodifiableMap(out);
    }
}
