package dev.onebit.packer;

import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnLayout;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The writer's promises: no partial file, ever; sections laid out and compressed as specified. */
class BnnWriterTest {
    @TempDir
    Path dir;

    @Test
    void unencodableGraphLeavesNoFile() throws IOException {
        // Set bits past the last element of a BIT tensor would not survive a round trip.
        Graph dirtyBits = Graph.builder("g").initializer("b",
                Tensor.wrap(DataType.BIT, new int[] {3}, ByteBuffer.wrap(new byte[] {(byte) 0xFF}))).build();
        ModelException e = assertThrows(ModelException.class, () -> BnnWriter.write(dir.resolve("a.bnn"), dirtyBits, Map.of()));
        assertTrue(e.getMessage().contains("initializer 'b'"), e.getMessage());
        // A lone surrogate has no UTF-8 form.
        Graph badName = Graph.builder("g").node(Node.of("n\uD800", "Relu", List.of(), List.of("y"), Map.of())).build();
        assertThrows(ModelException.class, () -> BnnWriter.write(dir.resolve("b.bnn"), badName, Map.of()));
        Map<String, String> nullValue = new HashMap<>();
        nullValue.put("k", null);
        assertThrows(ModelException.class, () -> BnnWriter.write(dir.resolve("c.bnn"), Fixtures.binaryGraph(), nullValue));
        assertThrows(ModelException.class, () -> BnnWriter.write(dir.resolve("d.bnn"), Fixtures.binaryGraph(), Map.of("", "v")));
        assertEquals(List.of(), list(dir));
    }

    @Test
    void failedWriteLeavesNoFile() throws IOException {
        Graph g = Fixtures.binaryGraph();
        assertThrows(NoSuchFileException.class, () -> BnnWriter.write(dir.resolve("missing/model.bnn"), g, Map.of()));
        assertEquals(List.of(), list(dir));
        // The rename fails after the whole temporary file was written: it must be deleted.
        Path occupied = Files.createDirectory(dir.resolve("model.bnn"));
        Files.writeString(occupied.resolve("keep.txt"), "x");
        assertThrows(IOException.class, () -> BnnWriter.write(occupied, g, Map.of()));
        assertEquals(List.of(occupied), list(dir));
        assertEquals(List.of(occupied.resolve("keep.txt")), list(occupied));
    }

    @Test
    void replacesAnExistingFileWhole() throws IOException {
        Path file = dir.resolve("model.bnn");
        Files.writeString(file, "an older, longer file ".repeat(1000));
        BnnWriter.Summary summary = BnnWriter.write(file, Fixtures.binaryGraph(), Map.of());
        assertEquals(summary.fileBytes(), Files.size(file));
        assertEquals(List.of(file), list(dir));
        try (BnnFile f = BnnFile.open(file)) {
            Fixtures.assertSameGraph(Fixtures.binaryGraph(), f.graph());
        }
    }

    @Test
    void newFileGetsOrdinaryPermissions() throws IOException {
        Path file = dir.resolve("model.bnn");
        BnnWriter.write(file, Fixtures.binaryGraph(), Map.of());
        Path plain = Files.createFile(dir.resolve("plain"));
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            Set<PosixFilePermission> expected = Files.getPosixFilePermissions(plain);
            assertEquals(expected, Files.getPosixFilePermissions(file));
        }
    }

    @Test
    void sectionsInOrderAlignedAndCompressedOnlyWhenSmaller() throws IOException {
        Graph g = Graph.builder("g")
                .initializer("zeros", Tensor.ofFloats(new int[] {65536}, new float[65536]))
                .initializer("smallRepeats", Tensor.ofFloats(new int[] {16}, new float[16]))
                .initializer("bitsAllPlus", Tensor.ofSigns(new int[] {8192}, new float[8192]))
                .initializer("ints", Tensor.ofLongs(new int[] {512}, new long[512]))
                .build();
        BnnWriter.Summary s = BnnWriter.write(dir.resolve("m.bnn"), g, Map.of());
        List<String> names = s.sections().stream().map(BnnFile.Section::name).toList();
        assertEquals(List.of("graph", "metadata", "tensor 0 (zeros)", "tensor 1 (smallRepeats)",
                "tensor 2 (bitsAllPlus)", "tensor 3 (ints)"), names);
        List<Integer> codecs = s.sections().stream().map(BnnFile.Section::codec).toList();
        // zeros: 256 KiB of zeros shrink far past 1024:1, so the ratio cap forces raw storage;
        // 64 bytes cannot shrink after alignment; BIT is never compressed; 4 KiB of int zeros is within the cap.
        assertEquals(BnnLayout.CODEC_NONE, codecs.get(2));
        assertEquals(BnnLayout.CODEC_NONE, codecs.get(3));
        assertEquals(BnnLayout.CODEC_NONE, codecs.get(4));
        assertEquals(BnnLayout.CODEC_ZSTD, codecs.get(5));
        long end = BnnLayout.HEADER_SIZE + 6L * BnnLayout.ENTRY_SIZE;
        for (BnnFile.Section section : s.sections()) {
            assertEquals(BnnLayout.align(end), section.offset(), section.name());
            end = section.offset() + section.storedLength();
        }
        assertEquals(end, s.fileBytes());
        try (BnnFile f = BnnFile.open(dir.resolve("m.bnn"))) {
            assertArrayEquals(new long[512], f.graph().initializer("ints").toLongArray());
            assertEquals(s.sections(), f.sections());
        }
    }

    @Test
    void summaryCountsTensorBytes() throws IOException {
        BnnWriter.Summary s = BnnWriter.write(dir.resolve("m.bnn"), Fixtures.binaryGraph(), Map.of());
        long sum = s.sections().stream().skip(2).mapToLong(BnnFile.Section::storedLength).sum();
        assertEquals(sum, s.tensorBytes());
        assertFalse(s.sections().get(1).required(), "metadata is optional");
        assertTrue(s.sections().get(0).required());
    }

    private static List<Path> list(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().toList();
        }
    }
}
