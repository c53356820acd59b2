package dev.onebit.packer;

import com.github.luben.zstd.Zstd;
import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnLayout;
import dev.onebit.bnn.GraphCodec;
import dev.onebit.bnn.MetadataCodec;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;

/**
 * Writes {@code .bnn} containers (FORMAT.md). The sections are, in this order: the graph, the
 * metadata, then one tensor section per initializer in the graph's order. BIT tensors are
 * stored as they are; every other section is zstd-compressed when that makes the file smaller.
 *
 * <p>A container is first written completely to a temporary file beside the target, flushed
 * to disk, then renamed over the target, so readers see either the old file or the whole new
 * one, never a half-written one; on any failure the temporary file is deleted.
 */
public final class BnnWriter {
    /**
     * zstd level. Trained float weights are near-random: on vgg.onnx levels 1 to 19 all save
     * the same ~7.5 % (what the exponent bytes give), so the fast default level is used.
     */
    private static final int ZSTD_LEVEL = 3;

    private BnnWriter() {
    }

    /**
     * What was written.
     *
     * @param file the target
     * @param fileBytes the container's size
     * @param sections every section with its stored and raw size and codec, in file order
     */
    public record Summary(Path file, long fileBytes, List<BnnFile.Section> sections) {
        /** Keeps an unmodifiable copy of the section list. */
        public Summary {
            sections = List.copyOf(sections);
        }

        /** Stored bytes of all tensor sections together. */
        public long tensorBytes() {
            return sections.stream().filter(s -> s.kind() == BnnLayout.KIND_TENSOR).mapToLong(BnnFile.Section::storedLength).sum();
        }
    }

    /** A section ready to be placed: its stored bytes and how to describe them. */
    private record Planned(String name, int kind, int flags, ByteBuffer stored, long rawLength, int codec, int crc32c) {
    }

