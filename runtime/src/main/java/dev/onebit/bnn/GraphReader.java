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

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decodes the graph section (FORMAT.md §7); the counterpart of
 * {@link GraphCodec}'s writer. Each method reads one element of the layout and says which in its
 * comment. Whatever the IR's constructors refuse becomes a {@link BnnFormatException} at the
 * offset where the refused element starts.
 */
final class GraphReader {
    /** Fewest bytes a string takes (its length field); bounds counts of strings. */
    private static final int MIN_STRING = 4;
    /** Fewest bytes of a value info: name, type, rank. */
    private static final int MIN_VALUE_INFO = MIN_STRING + 1 + 4;
    /** Fewest bytes of a node: name, op type, domain, three counts. */
    private static final int MIN_NODE = 3 * MIN_STRING + 3 * 4;

    private final ByteCursor in;
    private final GraphCodec.InitializerSource initializers;

    GraphReader(ByteCursor in, GraphCodec.InitializerSource initializers) {
        this.in = in;
        this.initializers = initializers;
    }

    /** The type and shape that precede a tensor's bytes or section reference. */
    private record TensorHead(DataType type, int[] shape, long byteCount) {
    }

    Graph graph() {
        // string name; u32 n, {string domain, i32 version}; u32 n, {string key, string value}
        Graph.Builder b = Graph.builder(in.string("graph name"));
        Set<String> seen = new HashSet<>();
        int opsets = in.count("opset count", MIN_STRING + 4);
        for (int i = 0; i < opsets; i++) {
            int at = in.position();
            String domain = in.string("opset domain");
            unique(seen, domain, at, "opset domain");
            b.opset(domain, in.i32("opset version"));
        }
        seen.clear();
        int metadata = in.count("graph metadata count", 2 * MIN_STRING);
        for (int i = 0; i < metadata; i++) {
            int at = in.position();
            String key = in.string("graph metadata key");
            unique(seen, key, at, "graph metadata key");
            b.metadata(key, in.string("graph metadata value"));
        }
        // three value info lists: inputs, outputs, then the known types of other values
        b.inputs(valueInfos("input"));
        b.outputs(valueInfos("output"));
        seen.clear();
        int infoStart = in.position();
        for (ValueInfo v : valueInfos("value info")) {
            unique(seen, v.name(), infoStart, "value info");
            b.valueInfo(v);
        }
        // u32 n, {string name, tensor head, u32 section}
        seen.clear();
        int count = in.count("initializer count", MIN_STRING + 1 + 4 + 4);
        for (int i = 0; i < count; i++) {
            int at = in.position();
            String name = in.string("initializer name");
            unique(seen, name, at, "initializer");
            TensorHead head = tensorHead("initializer '" + name + "'");
            int section = in.i32("initializer section");
            Tensor t;
            try {
                t = initializers.load(section, name, head.type, head.shape.clone());
            } catch (BnnFormatException e) {
                // A complaint about the reference itself (not about the section's bytes) points here.
                throw e.file() == null && e.offset() < 0 ? in.error(at, e.detail()) : e;
            }
            if (t.type() != head.type || !Arrays.equals(t.shape(), head.shape)) {
                throw in.error(at, "initializer '" + name + "' was loaded as " + t);
            }
            b.initializer(name, t);
        }
        int nodes = in.count("node count", MIN_NODE);
        for (int i = 0; i < nodes; i++) {
            b.node(node());
        }
        in.expectEnd();
        try {
            return b.build();
        } catch (ModelException | IllegalArgumentException e) {
            throw in.error(-1, "the graph is invalid: " + e.getMessage());
        }
    }

    private void unique(Set<String> seen, String name, int at, String what) {
        if (!seen.add(name)) {
            throw in.error(at, what + " '" + name + "' appears twice");
        }
    }

