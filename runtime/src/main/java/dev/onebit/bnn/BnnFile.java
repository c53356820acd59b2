package dev.onebit.bnn;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

/**
 * An open {@code .bnn} container (FORMAT.md): its graph, its metadata and its section list.
 *
 * <p>{@link #open} maps the file read-only and checks all of it before returning: header and
 * table checksums, every offset and length against the file size, every section's CRC32C, the
 * graph encoding, and that each initializer's section holds exactly its bytes. Initializers of
 * uncompressed sections are zero-copy views of the mapping ({@link Tensor#wrap}); compressed
 * ones are decompressed once, into the heap.
 *
 * <p>Java 17 cannot unmap a file: the mapping lives until the last tensor viewing it is garbage
 * collected, whatever {@link #close} does. That is safe because the file is never written
 * through; a file replaced by the packer's atomic rename keeps the old bytes mapped. A file
 * truncated in place by another program while mapped would fault on access; do not do that.
 */
public final class BnnFile implements AutoCloseable {
    /**
     * One section, for reports.
     *
     * @param index position in the section table
     * @param name {@code "graph"}, {@code "metadata"}, {@code "tensor 3 (conv1.B)"}, or
     *             {@code "section 5 (kind 0x10)"} for a kind this reader does not know
     * @param kind kind code ({@link BnnLayout#KIND_GRAPH}, ...)
     * @param required whether a reader that does not know the kind must refuse the file
     * @param offset where the stored bytes start in the file
     * @param storedLength bytes in the file
     * @param rawLength bytes after decompression
     * @param codec codec code ({@link BnnLayout#CODEC_NONE} or {@link BnnLayout#CODEC_ZSTD})
     * @param crc32c the checksum of the stored bytes
     */
    public record Section(int index, String name, int kind, boolean required, long offset, long storedLength,
                          long rawLength, int codec, int crc32c) {
        /** {@code "none"}, {@code "zstd"}, or {@code "codec N"}. */
        public String codecName() {
            return BnnLayout.codecName(codec);
        }
    }

    private final Path path;
    private final long fileSize;
    private final int versionMajor;
    private final int versionMinor;
    private final Graph graph;
    private final Map<String, String> metadata;
    private final List<Section> sections;
    private volatile boolean closed;

    private BnnFile(Path path, long fileSize, SectionTable table, Graph graph, Map<String, String> metadata,
                    List<Section> sections) {
        this.path = path;
        this.fileSize = fileSize;
        this.versionMajor = table.major;
        this.versionMinor = table.minor;
        this.graph = graph;
        this.metadata = metadata;
        this.sections = List.copyOf(sections);
    }

    /**
     * Maps and checks a container.
     *
     * @throws BnnFormatException if anything in the file is malformed, naming file, section and offset
     * @throws IOException if the file cannot be read
     */
    public static BnnFile open(Path file) throws IOException {
        String name = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        ByteBuffer map;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size > Integer.MAX_VALUE) {
                // One MappedByteBuffer holds at most 2^31-1 bytes; 1-bit models are far smaller.
                throw new BnnFormatException(name, null, -1, "the file is " + size
                        + " bytes; this reader opens containers of up to 2^31-1 bytes");
            }
            map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
        }
        SectionTable table = SectionTable.read(name, map);
        ContainerLoader loader = new ContainerLoader(name, map, table);
        Graph graph = loader.loadGraph();
        Map<String, String> metadata = loader.loadRest();
        return new BnnFile(file, map.limit(), table, graph, metadata, loader.sections());
    }

    /** The path the file was opened from. */
    public Path path() {
        return path;
    }

    /** The file's size in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Major format version of the file. */
    public int versionMajor() {
        return versionMajor;
    }

    /** Minor format version of the file (may be newer than this reader's). */
    public int versionMinor() {
        return versionMinor;
    }

    /**
     * The graph, its initializers backed by the mapped file.
     *
     * @throws IllegalStateException after {@link #close}
     */
    public Graph graph() {
        checkOpen();
        return graph;
    }

    /**
     * The metadata section's entries in stored order (empty when there is none).
     *
     * @throws IllegalStateException after {@link #close}
     */
    public Map<String, String> metadata() {
        checkOpen();
        return metadata;
    }

    /** Every section in table order, including ignored ones. */
    public List<Section> sections() {
        return sections;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(path + " is closed");
        }
    }

    /**
     * Marks this file closed. The mapping is released by the garbage collector once neither
     * this object nor any tensor of its graph is reachable (see the class comment); tensors
     * already handed out stay valid.
     */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "BnnFile[" + path + ", " + versionMajor + "." + versionMinor + ", " + sections.size() + " sections]";
    }
}
