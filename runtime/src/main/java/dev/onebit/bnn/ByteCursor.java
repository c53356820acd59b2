package dev.onebit.bnn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Reads little-endian primitives from one section's bytes, checking every read against the
 * bytes left. Counts and lengths are checked against what the remaining bytes could possibly
 * hold before anything is allocated for them, so a hostile count fails fast instead of
 * allocating. Errors name the section and the position relative to its first byte;
 * {@link BnnFormatException#inFile} later turns that into a file offset.
 */
final class ByteCursor {
    private final ByteBuffer bytes;
    private final String section;

    ByteCursor(ByteBuffer bytes, String section) {
        this.bytes = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        this.section = section;
    }

    int position() {
        return bytes.position();
    }

    int remaining() {
        return bytes.remaining();
    }

    /** An error at {@code position} of this section. */
    BnnFormatException error(long position, String detail) {
        return new BnnFormatException(null, section, position, detail);
    }

    private void need(int n, String what) {
        if (bytes.remaining() < n) {
            throw error(bytes.position(), what + " needs " + n + " bytes, only " + bytes.remaining() + " left");
        }
    }

    int u8(String what) {
        need(1, what);
        return bytes.get() & 0xFF;
    }

    int i32(String what) {
        need(4, what);
        return bytes.getInt();
    }

    long i64(String what) {
        need(8, what);
        return bytes.getLong();
    }

    /** A float by its exact bits, so NaN payloads survive. */
    float f32(String what) {
        return Float.intBitsToFloat(i32(what));
    }

    /**
     * An unsigned 32-bit count of items that take at least {@code minBytesEach} bytes each; a
     * count the remaining bytes cannot hold is an error, which also keeps it below 2^31.
     */
    int count(String what, int minBytesEach) {
        int at = bytes.position();
        long n = Integer.toUnsignedLong(i32(what));
        if (n * minBytesEach > bytes.remaining()) {
            throw error(at, what + " " + n + " does not fit in the " + bytes.remaining() + " bytes left");
        }
        return (int) n;
    }

    /** A string: u32 byte length, then that many bytes of well-formed UTF-8. */
    String string(String what) {
        int at = bytes.position();
        int length = count(what + " length", 1);
        ByteBuffer utf8 = bytes.slice(bytes.position(), length);
        bytes.position(bytes.position() + length);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(utf8).toString();
        } catch (CharacterCodingException e) {
            throw error(at, what + " is not valid UTF-8");
        }
    }

    /** The next {@code length} bytes as a little-endian view (no copy). */
    ByteBuffer slice(long length, String what) {
        if (length < 0 || length > bytes.remaining()) {
            throw error(bytes.position(), what + " of " + Long.toUnsignedString(length) + " bytes does not fit in the "
                    + bytes.remaining() + " bytes left");
        }
        ByteBuffer view = bytes.slice(bytes.position(), (int) length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.position(bytes.position() + (int) length);
        return view;
    }

    /** Fails unless every byte has been read: trailing bytes mean writer and reader disagree. */
    void expectEnd() {
        if (bytes.hasRemaining()) {
            throw error(bytes.position(), bytes.remaining() + " unexpected bytes after the end of the " + section);
        }
    }
}
