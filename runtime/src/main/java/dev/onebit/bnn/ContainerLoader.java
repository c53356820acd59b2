package dev.onebit.bnn;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdException;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Tensor;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Loads the sections of a container whose header and table {@link SectionTable} has checked:
 * first the graph, which names the tensor sections, then each tensor as the graph asks for it,
 * then whatever is left. Every section's CRC32C is checked before its bytes are used.
 */
final class ContainerLoader {
    private final String file;
    private final ByteBuffer map;
    private final List<SectionTable.Entry> entries;
    /** Section names for errors and reports; tensor names gain the initializer's name once known. */
    private final String[] names;
    private final boolean[] used;
    private SectionTable.Entry graphEntry;
    private SectionTable.Entry metadataEntry;

    ContainerLoader(String file, ByteBuffer map, SectionTable table) {
        this.file = file;
        this.map = map;
        this.entries = table.entries;
        this.names = new String[entries.size()];
        this.used = new boolean[entries.size()];
        int tensors = 0;
        for (SectionTable.Entry e : entries) {
            switch (e.kind()) {
                case BnnLayout.KIND_GRAPH -> {
                    names[e.index()] = "graph";
                    graphEntry = onlyOne(graphEntry, e, "graph");
                }
                case BnnLayout.KIND_METADATA -> {
                    names[e.index()] = "metadata";
                    metadataEntry = onlyOne(metadataEntry, e, "metadata");
                }
                case BnnLayout.KIND_TENSOR -> names[e.index()] = "tensor " + tensors++;
                default -> {
                    names[e.index()] = "section " + e.index() + " (kind 0x" + Integer.toHexString(e.kind()) + ")";
                    if (e.required()) {
                        throw new BnnFormatException(file, names[e.index()], e.offset(), "unknown required section kind 0x"
                                + Integer.toHexString(e.kind()) + " (written by a newer onebit?)");
                    }
                }
            }
        }
        if (graphEntry == null) {
            throw new BnnFormatException(file, "section table", BnnLayout.HEADER_SIZE, "the file has no graph section");
        }
    }

    private SectionTable.Entry onlyOne(SectionTable.Entry first, SectionTable.Entry next, String kind) {
        if (first != null) {
            throw new BnnFormatException(file, "section table", BnnLayout.HEADER_SIZE + (long) next.index() * BnnLayout.ENTRY_SIZE,
                    "entries " + first.index() + " and " + next.index() + " are both " + kind + " sections");
        }
        return next;
    }

    Graph loadGraph() {
        ByteBuffer bytes = payload(graphEntry);
        try {
            return GraphCodec.decode(bytes, this::initializer);
        } catch (BnnFormatException e) {
            throw e.inFile(file, graphEntry.offset(), graphEntry.codec() != BnnLayout.CODEC_NONE);
        }
    }

    /** Checks the sections the graph did not use and returns the metadata. */
    Map<String, String> loadRest() {
        for (SectionTable.Entry e : entries) {
            if (e.kind() == BnnLayout.KIND_TENSOR && !used[e.index()]) {
                throw new BnnFormatException(file, names[e.index()], e.offset(), "no initializer of the graph uses this tensor section");
            }
            if (!isKnownKind(e.kind())) {
                // Ignored, but a damaged file is refused wherever the damage is.
                SectionTable.checkCrc(file, names[e.index()], e.offset(), stored(e), e.crc32c());
            }
        }
        if (metadataEntry == null) {
            return Map.of();
        }
        ByteBuffer bytes = payload(metadataEntry);
        try {
            return MetadataCodec.decode(bytes);
        } catch (BnnFormatException e) {
            throw e.inFile(file, metadataEntry.offset(), metadataEntry.codec() != BnnLayout.CODEC_NONE);
        }
    }

    private static boolean isKnownKind(int kind) {
        return kind == BnnLayout.KIND_GRAPH || kind == BnnLayout.KIND_TENSOR || kind == BnnLayout.KIND_METADATA;
    }

