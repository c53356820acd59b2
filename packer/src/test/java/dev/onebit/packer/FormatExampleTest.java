package dev.onebit.packer;

import dev.onebit.bnn.BnnFile;
import dev.onebit.bnn.GraphCodec;
import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worked example in FORMAT.md is exactly what the writer produces, and it runs as the spec says. */
class FormatExampleTest {
    private static final Path SPEC = Path.of("..", "FORMAT.md");

    @TempDir
    Path dir;

    /** The example graph: one BinaryMatMul, 5 inputs, 2 outputs, 1 plane. */
    static Graph example() {
        Dim n = Dim.symbol("N");
        return Graph.builder("tiny")
                .opset("", 17).opset(OpRegistry.ONEBIT_DOMAIN, 1)
                .input(new ValueInfo("x", DataType.FLOAT, Shape.of(List.of(n, Dim.of(5)))))
                .output(new ValueInfo("y", DataType.FLOAT, Shape.of(List.of(n, Dim.of(2)))))
                .initializer("B", Tensor.ofSigns(new int[] {1, 2, 5}, new float[] {1, -1, -1, 1, 1, 1, 1, -1, -1, 1}))
                .initializer("alpha", Tensor.ofFloats(new int[] {1, 2}, new float[] {0.5f, 0.25f}))
                .node(new Node("fc", "BinaryMatMul", OpRegistry.ONEBIT_DOMAIN, List.of("x", "B", "alpha"), List.of("y"),
                        Map.of("method", Attribute.of("bwn"))))
                .build();
    }

    @Test
    void specHexDumpIsWhatTheWriterWrites() throws IOException {
        byte[] written = Files.readAllBytes(write());
        assertEquals(dump(written), dump(specBytes("example-hex")), "FORMAT.md's hex dump differs. If only the"
                + " graph section's zstd bytes and the CRCs differ, zstd-jni changed its output: update the dump."
                + " The writer's is:\n" + dump(written));
    }

    @Test
    void specGraphSectionIsWhatTheCodecWrites() throws IOException {
        byte[] graph = GraphCodec.encode(example(), name -> name.equals("B") ? 2 : 3);
        assertEquals(dump(graph), dump(specBytes("example-graph-hex")), "the codec's bytes:\n" + dump(graph));
        try (BnnFile bnn = BnnFile.open(write())) {
            assertEquals(graph.length, bnn.sections().get(0).rawLength());
        }
    }

    private Path write() throws IOException {
        Path file = dir.resolve("tiny.bnn");
        BnnWriter.write(file, example(), Map.of("method", "bwn"));
        return file;
    }

    @Test
    void exampleComputesWhatTheSpecSays() throws IOException {
        Path file = dir.resolve("tiny.bnn");
        Files.write(file, specBytes("example-hex"));
        try (BnnFile bnn = BnnFile.open(file)) {
            assertEquals(Map.of("method", "bwn"), bnn.metadata());
            assertArrayEquals(new byte[] {(byte) 0x86, 0x01}, bytes(bnn.graph().initializer("B")));
            Value y = Executor.create(bnn.graph()).run(Map.of("x", Value.ofFloats(new int[] {1, 5}, new float[] {1, 2, 3, 4, 5})))
                    .get("y");
            assertArrayEquals(new float[] {2.5f, 0.25f}, y.floats);
        }
    }

    private static byte[] bytes(Tensor t) {
        byte[] b = new byte[t.bytes().remaining()];
        t.bytes().get(b);
        return b;
    }

    /** The bytes of the dump between the example-hex markers: lines of "offset: hex bytes". */
    private static byte[] specBytes(String marker) throws IOException {
        String spec = Files.readString(SPEC);
        int from = spec.indexOf("<!-- " + marker + "-begin -->");
        int to = spec.indexOf("<!-- " + marker + "-end -->");
        assertTrue(from >= 0 && to > from, "FORMAT.md has the example-hex markers");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String line : spec.substring(from, to).split("\n")) {
            int colon = line.indexOf(':');
            if (colon == 4 && line.substring(0, 4).matches("[0-9a-f]{4}")) {
                assertEquals(Integer.parseInt(line.substring(0, 4), 16), out.size(), "offset column of: " + line);
                String hex = line.substring(colon + 1, Math.min(line.length(), colon + 1 + 16 * 3)).replace(" ", "");
                out.writeBytes(HexFormat.of().parseHex(hex));
            }
        }
        return out.toByteArray();
    }

    /** 16 bytes a line, offset in hex, as FORMAT.md shows it. */
    static String dump(byte[] bytes) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < bytes.length; i += 16) {
            s.append(String.format("%04x:", i));
            for (int j = i; j < Math.min(bytes.length, i + 16); j++) {
                s.append(String.format(" %02x", bytes[j]));
            }
            s.append('\n');
        }
        return s.toString();
    }
}