    /**
     * Writes {@code graph} and {@code metadata} to {@code target}, replacing it atomically.
     *
     * @param metadata string entries for the metadata section, or null for none (the
     *                 graph's own metadata is stored with the graph)
     * @throws ModelException if the graph or metadata cannot be stored faithfully; nothing is
     *                        written then
     * @throws IOException if writing fails; the target is then unchanged and no temporary
     *                     file is left
     */
    public static Summary write(Path target, Graph graph, Map<String, String> metadata) throws IOException {
        List<Planned> plan = plan(graph, metadata == null ? Map.of() : metadata);
        long[] offsets = new long[plan.size()];
        long end = BnnLayout.HEADER_SIZE + (long) plan.size() * BnnLayout.ENTRY_SIZE;
        for (int i = 0; i < plan.size(); i++) {
            offsets[i] = BnnLayout.align(end);
            end = offsets[i] + plan.get(i).stored.remaining();
        }
        ByteBuffer table = table(plan, offsets);
        ByteBuffer header = header(end, plan.size(), crc(table));

        Path absolute = target.toAbsolutePath();
        Path temp = absolute.resolveSibling("." + absolute.getFileName() + "."
                + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 1) + ".tmp");
        try {
            // CREATE_NEW, not createTempFile: the finished file should get the permissions of an
            // ordinary new file, and createTempFile would make it owner-only.
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(out, header);
                writeFully(out, table);
                long written = header.capacity() + table.capacity();
                for (int i = 0; i < plan.size(); i++) {
                    // Padding is written, not skipped: an empty last section still ends the file at its offset.
                    writeFully(out, ByteBuffer.allocate((int) (offsets[i] - written)));
                    writeFully(out, plan.get(i).stored.duplicate());
                    written = offsets[i] + plan.get(i).stored.remaining();
                }
                out.force(true);
            }
            move(temp, absolute);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        List<BnnFile.Section> sections = new ArrayList<>(plan.size());
        for (int i = 0; i < plan.size(); i++) {
            Planned p = plan.get(i);
            sections.add(new BnnFile.Section(i, p.name, p.kind, (p.flags & BnnLayout.FLAG_REQUIRED) != 0, offsets[i],
                    p.stored.remaining(), p.rawLength, p.codec, p.crc32c));
        }
        return new Summary(target, end, sections);
    }

    private static void move(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            out.write(b);
        }
    }

    // Everything is encoded before the file is created, so an un-encodable graph leaves nothing behind.
    private static List<Planned> plan(Graph graph, Map<String, String> metadata) {
        int firstTensor = 2;
        Map<String, Integer> sectionOf = new HashMap<>();
        for (String name : graph.initializers().keySet()) {
            sectionOf.put(name, firstTensor + sectionOf.size());
        }
        List<Planned> plan = new ArrayList<>();
        plan.add(section("graph", BnnLayout.KIND_GRAPH, BnnLayout.FLAG_REQUIRED,
                ByteBuffer.wrap(GraphCodec.encode(graph, sectionOf::get)), true));
        // Optional: a reader that only runs the model may skip what it does not understand.
        plan.add(section("metadata", BnnLayout.KIND_METADATA, 0, ByteBuffer.wrap(MetadataCodec.encode(metadata)), true));
        int ordinal = 0;
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
            Tensor t = e.getValue();
            // BIT weights are near-random bits (nothing to gain) and must stay mappable in place.
            plan.add(section("tensor " + ordinal++ + " (" + e.getKey() + ")", BnnLayout.KIND_TENSOR,
                    BnnLayout.FLAG_REQUIRED, t.bytes(), t.type() != DataType.BIT));
        }
        return plan;
    }

    private static Planned section(String name, int kind, int flags, ByteBuffer raw, boolean mayCompress) {
        if (mayCompress && raw.remaining() > BnnLayout.ALIGNMENT) {
            byte[] bytes = new byte[raw.remaining()];
            raw.duplicate().get(bytes);
            byte[] packed = Zstd.compress(bytes, ZSTD_LEVEL);
            // Only when the file gets smaller after alignment, and within the ratio readers accept.
            if (BnnLayout.align(packed.length) < BnnLayout.align(bytes.length)
                    && (long) packed.length * BnnLayout.MAX_ZSTD_RATIO >= bytes.length) {
                ByteBuffer stored = ByteBuffer.wrap(packed);
                return new Planned(name, kind, flags, stored, bytes.length, BnnLayout.CODEC_ZSTD, crc(stored));
            }
        }
        ByteBuffer stored = raw.duplicate();
        return new Planned(name, kind, flags, stored, stored.remaining(), BnnLayout.CODEC_NONE, crc(stored));
    }

    // Section table entry, 48 bytes: u32 kind, u32 flags, u64 offset, u64 stored length,
    // u64 raw length, u32 codec, u32 CRC32C of the stored bytes, u64 reserved (0).
    private static ByteBuffer table(List<Planned> plan, long[] offsets) {
        ByteBuffer t = ByteBuffer.allocate(plan.size() * BnnLayout.ENTRY_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < plan.size(); i++) {
            Planned p = plan.get(i);
            t.putInt(p.kind).putInt(p.flags).putLong(offsets[i]).putLong(p.stored.remaining()).putLong(p.rawLength)
                    .putInt(p.codec).putInt(p.crc32c).putLong(0);
        }
        return t.flip();
    }

    // Header, 64 bytes: magic, u16 major, u16 minor, u32 flags (0), u64 file length,
    // u32 section count, u32 table CRC32C, 28 reserved zero bytes, u32 CRC32C of bytes 0..59.
    private static ByteBuffer header(long fileLength, int sections, int tableCrc) {
        ByteBuffer h = ByteBuffer.allocate(BnnLayout.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.put(BnnLayout.MAGIC).putShort((short) BnnLayout.VERSION_MAJOR).putShort((short) BnnLayout.VERSION_MINOR)
                .putInt(0).putLong(fileLength).putInt(sections).putInt(tableCrc);
        h.position(60);
        h.putInt(crc(h.duplicate().flip()));
        return h.flip();
    }

    private static int crc(ByteBuffer b) {
        CRC32C c = new CRC32C();
        c.update(b.duplicate());
        return (int) c.getValue();
    }
}