    // u32 n, then n value infos: string name, u8 type (0 unknown), i32 rank (-1 unknown), dims
    private List<ValueInfo> valueInfos(String what) {
        int n = in.count(what + " count", MIN_VALUE_INFO);
        List<ValueInfo> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int at = in.position();
            String name = in.string(what + " name");
            DataType type = type(what + " '" + name + "' type");
            int rank = in.i32(what + " '" + name + "' rank");
            Shape shape = null;
            if (rank != GraphCodec.RANK_UNKNOWN) {
                if (rank < 0 || rank > in.remaining()) {
                    throw in.error(in.position() - 4, what + " '" + name + "' has rank " + rank);
                }
                List<Dim> dims = new ArrayList<>(rank);
                for (int d = 0; d < rank; d++) {
                    dims.add(dim(what + " '" + name + "'"));
                }
                shape = Shape.of(dims);
            }
            try {
                out.add(new ValueInfo(name, type, shape));
            } catch (IllegalArgumentException e) {
                throw in.error(at, what + ": " + e.getMessage());
            }
        }
        return out;
    }

    // u8 tag; 0: i64 size (>= 0); 1: string symbol; 2: nothing (unknown)
    private Dim dim(String of) {
        int at = in.position();
        int tag = in.u8("dimension tag");
        switch (tag) {
            case GraphCodec.DIM_FIXED -> {
                long size = in.i64("dimension size");
                if (size < 0) {
                    throw in.error(at + 1, "dimension of " + of + " is " + size);
                }
                return Dim.of(size);
            }
            case GraphCodec.DIM_SYMBOL -> {
                return Dim.symbol(in.string("dimension symbol"));
            }
            case GraphCodec.DIM_UNKNOWN -> {
                return Dim.UNKNOWN;
            }
            default -> throw in.error(at, "unknown dimension tag " + tag + " in " + of);
        }
    }

    // u8 type code: 0 unknown, 0xB1 BIT, otherwise the ONNX TensorProto.DataType number
    private DataType type(String what) {
        int at = in.position();
        int code = in.u8(what);
        try {
            return BnnLayout.typeOf(code);
        } catch (IllegalArgumentException e) {
            throw in.error(at, what + ": unknown element type code " + code);
        }
    }

    // u8 type (not 0); u32 rank; i32 dims[rank], each >= 0, at most 2^31-1 elements in all
    private TensorHead tensorHead(String what) {
        int at = in.position();
        DataType type = type(what + " type");
        if (type == null) {
            throw in.error(at, what + " has no element type");
        }
        int rank = in.count(what + " rank", 4);
        int[] shape = new int[rank];
        long elements = 1;
        for (int d = 0; d < rank; d++) {
            shape[d] = in.i32(what + " dimension");
            if (shape[d] < 0) {
                throw in.error(in.position() - 4, what + " has dimension " + shape[d]);
            }
            elements *= shape[d];
            if (elements > Integer.MAX_VALUE) {
                throw in.error(at, what + " has more than 2^31-1 elements: " + Arrays.toString(Arrays.copyOf(shape, d + 1)) + "...");
            }
        }
        return new TensorHead(type, shape, type.storageBytes(elements));
    }

    // string name, string op type, string domain, u32 n {string input}, u32 n {string output},
    // u32 n {string name, u8 kind, value}
    private Node node() {
        int at = in.position();
        String name = in.string("node name");
        String opType = in.string("node '" + name + "' op type");
        String domain = in.string("node '" + name + "' domain");
        List<String> inputs = strings("node '" + name + "' input");
        List<String> outputs = strings("node '" + name + "' output");
        int n = in.count("node '" + name + "' attribute count", MIN_STRING + 1);
        Map<String, Attribute> attributes = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int attrAt = in.position();
            String key = in.string("attribute name");
            if (attributes.put(key, attribute("node '" + name + "' attribute '" + key + "'")) != null) {
                throw in.error(attrAt, "node '" + name + "' has attribute '" + key + "' twice");
            }
        }
        try {
            return new Node(name, opType, domain, inputs, outputs, attributes);
        } catch (IllegalArgumentException e) {
            throw in.error(at, e.getMessage());
        }
    }

    private List<String> strings(String what) {
        int n = in.count(what + " count", MIN_STRING);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(in.string(what));
        }
        return out;
    }

    // u8 kind, then 1 f32 | 2 i64 | 3 string | 4 tensor head, u64 byte count, bytes
    // | 5 u32 n, f32[n] | 6 u32 n, i64[n] | 7 u32 n, string[n]
    private Attribute attribute(String what) {
        int at = in.position();
        int code = in.u8(what + " kind");
        Attribute.Kind kind = GraphCodec.kindOf(code);
        if (kind == null) {
            throw in.error(at, what + " has unknown kind code " + code);
        }
        switch (kind) {
            case FLOAT:
                return Attribute.of(in.f32(what));
            case INT:
                return Attribute.of(in.i64(what));
            case STRING:
                return Attribute.of(in.string(what));
            case TENSOR: {
                TensorHead head = tensorHead(what);
                int lengthAt = in.position();
                long length = in.i64(what + " byte count");
                if (length != head.byteCount) {
                    throw in.error(lengthAt, what + " has " + Long.toUnsignedString(length) + " bytes, its type and shape need "
                            + head.byteCount);
                }
                Tensor t = Tensor.wrap(head.type, head.shape, in.slice(length, what));
                if (!GraphCodec.paddingBitsClear(t)) {
                    throw in.error(in.position() - 1, what + ": BIT tensor has nonzero bits after its last element");
                }
                return Attribute.of(copy(t));
            }
            case FLOATS: {
                float[] v = new float[in.count(what + " count", 4)];
                for (int i = 0; i < v.length; i++) {
                    v[i] = in.f32(what);
                }
                return Attribute.ofFloats(v);
            }
            case INTS: {
                long[] v = new long[in.count(what + " count", 8)];
                for (int i = 0; i < v.length; i++) {
                    v[i] = in.i64(what);
                }
                return Attribute.ofInts(v);
            }
            case STRINGS:
                return Attribute.ofStrings(strings(what));
            default:
                throw in.error(at, what + " has kind " + kind);
        }
    }

    /** Attribute tensors are small; copying them lets the section's buffer go. */
    private static Tensor copy(Tensor t) {
        ByteBuffer b = t.bytes();
        ByteBuffer own = ByteBuffer.allocate(b.remaining());
        own.put(b).flip();
        return Tensor.wrap(t.type(), t.shape(), own);
    }
}
