package dev.onebit.cli;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Per-node sizes of a graph: the constant tensors each node reads, counted once per tensor, at
 * their stored width (1 bit per element for BIT tensors). For binary layers also the method and
 * the bits per weight: the bits of B and alpha over the number of real weights they stand for.
 */
final class LayerTable {

    /**
     * One node's row.
     *
     * @param method binarization method for binary layers, "float" for float Conv/Gemm/MatMul, else ""
     * @param weights real weights the layer's weight tensor stands for (0 when not a weighted layer)
     * @param bitsPerWeight stored bits of weight and scales per weight, 0 when not a weighted layer
     * @param binaryBytes bytes of BIT tensors
     * @param binaryFloatBytes bytes the BIT tensors' elements would take as float32
     */
    record Row(String name, String op, String outputShape, long params, long bytes, String method, long weights,
               double bitsPerWeight, long binaryBytes, long binaryFloatBytes) {
        Map<String, Object> toJson(boolean binary) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("op", op);
            m.put("output_shape", outputShape);
            m.put("params", params);
            m.put("bytes", bytes);
            if (binary) {
                m.put("method", method);
                m.put("bits_per_weight", bitsPerWeight == 0 ? null : round(bitsPerWeight));
            }
            return m;
        }
    }

    private LayerTable() {
    }

    static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** True when the graph has onebit's binary layers. */
    static boolean isBinary(Graph g) {
        return g.nodes().stream().anyMatch(n -> n.domain().equals(OpRegistry.ONEBIT_DOMAIN));
    }

    static List<Row> of(Graph g) {
        List<Row> rows = new ArrayList<>();
        Set<String> counted = new HashSet<>();
        for (Node n : g.nodes()) {
            long params = 0;
            long bytes = 0;
            long binaryBytes = 0;
            long binaryFloatBytes = 0;
            for (String in : n.inputs()) {
                Tensor t = g.initializer(in);
                if (t != null && counted.add(in)) {
                    long stored = t.type().storageBytes(t.size());
                    params += t.size();
                    bytes += stored;
                    if (t.type() == DataType.BIT) {
                        binaryBytes += stored;
                        binaryFloatBytes += 4L * t.size();
                    }
                }
            }
            ValueInfo vi = n.outputs().isEmpty() ? null : g.valueInfo().get(n.output(0));
            String shape = vi == null || vi.shape() == null ? "?" : vi.shape().toString();
            String method = "";
            long weights = 0;
            double bits = 0;
            boolean binaryLayer = BinaryOps.isBinaryLayer(n);
            if (binaryLayer) {
                Tensor b = g.initializer(n.input(1));
                Tensor alpha = g.initializer(n.input(2));
                method = n.attrString("method", "binary");
                if (b != null && alpha != null) {
                    weights = b.size() / Math.max(1, b.shape()[0]);
                    bits = 8.0 * (b.type().storageBytes(b.size()) + alpha.type().storageBytes(alpha.size())) / weights;
                }
            } else if (isFloatLayer(n) && g.initializer(n.input(1)) != null) {
                method = "float";
                weights = g.initializer(n.input(1)).size();
                bits = 32;
            }
            rows.add(new Row(n.name(), n.opType(), shape, params, bytes, method, weights, bits, binaryBytes,
                    binaryFloatBytes));
        }
        return rows;
    }

    static boolean isFloatLayer(Node n) {
        return n.domain().isEmpty() && (n.opType().equals("Conv") || n.opType().equals("Gemm") || n.opType().equals("MatMul"));
    }

    static String format(List<Row> rows, boolean binary) {
        int wName = "name".length();
        int wOp = "op".length();
        int wShape = "output shape".length();
        for (Row r : rows) {
            wName = Math.max(wName, r.name.length());
            wOp = Math.max(wOp, r.op.length());
            wShape = Math.max(wShape, r.outputShape.length());
        }
        String fmt = "%-" + wName + "s  %-" + wOp + "s  %-" + wShape + "s  %10s  %12s" + (binary ? "  %-7s  %7s" : "")
                + "%n";
        StringBuilder sb = new StringBuilder(binary
                ? String.format(fmt, "name", "op", "output shape", "params", "bytes", "method", "bits/w")
                : String.format(fmt, "name", "op", "output shape", "params", "bytes"));
        for (Row r : rows) {
            sb.append(binary
                    ? String.format(fmt, r.name, r.op, r.outputShape, r.params, r.bytes, r.method,
                            r.bitsPerWeight == 0 ? "" : String.format("%.2f", r.bitsPerWeight))
                    : String.format(fmt, r.name, r.op, r.outputShape, r.params, r.bytes));
        }
        return sb.toString();
    }
}
