package dev.onebit.packer;

import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnFormatException;
import dev.onebit.bnn.BnnLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Files crafted to lie, every checksum valid: the reader must refuse each before allocating
 * for the lie. Allocation is measured with the JVM's per-thread allocation counter.
 */
class BnnHostileFileTest {
    /** Far more than opening the honest file needs (about 40 KB), far less than any lie asks for. */
    private static final long ALLOCATION_LIMIT = 8 << 20;

    @TempDir
    Path dir;
    private byte[] honest;

    @BeforeEach
    void write() throws IOException {
        Path file = dir.resolve("honest.bnn");
        BnnWriter.write(file, Fixtures.binaryGraph(), Map.of("k", "v"));
        honest = Files.readAllBytes(file);
    }

    @Test
    void allocationIsMeasured() throws IOException {
        // The limit below means something only if the counter sees the honest file's allocations.
        Path file = dir.resolve("honest.bnn");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        BnnFile.open(file).close();
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(allocated > 18944 && allocated < ALLOCATION_LIMIT, allocated + " bytes"); // W decompresses to 18944
    }

    @Test
    void hugeSectionCount() throws IOException {
        refused(c -> c.countOverride = 0x7FFF_FFFFL, "section count 2147483647 does not fit");
        refused(c -> c.countOverride = 0xFFFF_FFFFL, "section count 4294967295 does not fit");
    }

    @Test
    void sectionLengthsBeyondTheFile() throws IOException {
        refused(c -> c.entries.get(3).storedLengthOverride = 1L << 62, "runs past the end of the file");
        refused(c -> c.entries.get(3).storedLengthOverride = -1L >>> 1, "runs past the end of the file");
        refused(c -> c.entries.get(7).storedLengthOverride = 0xFFFF_FFFF_FFFF_FFF0L, "runs past the end of the file");
    }

    @Test
    void offsetsOutOfPlace() throws IOException {
        refused(c -> c.entries.get(3).offsetOverride = 0, "must be");
        refused(c -> c.entries.get(3).offsetOverride = 1L << 40, "must be");
        refused(c -> c.entries.get(3).offsetOverride = c.offsetOf(3) + 1, "must be");
    }

    @Test
    void rawLengthsThatWouldAllocate() throws IOException {
        // zstd section (tensor W, index 2): the raw length is what the reader would allocate.
        refused(c -> c.entries.get(2).rawLengthOverride = 1L << 40, "more than 1024 times");
        refused(c -> c.entries.get(2).rawLengthOverride = Integer.MAX_VALUE, "more than 1024 times");
        refused(c -> c.entries.get(2).rawLengthOverride = -8, "more than 1024 times");
        // Within the ratio but not what the zstd frame says (the graph section is compressed too).
        refused(c -> c.entries.get(0).rawLengthOverride = c.entries.get(0).rawLength - 4, "zstd frame declares");
        refused(c -> c.entries.get(0).rawLengthOverride = c.entries.get(0).rawLength * 2, "zstd frame declares");
        // Uncompressed: raw and stored must agree.
        refused(c -> c.entries.get(3).rawLengthOverride = 1L << 33, "declares a raw length");
    }

    @Test
    void compressedBytesThatAreNotZstd() throws IOException {
        refused(c -> c.entries.get(2).stored = new byte[81], "zstd");
        refused(c -> {
            Container.Entry w = c.entries.get(2);
            w.stored = w.stored.clone();
            w.stored[w.stored.length - 2] ^= 0x55; // damage inside the frame; CRC recomputed
        }, "section 'tensor 0 (W)'");
    }

    @Test
    void tensorSectionThatDoesNotFitItsShape() throws IOException {
        refused(c -> {
            Container.Entry b1 = c.entries.get(3);
            b1.stored = new byte[b1.stored.length - 1];
            b1.rawLength = b1.stored.length;
        }, "holds 159 bytes, a BIT tensor [2, 5, 128] takes 160");
    }

    @Test
    void bitPaddingBitsSet() throws IOException {
        // B2 holds 15 bits in 2 bytes; bit 7 of the second byte is padding.
        refused(c -> c.entries.get(6).stored[1] |= (byte) 0x80, "nonzero bits after its last element");
    }

    @Test
    void graphSectionLies() throws IOException {
        // The graph section (zstd) is replaced by a hand-made one, stored uncompressed.
        refused(c -> graph(c, le(0x7FFF_FFF0)), "graph name length 2147483632 does not fit");
        refused(c -> graph(c, le(0), le(0xFFFF_FFFF)), "opset count 4294967295 does not fit");
        byte[] nameAndCounts = concat(le(1), new byte[] {'g'}, le(0), le(0), le(0), le(0), le(0));
        // One initializer 'x' of FLOAT [65536, 65536]: more elements than a tensor can have.
        refused(c -> graph(c, nameAndCounts, le(1), le(1), new byte[] {'x', 1}, le(2), le(65536), le(65536), le(2), le(0)),
                "more than 2^31-1 elements");
        // One initializer pointing at section 99, and one pointing at the metadata section.
        refused(c -> graph(c, nameAndCounts, le(1), le(1), new byte[] {'x', 1}, le(1), le(4), le(99), le(0)),
                "refers to section 99");
        refused(c -> graph(c, nameAndCounts, le(1), le(1), new byte[] {'x', 1}, le(1), le(4), le(1), le(0)),
                "which is not a tensor section");
    }

    @Test
    void structuralLies() throws IOException {
        refused(c -> c.entries.get(0).kind = BnnLayout.KIND_METADATA, "both metadata sections");
        refused(c -> c.entries.get(1).kind = BnnLayout.KIND_GRAPH, "both graph sections");
        refused(c -> c.entries.add(new Container.Entry(BnnLayout.KIND_TENSOR, 1, 0, 4, new byte[4])),
                "no initializer of the graph uses this tensor section");
        refused(c -> c.entries.subList(1, c.entries.size()).clear(), "refers to section 2, the file has 1");
        refused(c -> c.entries.clear(), "no graph section");
        refused(c -> c.entries.get(1).codec = 9, "unknown codec 9");
    }

    @Test
    void notABnnFileAtAll() throws IOException {
        byte[] onnx = Files.readAllBytes(Fixtures.SAMPLES.resolve("plain.onnx"));
        Path file = dir.resolve("model.bnn");
        Files.write(file, onnx);
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> BnnFile.open(file));
        assertTrue(e.getMessage().startsWith("model.bnn: section 'header' at offset 0: not a .bnn file"), e.getMessage());
    }

    /** Replaces the graph section with these bytes, uncompressed. */
    private static void graph(Container c, byte[]... parts) {
        Container.Entry g = c.entries.get(0);
        g.stored = concat(parts);
        g.codec = BnnLayout.CODEC_NONE;
        g.rawLength = g.stored.length;
    }

    private static byte[] le(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    private void refused(Consumer<Container> lie, String expected) throws IOException {
        Container c = Container.parse(honest);
        lie.accept(c);
        Path file = dir.resolve("model.bnn");
        Files.write(file, c.toBytes());
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> BnnFile.open(file));
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().startsWith("model.bnn: section '"), e.getMessage());
        assertTrue(allocated < ALLOCATION_LIMIT, allocated + " bytes allocated refusing: " + e.getMessage());
    }
}
