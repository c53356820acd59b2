package dev.onebit.cli;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Graph;
import dev.onebit.ir.Tensor;

import java.io.PrintWriter;
import java.util.Map;

/**
 * Size totals of a binarized model, told apart honestly: the whole container against the
 * source ONNX file (what a user saves on disk), and the binary tensors alone against their
 * float32 form (where "32x" comes from; it is only true of them).
 *
 * @param containerBytes bytes of the .bnn file
 * @param sourceBytes bytes of the source ONNX file, or 0 when unknown
 * @param binaryBytes stored bytes of all BIT tensors
 * @param binaryFloatBytes bytes those tensors' elements take as float32
 * @param realBytes stored (uncompressed) bytes of all other tensors
 */
record Sizes(long containerBytes, long sourceBytes, long binaryBytes, long binaryFloatBytes, long realBytes) {

    static Sizes of(Graph g, long containerBytes, long sourceBytes) {
        long bin = 0;
        long binFloat = 0;
        long real = 0;
        for (Tensor t : g.initializers().values()) {
            if (t.type() == DataType.BIT) {
                bin += t.type().storageBytes(t.size());
                binFloat += 4L * t.size();
            } else {
                real += t.type().storageBytes(t.size());
            }
        }
        return new Sizes(containerBytes, sourceBytes, bin, binFloat, real);
    }

    double containerRatio() {
        return sourceBytes == 0 ? 0 : (double) sourceBytes / containerBytes;
    }

    double binaryRatio() {
        return binaryBytes == 0 ? 0 : (double) binaryFloatBytes / binaryBytes;
    }

    void putJson(Map<String, Object> o) {
        o.put("container_bytes", containerBytes);
        o.put("source_bytes", sourceBytes == 0 ? null : sourceBytes);
        o.put("ratio", sourceBytes == 0 ? null : LayerTable.round(containerRatio()));
        o.put("binary_tensor_bytes", binaryBytes);
        o.put("binary_tensor_float32_bytes", binaryFloatBytes);
        o.put("binary_tensor_ratio", binaryBytes == 0 ? null : LayerTable.round(binaryRatio()));
        o.put("real_tensor_bytes", realBytes);
    }

    void print(PrintWriter out) {
        if (sourceBytes > 0) {
            out.printf("container: %,d bytes; source ONNX %,d bytes: %.1fx smaller%n", containerBytes, sourceBytes,
                    containerRatio());
        } else {
            out.printf("container: %,d bytes%n", containerBytes);
        }
        if (binaryBytes > 0) {
            out.printf("binary tensors: %,d bytes, %,d as float32: %.1fx smaller (real-valued tensors: %,d bytes)%n",
                    binaryBytes, binaryFloatBytes, binaryRatio(), realBytes);
        }
    }
}
