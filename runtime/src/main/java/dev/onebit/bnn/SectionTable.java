package dev.onebit.bnn;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32C;

import static dev.onebit.bnn.BnnLayout.ENTRY_SIZE;
import static dev.onebit.bnn.BnnLayout.HEADER_SIZE;

/**
 * The header and section table of a container, read and checked. After {@link #read}
 * returns, every section lies inside the file at its aligned place, the sections tile the file
 * with nothing but zero padding between them, and each declared raw length is bounded by the
 * stored bytes; so nothing later needs to trust a number it has not seen checked here.
 */
final class SectionTable {
    /** One table entry, its numbers checked against the file's size. */
    record Entry(int index, int kind, int flags, long offset, long storedLength, long rawLength, int codec, int crc32c) {
        boolean required() {
            return (flags & BnnLayout.FLAG_REQUIRED) != 0;
        }
    }

    final int major;
    final int minor;
    final List<Entry> entries;

    private SectionTable(int major, int minor, List<Entry> entries) {
        this.major = major;
        this.minor = minor;
        this.entries = Collections.unmodifiableList(entries);
    }

    /**
     * Reads and checks header and table.
     *
     * @param file the file's display name, for errors
     * @param map the whole file, little-endian
     */
    static SectionTable read(String file, ByteBuffer map) {
        long size = map.limit();
        // Header, 64 bytes at offset 0 (FORMAT.md §3):
        //   0  u8[8]  magic 89 42 4E 4E 0D 0A 1A 0A
        //   8  u16    major version      } bytes 0..11 keep this meaning in every version,
        //  10  u16    minor version      } so any reader can tell a newer file from a bad one
        //  12  u32    flags (none defined; 1.x readers ignore them)
        //  16  u64    file length in bytes
        //  24  u32    section count
        //  28  u32    CRC32C of the section table (count * 48 bytes from offset 64)
        //  32  u8[28] reserved, written as 0, ignored by 1.x readers
        //  60  u32    CRC32C of header bytes 0..59
        if (size >= BnnLayout.MAGIC.length && !map.slice(0, BnnLayout.MAGIC.length).equals(ByteBuffer.wrap(BnnLayout.MAGIC))) {
            throw new BnnFormatException(file, "header", 0, "not a .bnn file (the first 8 bytes are not the .bnn magic)");
        }
        if (size < HEADER_SIZE) {
            throw new BnnFormatException(file, "header", size, "the file ends after " + size
                    + " bytes, inside the " + HEADER_SIZE + "-byte header");
        }
        int major = Short.toUnsignedInt(map.getShort(BnnLayout.H_MAJOR));
        int minor = Short.toUnsignedInt(map.getShort(BnnLayout.H_MINOR));
        if (major > BnnLayout.VERSION_MAJOR) {
            throw new BnnFormatException(file, "header", BnnLayout.H_MAJOR, "format version " + major + "." + minor
                    + " is newer than this reader's " + BnnLayout.VERSION_MAJOR + ".x; a newer onebit is needed");
        }
        if (major < 1) {
            throw new BnnFormatException(file, "header", BnnLayout.H_MAJOR, "format version " + major + "." + minor + " does not exist");
        }
        checkCrc(file, "header", 0, map.slice(0, BnnLayout.H_HEADER_CRC), map.getInt(BnnLayout.H_HEADER_CRC));
        long declared = map.getLong(BnnLayout.H_FILE_LENGTH);
        if (declared != size) {
            throw new BnnFormatException(file, "header", BnnLayout.H_FILE_LENGTH, "the header says the file is "
                    + Long.toUnsignedString(declared) + " bytes, it is " + size + (Long.compareUnsigned(declared, size) > 0 ? " (truncated?)" : ""));
        }
        long count = Integer.toUnsignedLong(map.getInt(BnnLayout.H_SECTION_COUNT));
        if (count > (size - HEADER_SIZE) / ENTRY_SIZE) {
            throw new BnnFormatException(file, "header", BnnLayout.H_SECTION_COUNT, "section count " + count
                    + " does not fit in a file of " + size + " bytes");
        }
        int tableEnd = HEADER_SIZE + (int) count * ENTRY_SIZE;
        checkCrc(file, "section table", HEADER_SIZE, map.slice(HEADER_SIZE, tableEnd - HEADER_SIZE),
                map.getInt(BnnLayout.H_TABLE_CRC));

        // Table entry, 48 bytes at 64 + 48 * i (FORMAT.md §4):
        //   0  u32  kind      1 graph, 2 tensor, 3 metadata
        //   4  u32  flags     bit 0: required
        //   8  u64  offset    = previous section's end (or the table's end) rounded up to 64
        //  16  u64  stored length, bytes in the file
        //  24  u64  raw length, bytes after decoding the codec
        //  32  u32  codec     0 none, 1 zstd
        //  36  u32  CRC32C of the stored bytes
        //  40  u64  reserved, written as 0, ignored by 1.x readers
        List<Entry> entries = new ArrayList<>((int) count);
        long end = tableEnd;
        for (int i = 0; i < count; i++) {
            int at = HEADER_SIZE + i * ENTRY_SIZE;
            long offset = map.getLong(at + 8);
            long stored = map.getLong(at + 16);
            long raw = map.getLong(at + 24);
            int codec = map.getInt(at + 32);
            long expected = BnnLayout.align(end);
            if (offset != expected) {
                throw new BnnFormatException(file, "section table", at + 8, "entry " + i + " puts its section at "
                        + Long.toUnsignedString(offset) + "; sections follow each other at 64-byte alignment, so it must be " + expected);
            }
            if (stored < 0 || stored > size - offset) {
                throw new BnnFormatException(file, "section table", at + 16, "entry " + i + ": a section of "
                        + Long.toUnsignedString(stored) + " bytes at offset " + offset + " runs past the end of the file (" + size + " bytes)");
            }
            checkRawLength(file, at + 24, i, codec, stored, raw);
            checkPadding(file, map, end, offset);
            entries.add(new Entry(i, map.getInt(at), map.getInt(at + 4), offset, stored, raw, codec, map.getInt(at + 36)));
            end = offset + stored;
        }
        if (end != size) {
            throw new BnnFormatException(file, "section table", end, (size - end) + " bytes follow the last section");
        }
        return new SectionTable(major, minor, entries);
    }

