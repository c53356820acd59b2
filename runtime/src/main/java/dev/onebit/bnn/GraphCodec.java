package dev.onebit.bnn;

import dev.onebit.ir.Attribute;
import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.ToIntFunction;

/**
 * The graph section of a {@code .bnn} container: onebit's {@link Graph} IR as bytes, both ways.
 * Initializers are not stored here, only referenced: each names the section holding its bytes.
 * The layout is specified in FORMAT.md §7; the comments beside the reading code
 * ({@code GraphReader}) repeat it so the two can be checked against each other.
 *
 * <p>Decoding trusts nothing: every count and length is checked against the bytes left before
 * anything is allocated, and every failure, including a graph the IR itself refuses, is a
 * {@link BnnFormatException} with the offset inside the section.
 */
public final class GraphCodec {
    private GraphCodec() {
    }

    /** Loads the tensor an initializer reference points to. */
    @FunctionalInterface
    public interface InitializerSource {
        /**
         * The initializer's tensor, of exactly this type and shape.
         *
         * @param section the section index the graph names
         * @throws BnnFormatException if that section cannot provide it; one without file and
         *                            offset is reported at the reference's place in the graph
         */
        Tensor load(int section, String name, DataType type, int[] shape);
    }

    /**
     * Encodes a graph.
     *
     * @param sectionOfInitializer the section index that will hold each initializer's bytes
     * @throws ModelException if the graph cannot be stored faithfully (a string that is not
     *                        valid Unicode, a BIT tensor with nonzero padding bits)
     */
    public static byte[] encode(Graph graph, ToIntFunction<String> sectionOfInitializer) {
        GraphWriter w = new GraphWriter(new ByteSink(), graph);
        w.graph(sectionOfInitializer);
        return w.out.toByteArray();
    }

    /**
     * Decodes a graph section.
     *
     * @param bytes the section's raw bytes, from position to limit
     * @throws BnnFormatException naming the offset relative to {@code bytes}' position
     */
    public static Graph decode(ByteBuffer bytes, InitializerSource initializers) {
        ByteCursor in = new ByteCursor(bytes, "graph");
        return new GraphReader(in, initializers).graph();
    }

    // --- element layout shared by both directions -------------------------------------------

    /**
     * Attribute kind codes: FORMAT.md §7, "attribute". Spelled out rather than derived from the
     * enum's order, so that reordering {@link Attribute.Kind} cannot change the file format.
     */
    static int kindCode(Attribute.Kind kind) {
        return switch (kind) {
            case FLOAT -> 1;
            case INT -> 2;
            case STRING -> 3;
            case TENSOR -> 4;
            case FLOATS -> 5;
            case INTS -> 6;
            case STRINGS -> 7;
        };
    }

    /** The kind with that code, or null. */
    static Attribute.Kind kindOf(int code) {
        for (Attribute.Kind k : Attribute.Kind.values()) {
            if (kindCode(k) == code) {
                return k;
            }
        }
        return null;
    }

    /** Dimension tags: FORMAT.md §7, "dim". */
    static final int DIM_FIXED = 0;
    static final int DIM_SYMBOL = 1;
    static final int DIM_UNKNOWN = 2;

    /** The rank written for a value whose shape (even its rank) is unknown. */
    static final int RANK_UNKNOWN = -1;

    /**
     * True when the bits past the last element of a BIT tensor are 0, as DataType.BIT requires;
     * set padding bits would make two equal tensors compare unequal after a round trip.
     */
    static boolean paddingBitsClear(Tensor t) {
        if (t.type() != DataType.BIT) {
            return true;
        }
        int used = t.size() & 7;
        if (used == 0) {
            return true;
        }
        ByteBuffer b = t.bytes();
        return (b.get(b.limit() - 1) & 0xFF) >>> used == 0;
    }

    private static final class GraphWriter {
        final ByteSink out;
        final Graph graph;

        GraphWriter(ByteSink out, Graph graph) {
            this.out = out;
            this.graph = graph;
        }

