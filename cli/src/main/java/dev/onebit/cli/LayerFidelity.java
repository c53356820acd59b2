package dev.onebit.cli;

import dev.onebit.cli.data.Dataset;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Node;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.OpRegistry;
import dev.onebit.runtime.Value;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * How close each binarized layer's output stays to the float model's, measured inside the
 * whole network (errors of earlier layers included): cosine similarity and signal-to-noise
 * ratio {@code 10 log10(|ref|^2 / |ref - out|^2)} over a few batches. The binarizer keeps each
 * layer's output value name, so the two graphs are compared value by value.
 */
final class LayerFidelity {

    /** One layer's figures. */
    record Row(String name, String op, String method, double cosine, double snrDb) {
        Map<String, Object> toJson() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("op", op);
            m.put("method", method);
            m.put("cosine", Math.round(cosine * 1e5) / 1e5);
            m.put("snr_db", Double.isInfinite(snrDb) ? null : LayerTable.round(snrDb));
            return m;
        }
    }

    private LayerFidelity() {
    }

    /** Compares the binarized layers' outputs on the first {@code images} items of {@code data}. */
    static List<Row> measure(Executor reference, Executor binary, Dataset data, int images, int batchSize) {
        Graph g = binary.graph();
        Map<String, Node> layers = new LinkedHashMap<>();
        for (Node n : g.nodes()) {
            if (n.domain().equals(OpRegistry.ONEBIT_DOMAIN) && !n.opType().equals("Binarize")
                    && !n.opType().equals("ActivationScale") && reference.graph().producer(n.output(0)) != null) {
                layers.put(n.output(0), n);
            }
        }
        Set<String> keep = new LinkedHashSet<>(layers.keySet());
        int count = Math.min(images, data.count());
        double[] dot = new double[keep.size()];
        double[] refSq = new double[keep.size()];
        double[] outSq = new double[keep.size()];
        double[] errSq = new double[keep.size()];
        String refInput = reference.graph().inputs().get(0).name();
        String binInput = g.inputs().get(0).name();
        for (int start = 0; start < count; start += batchSize) {
            int n = Math.min(batchSize, count - start);
            Value x = data.batch(start, n);
            Map<String, Value> ref = reference.run(Map.of(refInput, x), keep);
            Map<String, Value> out = binary.run(Map.of(binInput, x), keep);
            int i = 0;
            for (String name : keep) {
                float[] a = ref.get(name).floats;
                float[] b = out.get(name).floats;
                for (int k = 0; k < a.length; k++) {
                    dot[i] += (double) a[k] * b[k];
                    refSq[i] += (double) a[k] * a[k];
                    outSq[i] += (double) b[k] * b[k];
                    double d = (double) a[k] - b[k];
                    errSq[i] += d * d;
                }
                i++;
            }
        }
        List<Row> rows = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, Node> e : layers.entrySet()) {
            Node node = e.getValue();
            double cos = refSq[i] == 0 || outSq[i] == 0 ? 0 : dot[i] / Math.sqrt(refSq[i] * outSq[i]);
            double snr = errSq[i] == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(refSq[i] / errSq[i]);
            rows.add(new Row(node.name(), node.opType(), node.attrString("method", ""), cos, snr));
            i++;
        }
        return rows;
    }
}
