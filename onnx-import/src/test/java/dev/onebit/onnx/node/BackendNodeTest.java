package dev.onebit.onnx.node;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Tensor;
import dev.onebit.onnx.OnnxImporter;
import dev.onebit.onnx.OnnxTensors;
import dev.onebit.onnx.proto.OnnxProto.ModelProto;
import dev.onebit.onnx.proto.OnnxProto.NodeProto;
import dev.onebit.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The ONNX backend node tests (one model and its reference inputs/outputs per folder, from the
 * libonnx-testdata package) for every test whose operators onebit registers. Outputs are
 * compared at rtol 1e-3 / atol 1e-5, shapes and integer values exactly. Tests of features
 * onebit deliberately lacks are listed in {@link SkipList} and reported as skipped.
 */
class BackendNodeTest {
    /** Where Debian's libonnx-testdata package installs the node tests. */
    static final Path DATA = Paths.get(System.getProperty("onebit.onnx.nodeTests",
            "/usr/share/libonnx-testdata/data/node"));
    private static final double RTOL = 1e-3;
    private static final double ATOL = 1e-5;

    private static final AtomicInteger ran = new AtomicInteger();
    private static final AtomicInteger passed = new AtomicInteger();
    private static final Map<String, AtomicInteger> skipped = new TreeMap<>();
    private static int notApplicable;

    @TestFactory
    Stream<DynamicTest> nodeTests() throws IOException {
        if (!Files.isDirectory(DATA)) {
            fail("ONNX backend node tests not found at " + DATA + ": install the libonnx-testdata package"
                    + " (apt-get install libonnx-testdata; CI installs it) or set -Donebit.onnx.nodeTests=DIR");
        }
        List<Path> dirs;
        try (Stream<Path> s = Files.list(DATA)) {
            dirs = s.filter(d -> Files.isRegularFile(d.resolve("model.onnx"))).sorted().toList();
        }
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : dirs) {
            String name = dir.getFileName().toString();
            if (!usesOnlyRegisteredOps(dir.resolve("model.onnx"))) {
                notApplicable++;
                continue;
            }
            String reason = SkipList.reason(name);
            if (reason != null) {
                synchronized (skipped) {
                    skipped.computeIfAbsent(reason, k -> new AtomicInteger()).incrementAndGet();
                }
                tests.add(DynamicTest.dynamicTest(name, () -> Assumptions.abort(reason)));
            } else {
                tests.add(DynamicTest.dynamicTest(name, () -> {
                    try {
                        runTest(dir);
                    } catch (Throwable t) {
                        // Surefire reports dynamic tests by index only, so the message names the test.
                        throw new AssertionError(name + ": " + t.getMessage(), t);
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** True when every node of the model is an operator onebit registers at the model's opset. */
    private static boolean usesOnlyRegisteredOps(Path model) {
        ModelProto m;
        try {
            m = ModelProto.parseFrom(Files.readAllBytes(model));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, Integer> opsets = new LinkedHashMap<>();
        for (OperatorSetIdProto op : m.getOpsetImportList()) {
            opsets.put(op.getDomain().equals("ai.onnx") ? "" : op.getDomain(), (int) op.getVersion());
        }
        for (NodeProto n : m.getGraph().getNodeList()) {
            String domain = n.getDomain().equals("ai.onnx") ? "" : n.getDomain();
            Integer version = opsets.get(domain);
            if (version == null || OpRegistry.standard().find(domain, n.getOpType(), version) == null) {
                return false;
            }
        }
        return true;
    }

    private static void runTest(Path dir) throws IOException {
        ran.incrementAndGet();
        Graph graph = OnnxImporter.read(dir.resolve("model.onnx"));
        Executor executor = Executor.create(graph);
        List<Path> sets;
        try (Stream<Path> s = Files.list(dir)) {
            sets = s.filter(p -> p.getFileName().toString().startsWith("test_data_set_")).sorted().toList();
        }
        if (sets.isEmpty()) {
            fail("no test_data_set_* in " + dir);
        }
        for (Path set : sets) {
            Map<String, Value> inputs = new LinkedHashMap<>();
            for (int i = 0; i < graph.inputs().size(); i++) {
                inputs.put(graph.inputs().get(i).name(), Value.of(OnnxTensors.read(set.resolve("input_" + i + ".pb"))));
            }
            Map<String, Value> outputs = executor.run(inputs);
            for (int i = 0; i < graph.outputs().size(); i++) {
                String name = graph.outputs().get(i).name();
                Tensor expected = OnnxTensors.read(set.resolve("output_" + i + ".pb"));
                compare(set.getFileName() + " output '" + name + "'", expected, outputs.get(name));
            }
        }
        passed.incrementAndGet();
    }

    private static void compare(String what, Tensor expected, Value actual) {
        assertNotNull(actual, what + " was not produced");
        assertArrayEquals(expected.shape(), actual.shape, what + " shape");
        if (expected.type().isFloatingPoint()) {
            assertEquals(true, actual.isFloat(), what + " type: expected " + expected.type() + ", got " + actual.type);
            float[] e = expected.toFloatArray();
            for (int k = 0; k < e.length; k++) {
                double a = actual.floats[k];
                double b = e[k];
                boolean ok = Double.isNaN(b) ? Double.isNaN(a) : a == b || Math.abs(a - b) <= ATOL + RTOL * Math.abs(b);
                if (!ok) {
                    fail(what + " differs at element " + k + " " + Arrays.toString(unravel(k, expected.shape()))
                            + ": expected " + b + ", got " + a);
                }
            }
        } else {
            assertEquals(expected.type(), actual.type, what + " type");
            assertArrayEquals(expected.toLongArray(), actual.longs, what + " values");
        }
    }

    private static int[] unravel(int k, int[] shape) {
        int[] pos = new int[shape.length];
        for (int d = shape.length - 1; d >= 0; d--) {
            pos[d] = k % shape[d];
            k /= shape[d];
        }
        return pos;
    }

    @AfterAll
    static void summary() {
        int skips = skipped.values().stream().mapToInt(AtomicInteger::get).sum();
        StringBuilder reasons = new StringBuilder();
        skipped.forEach((r, n) -> reasons.append(reasons.length() == 0 ? "" : "; ").append(n).append(' ').append(r));
        System.out.println("ONNX backend node tests: " + ran.get() + " ran, " + passed.get() + " passed, " + skips
                + " skipped (" + reasons + "), " + notApplicable + " not applicable (operator not registered at the model's opset)");
    }
}