        void graph(ToIntFunction<String> sectionOf) {
            out.string(graph.name(), "graph name");
            out.count(graph.opsets().size());
            for (Map.Entry<String, Integer> e : graph.opsets().entrySet()) {
                out.string(e.getKey(), "opset domain");
                out.i32(e.getValue());
            }
            out.count(graph.metadata().size());
            for (Map.Entry<String, String> e : graph.metadata().entrySet()) {
                out.string(e.getKey(), "graph metadata key");
                out.string(e.getValue(), "graph metadata '" + e.getKey() + "'");
            }
            valueInfos(graph.inputs());
            valueInfos(graph.outputs());
            valueInfos(graph.valueInfo().values());
            out.count(graph.initializers().size());
            for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
                String where = "initializer '" + e.getKey() + "'";
                out.string(e.getKey(), where);
                tensorHead(e.getValue(), where);
                out.i32(sectionOf.applyAsInt(e.getKey()));
            }
            out.count(graph.nodes().size());
            for (Node n : graph.nodes()) {
                node(n);
            }
        }

        void valueInfos(Collection<ValueInfo> infos) {
            out.count(infos.size());
            for (ValueInfo v : infos) {
                out.string(v.name(), "value name");
                out.u8(BnnLayout.typeCode(v.type()));
                if (v.shape() == null) {
                    out.i32(RANK_UNKNOWN);
                    continue;
                }
                out.i32(v.shape().rank());
                for (Dim d : v.shape().dims()) {
                    if (d.isFixed()) {
                        out.u8(DIM_FIXED);
                        out.i64(d.size());
                    } else if (d.symbol() != null) {
                        out.u8(DIM_SYMBOL);
                        out.string(d.symbol(), "dimension of value '" + v.name() + "'");
                    } else {
                        out.u8(DIM_UNKNOWN);
                    }
                }
            }
        }

        void tensorHead(Tensor t, String where) {
            if (!paddingBitsClear(t)) {
                throw new ModelException(where + ": BIT tensor has nonzero bits after its last element");
            }
            out.u8(BnnLayout.typeCode(t.type()));
            out.count(t.rank());
            for (int d : t.shape()) {
                out.i32(d);
            }
        }

        void node(Node n) {
            String where = n.describe();
            out.string(n.name(), where);
            out.string(n.opType(), where);
            out.string(n.domain(), where);
            out.count(n.inputs().size());
            for (String s : n.inputs()) {
                out.string(s, where + " input");
            }
            out.count(n.outputs().size());
            for (String s : n.outputs()) {
                out.string(s, where + " output");
            }
            out.count(n.attributes().size());
            for (Map.Entry<String, Attribute> e : n.attributes().entrySet()) {
                String at = where + " attribute '" + e.getKey() + "'";
                out.string(e.getKey(), at);
                Attribute a = e.getValue();
                out.u8(kindCode(a.kind()));
                switch (a.kind()) {
                    case FLOAT -> out.f32(a.asFloat());
                    case INT -> out.i64(a.asInt());
                    case STRING -> out.string(a.asString(), at);
                    case TENSOR -> {
                        Tensor t = a.asTensor();
                        tensorHead(t, at);
                        ByteBuffer data = t.bytes();
                        out.i64(data.remaining());
                        out.bytes(data);
                    }
                    case FLOATS -> {
                        float[] v = a.asFloats();
                        out.count(v.length);
                        for (float f : v) {
                            out.f32(f);
                        }
                    }
                    case INTS -> {
                        long[] v = a.asInts();
                        out.count(v.length);
                        for (long l : v) {
                            out.i64(l);
                        }
                    }
                    case STRINGS -> {
                        List<String> v = a.asStrings();
                        out.count(v.size());
                        for (String s : v) {
                            out.string(s, at);
                        }
                    }
                    default -> throw new ModelException(at + ": kind " + a.kind() + " cannot be stored");
                }
            }
        }
    }
}