    // The raw length is what a reader allocates for a compressed section, so it is bounded by
    // the stored bytes here, long before anything is decompressed.
    private static void checkRawLength(String file, int at, int index, int codec, long stored, long raw) {
        if (codec == BnnLayout.CODEC_NONE && raw != stored) {
            throw new BnnFormatException(file, "section table", at, "entry " + index + ": an uncompressed section of "
                    + stored + " bytes declares a raw length of " + Long.toUnsignedString(raw));
        }
        if (codec == BnnLayout.CODEC_ZSTD && (raw < 0 || raw > BnnLayout.MAX_ZSTD_RAW || raw > stored * BnnLayout.MAX_ZSTD_RATIO)) {
            throw new BnnFormatException(file, "section table", at, "entry " + index + ": a zstd section of " + stored
                    + " bytes declares a raw length of " + Long.toUnsignedString(raw) + ", more than "
                    + BnnLayout.MAX_ZSTD_RATIO + " times its size or 2^31-9 bytes");
        }
    }

    // Padding is checked so that every byte of a valid file is covered by a CRC or known to be
    // zero: a file that loads was not damaged anywhere.
    private static void checkPadding(String file, ByteBuffer map, long from, long to) {
        for (long p = from; p < to; p++) {
            if (map.get((int) p) != 0) {
                throw new BnnFormatException(file, "padding", p, "padding byte is 0x"
                        + Integer.toHexString(map.get((int) p) & 0xFF) + ", must be 0");
            }
        }
    }

    /** Compares the CRC32C of {@code bytes} with the stored one. */
    static void checkCrc(String file, String section, long offset, ByteBuffer bytes, int expected) {
        CRC32C crc = new CRC32C();
        crc.update(bytes.duplicate());
        int actual = (int) crc.getValue();
        if (actual != expected) {
            throw new BnnFormatException(file, section, offset, String.format(
                    "CRC32C mismatch: the bytes give %08x, the file says %08x", actual, expected));
        }
    }
}
