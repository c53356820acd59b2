package dev.onebit.cli;

import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Per-node sizes of a graph: the constant tensors each node reads, counted once per tensor. */
final class LayerTable {

    record Row(String name, String op, String outputShape, long params, long bytes) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("op", op);
            m.put("output_shape", outputShape);
            m.put("params", params);
            m.put("bytes", bytes);
            return m;
        }
    }

    private LayerTable() {
    }

    static List<Row> of(Graph g) {
        List<Row> rows = new ArrayList<>();
        Set<String> counted = new HashSet<>();
        for (Node n : g.nodes()) {
            long params = 0;
            long bytes = 0;
            for (String in : n.inputs()) {
                Tensor t = g.initializer(in);
                if (t != null && counted.add(in)) {
                    params += t.size();
                    bytes += (long) t.size() * t.type().byteSize();
                }
            }
            ValueInfo vi = n.outputs().isEmpty() ? null : g.valueInfo().get(n.output(0));
            String shape = vi == null || vi.shape() == null ? "?" : vi.shape().toString();
            rows.add(new Row(n.name(), n.opType(), shape, params, bytes));
        }
        return rows;
    }

    static String format(List<Row> rows) {
        int wName = "name".length();
        int wOp = "op".length();
        int wShape = "output shape".length();
        for (Row r : rows) {
            wName = Math.max(wName, r.name.length());
            wOp = Math.max(wOp, r.op.length());
            wShape = Math.max(wShape, r.outputShape.length());
        }
        String fmt = "%-" + wName + "s  %-" + wOp + "s  %-" + wShape + "s  %10s  %12s%n";
        StringBuilder sb = new StringBuilder(String.format(fmt, "name", "op", "output shape", "params", "bytes"));
        for (Row r : rows) {
            sb.append(String.format(fmt, r.name, r.op, r.outputShape, r.params, r.bytes));
        }
        return sb.toString();
    }
}
