package dev.onebit.bnn;

import dev.onebit.ir.ModelException;

/**
 * A {@code .bnn} container that cannot be read: wrong magic, newer major version, bad checksum,
 * a length or offset that does not fit, a malformed graph encoding. It is the only exception
 * type {@link BnnFile#open} and {@link GraphCodec#decode} throw for bad bytes, and its message
 * is one line naming the file, the section and the byte offset, for example
 * {@code model.bnn: section 'tensor 3 (conv1.B)' at offset 4160: CRC32C mismatch}.
 */
public final class BnnFormatException extends ModelException {
    private static final long serialVersionUID = 1L;

    /** Display name of the file, or null. */
    private final String file;
    /** Section at fault, or null. */
    private final String section;
    /** Byte offset of the fault, or -1. */
    private final long offset;
    /** What is wrong, without the location. */
    private final String detail;

    /**
     * An error at a known place.
     *
     * @param file the file's display name, or null when the bytes did not come from a file
     * @param section the section at fault ({@code "header"}, {@code "graph"}, ...), or null
     * @param offset the byte offset of the fault (from the start of the file when {@code file}
     *               is given, otherwise from the start of the decoded bytes), or -1 if unknown
     * @param detail what is wrong, one line without the location
     */
    public BnnFormatException(String file, String section, long offset, String detail) {
        super(format(file, section, offset, detail));
        this.file = file;
        this.section = section;
        this.offset = offset;
        this.detail = detail;
    }

    private static String format(String file, String section, long offset, String detail) {
        StringBuilder where = new StringBuilder();
        if (section != null) {
            where.append("section '").append(section).append('\'');
        }
        if (offset >= 0) {
            where.append(where.length() > 0 ? " " : "").append("at offset ").append(offset);
        }
        StringBuilder s = new StringBuilder();
        if (file != null) {
            s.append(file).append(": ");
        }
        if (where.length() > 0) {
            s.append(where).append(": ");
        }
        // Names in a hostile file may hold line breaks; the message stays one line regardless.
        return s.append(detail).toString().replace("\r", "\\r").replace("\n", "\\n");
    }

    /** The file's display name, or null. */
    public String file() {
        return file;
    }

    /** The section at fault, or null when the fault is not inside one. */
    public String section() {
        return section;
    }

    /** Byte offset of the fault, or -1 when unknown. */
    public long offset() {
        return offset;
    }

    /** What is wrong, without the location. */
    public String detail() {
        return detail;
    }

    /**
     * This error, thrown while decoding one section's bytes, placed in its file. An error that
     * already names a file (raised by a nested tensor lookup) is returned as it is.
     *
     * @param sectionOffset where the section starts in the file
     * @param decompressed true when the section was decompressed before decoding, so positions
     *                     inside it have no file offset: the error then points at the section
     *                     start and says which decompressed byte is at fault
     */
    BnnFormatException inFile(String fileName, long sectionOffset, boolean decompressed) {
        if (file != null) {
            return this;
        }
        BnnFormatException located;
        if (!decompressed) {
            located = new BnnFormatException(fileName, section, offset < 0 ? sectionOffset : sectionOffset + offset, detail);
        } else {
            located = new BnnFormatException(fileName, section, sectionOffset,
                    detail + (offset < 0 ? "" : " (at byte " + offset + " of the decompressed section)"));
        }
        located.initCause(getCause());
        return located;
    }
}
