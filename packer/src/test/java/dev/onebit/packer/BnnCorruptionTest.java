package dev.onebit.packer;

import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.BnnFormatException;
import dev.onebit.bnn.BnnLayout;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Damaged containers are refused with a {@link BnnFormatException} that names where, and never
 * load silently: every single byte of a small container is flipped, samples are flipped and cut
 * at a stride.
 */
class BnnCorruptionTest {
    @TempDir
    Path dir;
    private byte[] small;

    @BeforeEach
    void writeSmallContainer() throws IOException {
        Path file = dir.resolve("source.bnn");
        BnnWriter.write(file, Fixtures.binaryGraph(), Map.of("method", "cbd", "labels", "[\"a\", \"b\", \"c\"]"));
        small = Files.readAllBytes(file);
    }

    @Test
    void smallContainerCoversEveryKindOfSection() {
        Container c = Container.parse(small);
        assertTrue(c.entries.stream().anyMatch(e -> e.codec == BnnLayout.CODEC_ZSTD), "a compressed section");
        assertTrue(c.entries.stream().anyMatch(e -> e.kind == BnnLayout.KIND_TENSOR && e.codec == BnnLayout.CODEC_NONE));
        assertTrue(c.entries.stream().anyMatch(e -> e.kind == BnnLayout.KIND_METADATA));
    }

    @Test
    void everyFlippedByteOfASmallContainerIsRefused() throws IOException {
        Path file = dir.resolve("model.bnn");
        Files.write(file, small);
        for (int i = 0; i < small.length; i++) {
            assertRefusedWith(file, i, (byte) (small[i] ^ 0xFF), small.length);
            assertRefusedWith(file, i, (byte) (small[i] ^ (1 << (i % 8))), small.length); // and a single-bit flip
        }
    }

