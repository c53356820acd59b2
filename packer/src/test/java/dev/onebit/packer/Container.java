package dev.onebit.packer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A container taken apart and put back together, written from FORMAT.md alone (not from the
 * reader or writer), so tests can build files the writer never would: extra sections, hostile
 * numbers with valid checksums, other versions. Fields left at -1 are computed from the bytes.
 */
final class Container {
    int major;
    int minor;
    /** Section count written to the header; -1 for the real count. */
    long countOverride = -1;
    final List<Entry> entries = new ArrayList<>();

    static final class Entry {
        int kind;
        int flags;
        int codec;
        long rawLength;
        byte[] stored;
        /** Numbers written to the table instead of the true ones, when not -1. */
        long offsetOverride = -1;
        long storedLengthOverride = -1;
        long rawLengthOverride = -1;

        Entry(int kind, int flags, int codec, long rawLength, byte[] stored) {
            this.kind = kind;
            this.flags = flags;
            this.codec = codec;
            this.rawLength = rawLength;
            this.stored = stored;
        }
    }

    static Container parse(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        Container c = new Container();
        c.major = Short.toUnsignedInt(b.getShort(8));
        c.minor = Short.toUnsignedInt(b.getShort(10));
        int count = b.getInt(24);
        for (int i = 0; i < count; i++) {
            int at = 64 + 48 * i;
            int offset = (int) b.getLong(at + 8);
            int stored = (int) b.getLong(at + 16);
            c.entries.add(new Entry(b.getInt(at), b.getInt(at + 4), b.getInt(at + 32), b.getLong(at + 24),
                    Arrays.copyOfRange(file, offset, offset + stored)));
        }
        return c;
    }

    /** The entry of the first section of that kind. */
    Entry first(int kind) {
        return entries.stream().filter(e -> e.kind == kind).findFirst().orElseThrow();
    }

    /** Where section {@code index} starts in {@link #toBytes()}. */
    long offsetOf(int index) {
        long end = 64 + 48L * entries.size();
        for (int i = 0; ; i++) {
            long offset = (end + 63) & -64;
            if (i == index) {
                return offset;
            }
            end = offset + entries.get(i).stored.length;
        }
    }

    /** The file, laid out canonically, with every CRC recomputed. */
    byte[] toBytes() {
        int n = entries.size();
        long length = n == 0 ? 64 : offsetOf(n - 1) + entries.get(n - 1).stored.length;
        ByteBuffer f = ByteBuffer.allocate((int) length).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            Entry e = entries.get(i);
            long offset = offsetOf(i);
            f.position(64 + 48 * i);
            f.putInt(e.kind).putInt(e.flags)
                    .putLong(e.offsetOverride != -1 ? e.offsetOverride : offset)
                    .putLong(e.storedLengthOverride != -1 ? e.storedLengthOverride : e.stored.length)
                    .putLong(e.rawLengthOverride != -1 ? e.rawLengthOverride : e.rawLength)
                    .putInt(e.codec).putInt(crc(e.stored, 0, e.stored.length)).putLong(0);
            f.put((int) offset, e.stored);
        }
        byte[] bytes = f.array();
        f.put(0, new byte[] {(byte) 0x89, 'B', 'N', 'N', 0x0D, 0x0A, 0x1A, 0x0A});
        f.putShort(8, (short) major).putShort(10, (short) minor).putLong(16, length)
                .putInt(24, (int) (countOverride != -1 ? countOverride : n))
                .putInt(28, crc(bytes, 64, 48 * n));
        f.putInt(60, crc(bytes, 0, 60));
        return bytes;
    }

    static int crc(byte[] b, int from, int length) {
        CRC32C c = new CRC32C();
        c.update(b, from, length);
        return (int) c.getValue();
    }
}
