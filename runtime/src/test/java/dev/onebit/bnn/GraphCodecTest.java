package dev.onebit.bnn;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The graph encoding on its own: lossless both ways, and every malformed input refused with an offset. */
class GraphCodecTest {
    /** A graph using every feature the encoding has: all attribute kinds, dims, types, unknowns. */
    static Graph everything() {
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        attrs.put("f", Attribute.of(Float.intBitsToFloat(0x7fc01234))); // a NaN with a payload
        attrs.put("i", Attribute.of(-1L << 40));
        attrs.put("s", Attribute.of("grüße ✓ 𝔘"));
        attrs.put("t", Attribute.of(Tensor.ofLongs(DataType.INT32, new int[] {2, 2}, new long[] {1, -2, 3, Integer.MIN_VALUE})));
        attrs.put("bits", Attribute.of(Tensor.ofSigns(new int[] {3, 3}, new float[] {-1, 0, 1, -2, -3, 4, 5, 0, -0.5f})));
        attrs.put("scalar", Attribute.of(Tensor.ofDoubles(new int[0], new double[] {Math.PI})));
        attrs.put("fs", Attribute.ofFloats(1.5f, -0f, Float.NEGATIVE_INFINITY));
        attrs.put("is", Attribute.ofInts(Long.MIN_VALUE, 0, Long.MAX_VALUE));
        attrs.put("ss", Attribute.ofStrings(List.of("", "a", "ß")));
        attrs.put("empty", Attribute.ofInts());
        return Graph.builder("everything")
                .opset("", 13).opset("dev.onebit", 1).opset("com.example", 7)
                .metadata("producer", "test").metadata("", "empty key is fine inside a graph")
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(Dim.symbol("batch"), Dim.of(3), Dim.UNKNOWN, Dim.of(0)))))
                .input(new ValueInfo("unknown", null, null))
                .output(new ValueInfo("y", DataType.FLOAT, Shape.of()))
                .output(new ValueInfo("idx", DataType.INT64, Shape.of(Long.MAX_VALUE)))
                .valueInfo(new ValueInfo("mid", DataType.BOOL, Shape.of(List.of(Dim.symbol("")))))
                .initializer("w", Tensor.ofFloats(new int[] {2, 3}, new float[] {1, 2, 3, 4, 5, 6}))
                .initializer("b", Tensor.ofSigns(new int[] {17}, new float[17]))
                .initializer("u8", Tensor.ofLongs(DataType.UINT8, new int[] {2}, new long[] {255, 0}))
                .node(new Node("n1", "Custom", "com.example", List.of("x", "", "w"), List.of("mid", ""), attrs))
                .node(Node.of("n2", "Identity", List.of("mid"), List.of("y"), Map.of()))
                .node(Node.of("n3", "ArgMax", List.of("unknown", "b", "u8"), List.of("idx"), Map.of()))
                .build();
    }

    /** Encodes with initializer i in section 10 + i and decodes against the same tensors. */
    static byte[] encode(Graph g) {
        List<String> names = new ArrayList<>(g.initializers().keySet());
        return GraphCodec.encode(g, name -> 10 + names.indexOf(name));
    }

    static Graph decode(byte[] bytes, Graph source) {
        List<String> names = new ArrayList<>(source.initializers().keySet());
        return GraphCodec.decode(ByteBuffer.wrap(bytes), (section, name, type, shape) -> {
            assertEquals(10 + names.indexOf(name), section);
            return source.initializer(name);
        });
    }

    @Test
    void roundTripsEverything() {
        Graph g = everything();
        Graph back = decode(encode(g), g);
        assertEquals(g.name(), back.name());
        assertEquals(g.opsets(), back.opsets());
        assertEquals(g.metadata(), back.metadata());
        assertEquals(g.inputs(), back.inputs());
        assertEquals(g.outputs(), back.outputs());
        assertEquals(List.copyOf(g.valueInfo().values()), List.copyOf(back.valueInfo().values()));
        assertEquals(g.initializers(), back.initializers());
        assertEquals(g.nodes(), back.nodes());
        Attribute nan = back.nodes().get(0).attr("f");
        assertEquals(0x7fc01234, Float.floatToRawIntBits(nan.asFloat()), "NaN payload kept");
        assertEquals(-0f, back.nodes().get(0).attrFloats("fs", null)[1], 0f);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(back.nodes().get(0).attrFloats("fs", null)[1]));
        assertArrayEquals(encode(g), encode(back), "encoding is deterministic");
    }

    @Test
    void tinyGraphHasTheDocumentedBytes() {
        // FORMAT.md, "The graph section": fixes the layout so it cannot drift silently.
        Graph g = Graph.builder("g").opset("", 17)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(Dim.symbol("N"), Dim.of(2)))))
                .output(new ValueInfo("y", DataType.FLOAT, null))
                .initializer("s", Tensor.ofSigns(new int[] {3}, new float[] {1, -1, -1}))
                .node(Node.of("m", "Mul", List.of("x", "s"), List.of("y"), Map.of("k", Attribute.ofInts(5))))
                .build();
        String hex = java.util.HexFormat.of().formatHex(GraphCodec.encode(g, name -> 2));
        assertEquals(""
                + "01000000" + "67"                                   // name "g"
                + "01000000" + "00000000" + "11000000"                // 1 opset: "", 17
                + "00000000"                                          // no graph metadata
                + "01000000" + "01000000" + "78" + "01" + "02000000"  // 1 input "x" FLOAT rank 2
                + "01" + "01000000" + "4e"                            //   dim: symbol "N"
                + "00" + "0200000000000000"                           //   dim: fixed 2
                + "01000000" + "01000000" + "79" + "01" + "ffffffff"  // 1 output "y" FLOAT, shape unknown
                + "00000000"                                          // no value infos
                + "01000000" + "01000000" + "73" + "b1" + "01000000" + "03000000" + "02000000" // "s" BIT [3] in section 2
                + "01000000"                                          // 1 node
                + "01000000" + "6d" + "03000000" + "4d756c" + "00000000" // "m" "Mul" ""
                + "02000000" + "01000000" + "78" + "01000000" + "73"  // inputs x, s
                + "01000000" + "01000000" + "79"                      // output y
                + "01000000" + "01000000" + "6b" + "06" + "01000000" + "0500000000000000", // k: INTS [5]
                hex);
    }

    @Test
    void everyTruncationIsRefusedWithItsOffset() {
        Graph g = everything();
        byte[] bytes = encode(g);
        for (int length = 0; length < bytes.length; length++) {
            byte[] cut = java.util.Arrays.copyOf(bytes, length);
            BnnFormatException e = assertThrows(BnnFormatException.class, () -> decode(cut, g), "cut at " + length);
            assertTrue(e.offset() >= 0 && e.offset() <= length, length + ": " + e.getMessage());
            assertEquals("graph", e.section());
        }
    }

    @Test
    void everyDamagedByteIsRefusedOrDecodes() {
        // No checksum at this level: a flip may still give a valid graph, but nothing may
        // escape as any exception other than BnnFormatException.
        Graph g = everything();
        byte[] bytes = encode(g);
        Random random = new Random(1);
        int refused = 0;
        for (int i = 0; i < bytes.length; i++) {
            for (int value : new int[] {bytes[i] ^ 0xFF, bytes[i] ^ (1 << random.nextInt(8)), 0x7F, 0x80}) {
                byte[] damaged = bytes.clone();
                damaged[i] = (byte) value;
                try {
                    decodeLoosely(damaged);
                } catch (BnnFormatException e) {
                    refused++;
                }
            }
        }
        assertTrue(refused > bytes.length, "most damage is caught: " + refused);
    }

    /** Decodes against any reference, like a reader whose sections hold whatever the graph asks. */
    private static Graph decodeLoosely(byte[] bytes) {
        return GraphCodec.decode(ByteBuffer.wrap(bytes), (section, name, type, shape) -> {
            long size = type.storageBytes(Tensor.elementCount(shape));
            if (size > 4096) { // as a file whose sections are all small would
                throw new BnnFormatException(null, "graph", -1, "no section holds " + size + " bytes");
            }
            return Tensor.wrap(type, shape, ByteBuffer.allocate((int) size));
        });
    }

    @Test
    void hostileCountsAreRefusedBeforeAllocating() {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x7FFF_FFFF);
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> decodeLoosely(b.array()));
        assertEquals("section 'graph' at offset 0: graph name length 2147483647 does not fit in the 60 bytes left", e.getMessage());

        b.putInt(0, 0).putInt(4, 0xFFFF_FFFF);
        e = assertThrows(BnnFormatException.class, () -> decodeLoosely(b.array()));
        assertEquals(4, e.offset());
        assertTrue(e.getMessage().contains("opset count 4294967295"), e.getMessage());
    }

    @Test
    void trailingBytesAndUnknownCodesAreRefused() {
        Graph g = everything();
        byte[] bytes = encode(g);
        byte[] longer = java.util.Arrays.copyOf(bytes, bytes.length + 1);
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> decode(longer, g));
        assertEquals(bytes.length, e.offset());

        byte[] tiny = GraphCodec.encode(Graph.builder("").input(new ValueInfo("x", DataType.FLOAT, null)).build(), n -> 0);
        int typeAt = 4 + 4 + 4 + 4 + 4 + 1; // name, opsets, metadata, input count, "x" length + "x"
        tiny[typeAt] = 99;
        e = assertThrows(BnnFormatException.class, () -> decodeLoosely(tiny));
        assertEquals(typeAt, e.offset());
        assertTrue(e.getMessage().contains("unknown element type code 99"), e.getMessage());
    }

    @Test
    void invalidGraphsBecomeFormatErrors() {
        // Encoded by hand: one node reading a value nobody produces.
        Graph ok = Graph.builder("").input(new ValueInfo("a", DataType.FLOAT, null))
                .node(Node.of("n", "Relu", List.of("a"), List.of("b"), Map.of())).build();
        byte[] bytes = GraphCodec.encode(ok, n -> 0);
        // The input's name "a" (at 4+4+4+4+4) becomes "c"; the node still reads "a".
        bytes[20] = 'c';
        BnnFormatException e = assertThrows(BnnFormatException.class, () -> decodeLoosely(bytes));
        assertTrue(e.getMessage().contains("the graph is invalid"), e.getMessage());
    }

    @Test
    void unencodableGraphsAreRefused() {
        Graph surrogate = Graph.builder("\uDC00").build();
        ModelException e = assertThrows(ModelException.class, () -> GraphCodec.encode(surrogate, n -> 0));
        assertTrue(e.getMessage().contains("graph name"), e.getMessage());
        Tensor dirty = Tensor.wrap(DataType.BIT, new int[] {9}, ByteBuffer.wrap(new byte[] {0, 2}));
        Graph bits = Graph.builder("").node(Node.of("c", "Constant", List.of(), List.of("v"),
                Map.of("value", Attribute.of(dirty)))).build();
        e = assertThrows(ModelException.class, () -> GraphCodec.encode(bits, n -> 0));
        assertTrue(e.getMessage().contains("attribute 'value'"), e.getMessage());
    }
}
