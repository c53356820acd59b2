package dev.onebit.bnn;

import dev.onebit.ir.ModelException;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Appends little-endian primitives; the writing counterpart of {@link ByteCursor}. */
final class ByteSink {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(1024);

    void u8(int v) {
        out.write(v);
    }

    void i32(int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }

    void i64(long v) {
        i32((int) v);
        i32((int) (v >>> 32));
    }

    void f32(float v) {
        i32(Float.floatToRawIntBits(v));
    }

    /**
     * A count or length as u32.
     *
     * @throws ModelException for a negative value (a collection this large cannot exist in Java)
     */
    void count(int n) {
        if (n < 0) {
            throw new ModelException("negative count " + n);
        }
        i32(n);
    }

    /**
     * A string as u32 length plus UTF-8.
     *
     * @param what names the string in the error, such as {@code node 'conv1' attribute 'method'}
     * @throws ModelException if the string is not well-formed UTF-16 (an unpaired surrogate
     *                        would otherwise be replaced silently and not round-trip)
     */
    void string(String s, String what) {
        if (s == null) {
            throw new ModelException(what + " is null");
        }
        ByteBuffer utf8;
        try {
            utf8 = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
        } catch (CharacterCodingException e) {
            throw new ModelException(what + " is not valid Unicode (unpaired surrogate)");
        }
        count(utf8.remaining());
        bytes(utf8);
    }

    void bytes(ByteBuffer b) {
        ByteBuffer d = b.duplicate();
        if (d.hasArray()) {
            out.write(d.array(), d.arrayOffset() + d.position(), d.remaining());
        } else {
            byte[] copy = new byte[d.remaining()];
            d.get(copy);
            out.write(copy, 0, copy.length);
        }
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
