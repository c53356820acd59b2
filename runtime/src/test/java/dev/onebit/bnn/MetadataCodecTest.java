package dev.onebit.bnn;

import dev.onebit.ir.ModelException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The metadata section's encoding, and where BnnFormatException says an error is. */
class MetadataCodecTest {
    @Test
    void roundTripsInOrder() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("z", "last letter first");
        m.put("json", "{\"layers\": [1, 2]}");
        m.put("empty", "");
        Map<String, String> back = MetadataCodec.decode(ByteBuffer.wrap(MetadataCodec.encode(m)));
        assertEquals(List.copyOf(m.entrySet()), List.copyOf(back.entrySet()));
    }

    @Test
    void hasTheDocumentedBytes() {
        assertEquals("01000000" + "01000000" + "6b" + "02000000" + "7631",
                HexFormat.of().formatHex(MetadataCodec.encode(Map.of("k", "v1"))));
    }

    @Test
    void malformedSectionsAreRefused() {
        byte[] ok = MetadataCodec.encode(Map.of("k", "v"));
        for (int length = 0; length < ok.length; length++) {
            byte[] cut = Arrays.copyOf(ok, length);
            assertThrows(BnnFormatException.class, () -> MetadataCodec.decode(ByteBuffer.wrap(cut)));
        }
        byte[] twice = HexFormat.of().parseHex("02000000" + "010000006b" + "0000000" + "0" + "010000006b" + "00000000");
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> MetadataCodec.decode(ByteBuffer.wrap(twice)));
        assertEquals("section 'metadata' at offset 13: metadata key 'k' appears twice", e.getMessage());
        byte[] badUtf8 = HexFormat.of().parseHex("01000000" + "01000000" + "ff" + "00000000");
        e = assertThrows(BnnFormatException.class, () -> MetadataCodec.decode(ByteBuffer.wrap(badUtf8)));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());
        byte[] emptyKey = HexFormat.of().parseHex("01000000" + "00000000" + "00000000");
        assertThrows(BnnFormatException.class, () -> MetadataCodec.decode(ByteBuffer.wrap(emptyKey)));
        assertThrows(ModelException.class, () -> MetadataCodec.encode(Map.of("", "v")));
    }

    @Test
    void errorsArePlacedInTheirFile() {
        BnnFormatException relative = new BnnFormatException(null, "graph", 12, "bad tag");
        assertEquals("section 'graph' at offset 12: bad tag", relative.getMessage());
        assertEquals("m.bnn: section 'graph' at offset 524: bad tag", relative.inFile("m.bnn", 512, false).getMessage());
        assertEquals("m.bnn: section 'graph' at offset 512: bad tag (at byte 12 of the decompressed section)",
                relative.inFile("m.bnn", 512, true).getMessage());
        BnnFormatException placed = new BnnFormatException("a.bnn", "tensor 0 (w)", 640, "CRC32C mismatch");
        assertEquals(placed, placed.inFile("m.bnn", 512, false), "an error that names its file stays as it is");
        assertEquals("a.bnn: cannot read", new BnnFormatException("a.bnn", null, -1, "cannot read").getMessage());
        assertEquals("section 'tensor 0 (a\\nb)': bad", new BnnFormatException(null, "tensor 0 (a\nb)", -1, "bad").getMessage());
    }
}