    @Test
    void everyTruncationOfASmallContainerIsRefused() throws IOException {
        Path file = dir.resolve("model.bnn");
        Files.write(file, small);
        // Shortest last, so each cut is one truncate call rather than a rewrite.
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (int length = small.length - 1; length >= 0; length--) {
                ch.truncate(length);
                BnnFormatException e = checkRefusal(file, "cut at " + length, length);
                assertTrue(e.getMessage().contains("header"), e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain.onnx", "resnet.onnx", "vgg.onnx"})
    void samplesFlippedAndCutAtAStrideAreRefused(String model) throws IOException {
        Path file = dir.resolve("model.bnn");
        BnnWriter.write(file, Fixtures.sample(model), Map.of("source", model));
        byte[] bytes = Files.readAllBytes(file);
        Container c = Container.parse(bytes);
        // Every byte of header, table and graph section, then about 300 more across the tensors.
        long graphEnd = c.offsetOf(0) + c.entries.get(0).stored.length;
        Random random = new Random(model.hashCode());
        int stride = Math.max(1, bytes.length / 150);
        for (long i = 0; i < bytes.length; i = i < graphEnd ? i + 1 : i + 1 + random.nextInt(stride)) {
            assertRefusedWith(file, i, (byte) (bytes[(int) i] ^ (1 << random.nextInt(8))), bytes.length);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            for (long length = bytes.length - 1; length >= 0; length -= 1 + random.nextInt(stride)) {
                ch.truncate(length);
                checkRefusal(file, model + " cut at " + length, length);
            }
        }
    }

    @Test
    void errorMessageNamesFileSectionAndOffset() throws IOException {
        Container c = Container.parse(small);
        int b1 = 3; // sections: graph, metadata, W, B1, ...
        long offset = c.offsetOf(b1);
        byte[] damaged = small.clone();
        damaged[(int) offset + 10] ^= 1;
        BnnFormatException e = assertRefused(damaged, "flip in B1");
        assertTrue(e.getMessage().startsWith("model.bnn: section 'tensor 1 (B1)' at offset " + offset + ": CRC32C mismatch"),
                e.getMessage());
        assertEquals("model.bnn", e.file());
        assertEquals("tensor 1 (B1)", e.section());
        assertEquals(offset, e.offset());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void newerMajorVersionIsRefusedEvenIfItsHeaderLooksDifferent() throws IOException {
        byte[] newer = small.clone();
        newer[8] = 2; // no CRC fix-up: a 2.x header may have moved its CRC
        BnnFormatException e = assertRefused(newer, "major 2");
        assertTrue(e.getMessage().contains("format version 2.0 is newer"), e.getMessage());
        assertEquals(8, e.offset());

        Container c = Container.parse(small);
        c.major = 0;
        assertTrue(assertRefused(c.toBytes(), "major 0").getMessage().contains("version 0.0"));
    }

    @Test
    void newerMinorVersionLoads() throws IOException {
        Container c = Container.parse(small);
        c.minor = 9;
        try (BnnFile f = open(c.toBytes())) {
            assertEquals(9, f.versionMinor());
            Fixtures.assertSameGraph(Fixtures.binaryGraph(), f.graph());
        }
    }

    @Test
    void unknownRequiredSectionIsRefused() throws IOException {
        Container c = Container.parse(small);
        // Appended, so the graph's references to tensor sections by index stay right.
        c.entries.add(new Container.Entry(0x51, BnnLayout.FLAG_REQUIRED, BnnLayout.CODEC_NONE, 3, new byte[] {1, 2, 3}));
        BnnFormatException e = assertRefused(c.toBytes(), "unknown required section");
        assertEquals("section " + (c.entries.size() - 1) + " (kind 0x51)", e.section());
        assertEquals(c.offsetOf(c.entries.size() - 1), e.offset());
        assertTrue(e.getMessage().contains("unknown required section kind 0x51"), e.getMessage());
    }

    @Test
    void unknownOptionalSectionIsIgnored() throws IOException {
        Container c = Container.parse(small);
        // An unknown codec too: ignored sections are never decoded, only checksummed.
        c.entries.add(new Container.Entry(0x52, 0x6, 77, 1234, "future data".getBytes()));
        try (BnnFile f = open(c.toBytes())) {
            Fixtures.assertSameGraph(Fixtures.binaryGraph(), f.graph());
            BnnFile.Section s = f.sections().get(f.sections().size() - 1);
            assertEquals("section " + s.index() + " (kind 0x52)", s.name());
            assertEquals("codec 77", s.codecName());
        }
        c.entries.get(c.entries.size() - 1).stored[0] ^= 1;
        byte[] damaged = c.toBytes();
        damaged[(int) c.offsetOf(c.entries.size() - 1)] ^= 1; // damage after the CRC was computed
        assertRefused(damaged, "damaged optional section");
    }

    /** Puts {@code value} at {@code position} in the file, checks it is refused, restores the byte. */
    private static void assertRefusedWith(Path file, long position, byte value, long length) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer old = ByteBuffer.allocate(1);
            ch.read(old, position);
            ch.write(ByteBuffer.wrap(new byte[] {value}), position);
            try {
                checkRefusal(file, "byte " + position + " set to " + value, length);
            } finally {
                ch.write(old.flip(), position);
            }
        }
    }

    private BnnFile open(byte[] bytes) throws IOException {
        Path file = dir.resolve("model.bnn");
        Files.write(file, bytes);
        return BnnFile.open(file);
    }

    /** Opening must fail with a located BnnFormatException, and nothing else. */
    BnnFormatException assertRefused(byte[] bytes, String what) throws IOException {
        Path file = dir.resolve("model.bnn");
        Files.write(file, bytes);
        return checkRefusal(file, what, bytes.length);
    }

    private static BnnFormatException checkRefusal(Path file, String what, long length) {
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> BnnFile.open(file).close(), what);
        assertTrue(e.getMessage().startsWith("model.bnn: "), what + ": " + e.getMessage());
        assertTrue(e.section() != null && e.offset() >= 0, what + ": " + e.getMessage());
        assertTrue(e.offset() <= length, what + ": " + e.getMessage());
        return e;
    }
}
