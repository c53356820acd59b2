package dev.onebit.cli;

import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Shape;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxImporter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A model file given on the command line, read into the IR. */
record ModelFile(Path path, Graph graph, long fileBytes) {

    /**
     * Reads an {@code .onnx} model.
     *
     * @throws ModelException naming the file when it is missing, malformed or unsupported
     */
    static ModelFile load(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new ModelException(path + ": no such file");
        }
        String name = path.getFileName().toString().toLowerCase();
        if (!name.endsWith(".onnx")) {
            throw new ModelException(path + ": unknown model format (expected an .onnx file)");
        }
        return new ModelFile(path, OnnxImporter.read(path), Files.size(path));
    }

    /** Shape of one item of the first input (without the batch dimension), or null if not fixed. */
    int[] itemShape() {
        ValueInfo in = graph.inputs().get(0);
        Shape s = in.shape();
        if (s == null || s.rank() < 2) {
            return null;
        }
        int[] item = new int[s.rank() - 1];
        for (int d = 1; d < s.rank(); d++) {
            Dim dim = s.dim(d);
            if (!dim.isFixed()) {
                return null;
            }
            item[d - 1] = (int) dim.size();
        }
        return item;
    }
}