    List<BnnFile.Section> sections() {
        List<BnnFile.Section> out = new ArrayList<>(entries.size());
        for (SectionTable.Entry e : entries) {
            out.add(new BnnFile.Section(e.index(), names[e.index()], e.kind(), e.required(), e.offset(),
                    e.storedLength(), e.rawLength(), e.codec(), e.crc32c()));
        }
        return out;
    }

    /** Called by the graph decoder for each initializer reference, in graph order. */
    private Tensor initializer(int section, String name, DataType type, int[] shape) {
        // Errors without a file are relative to the graph section; loadGraph places them there.
        if (section < 0 || section >= entries.size()) {
            throw new BnnFormatException(null, "graph", -1, "initializer '" + name + "' refers to section "
                    + Integer.toUnsignedString(section) + ", the file has " + entries.size());
        }
        SectionTable.Entry e = entries.get(section);
        if (e.kind() != BnnLayout.KIND_TENSOR) {
            throw new BnnFormatException(null, "graph", -1, "initializer '" + name + "' refers to section " + section
                    + " (" + names[section] + "), which is not a tensor section");
        }
        if (used[section]) {
            throw new BnnFormatException(null, "graph", -1, "initializer '" + name + "' refers to " + names[section]
                    + ", which an earlier initializer uses");
        }
        used[section] = true;
        names[section] += " (" + name + ")";
        long needed = type.storageBytes(Tensor.elementCount(shape));
        if (e.rawLength() != needed) {
            throw new BnnFormatException(file, names[section], e.offset(), "holds " + e.rawLength() + " bytes, a "
                    + type + " tensor " + Arrays.toString(shape) + " takes " + needed);
        }
        Tensor t = Tensor.wrap(type, shape, payload(e));
        if (!GraphCodec.paddingBitsClear(t)) {
            throw new BnnFormatException(file, names[section], e.offset() + e.storedLength() - 1,
                    "BIT tensor has nonzero bits after its last element");
        }
        return t;
    }

    private ByteBuffer stored(SectionTable.Entry e) {
        return map.slice((int) e.offset(), (int) e.storedLength()).order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The section's raw bytes: a view of the mapping, or a decompressed heap copy. */
    private ByteBuffer payload(SectionTable.Entry e) {
        String name = names[e.index()];
        ByteBuffer stored = stored(e);
        SectionTable.checkCrc(file, name, e.offset(), stored, e.crc32c());
        switch (e.codec()) {
            case BnnLayout.CODEC_NONE:
                return stored;
            case BnnLayout.CODEC_ZSTD:
                return zstdDecompress(name, e, stored);
            default:
                throw new BnnFormatException(file, name, e.offset(), "unknown codec " + Integer.toUnsignedString(e.codec()));
        }
    }

    // The table check bounded rawLength by the stored size, and the frame must declare exactly
    // that size before anything is allocated for it.
    private ByteBuffer zstdDecompress(String name, SectionTable.Entry e, ByteBuffer stored) {
        byte[] src = new byte[stored.remaining()];
        stored.duplicate().get(src);
        byte[] raw;
        long n;
        try {
            long declared = Zstd.getFrameContentSize(src);
            if (declared != e.rawLength()) {
                throw new BnnFormatException(file, name, e.offset(), declared < 0 ? "not a zstd frame with a content size"
                        : "the zstd frame declares " + declared + " bytes, the section table " + e.rawLength());
            }
            raw = new byte[(int) e.rawLength()];
            n = Zstd.decompressByteArray(raw, 0, raw.length, src, 0, src.length);
        } catch (ZstdException z) {
            // zstd-jni reports some malformed input by throwing rather than by error code.
            throw new BnnFormatException(file, name, e.offset(), "zstd: " + z.getMessage());
        }
        if (Zstd.isError(n)) {
            throw new BnnFormatException(file, name, e.offset(), "zstd: " + Zstd.getErrorName(n));
        }
        if (n != raw.length) {
            throw new BnnFormatException(file, name, e.offset(), "zstd data decompresses to " + n
                    + " bytes, the section table says " + raw.length);
        }
        return ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    }
}
