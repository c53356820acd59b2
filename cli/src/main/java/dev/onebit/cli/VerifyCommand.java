package dev.onebit.cli;

import dev.onebit.cli.data.Dataset;
import dev.onebit.runtime.Executor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code onebit verify}: a binarized model against its float original on labelled data. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = "Compare a .bnn model with the float ONNX model it came from: top-1 of both, how often they "
                + "agree, and per binarized layer the cosine similarity and SNR of its output against the float "
                + "layer's (inside the whole network). Exit code 1 when the top-1 drop exceeds --max-drop.")
final class VerifyCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.bnn", description = "The binarized model.")
    Path model;

    @Option(names = "--against", required = true, paramLabel = "IN.onnx", description = "The float model.")
    Path against;

    @Option(names = "--max-drop", paramLabel = "POINTS",
            description = "Fail (exit 1) when top-1 is more than this many percentage points below the float model's.")
    Double maxDrop;

    @Option(names = "--layer-images", paramLabel = "N", defaultValue = "200",
            description = "Images for the per-layer comparison (default: ${DEFAULT-VALUE}).")
    int layerImages;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--json", description = "Print one JSON object (reference_top1, top1, agreement, layers).")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (dataOptions.data == null) {
            throw new UserError("verify needs --data (labelled images)");
        }
        if (maxDrop != null && maxDrop < 0) {
            throw new UserError("--max-drop must not be negative");
        }
        ModelFile bnn = ModelFile.load(model);
        ModelFile ref = ModelFile.loadOnnx(against);
        Dataset data = dataOptions.load(bnn);
        Executor binary = Executor.create(bnn.graph());
        Executor reference = Executor.create(ref.graph());
        int[] predicted = Top1.predict(binary, data, dataOptions.batchSize);
        int[] expected = Top1.predict(reference, data, dataOptions.batchSize);
        Top1 top1 = Top1.of(predicted, data);
        Top1 refTop1 = Top1.of(expected, data);
        int same = 0;
        for (int i = 0; i < predicted.length; i++) {
            same += predicted[i] == expected[i] ? 1 : 0;
        }
        double agreement = predicted.length == 0 ? 0 : (double) same / predicted.length;
        List<LayerFidelity.Row> layers = LayerFidelity.measure(reference, binary, data, layerImages,
                dataOptions.batchSize);
        double drop = 100 * (refTop1.fraction() - top1.fraction());
        boolean failed = maxDrop != null && drop > maxDrop + 1e-9;

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", model.toString());
            o.put("against", against.toString());
            o.put("count", top1.count());
            o.put("reference_top1", refTop1.fraction());
            o.put("top1", top1.fraction());
            o.put("drop_points", LayerTable.round(drop));
            o.put("agreement", agreement);
            List<Object> rows = new ArrayList<>();
            layers.forEach(r -> rows.add(r.toJson()));
            o.put("layers", rows);
            o.put("max_drop", maxDrop);
            o.put("passed", !failed);
            out.println(Json.write(o));
        } else {
            out.printf("%-40s %8s  %8s  %s%n", "binarized layer", "cosine", "SNR dB", "method");
            for (LayerFidelity.Row r : layers) {
                out.printf("%-40s %8.4f  %8.2f  %s%n", r.name(), r.cosine(), r.snrDb(), r.method());
            }
            out.println();
            out.printf("top-1: %.4f float (%s), %.4f binarized (%s): %+.2f points; agreement %.4f on %d images%n",
                    refTop1.fraction(), against.getFileName(), top1.fraction(), model.getFileName(), -drop, agreement,
                    top1.count());
        }
        out.flush();
        if (failed) {
            throw new CheckFailed(String.format("top-1 dropped %.2f points, more than --max-drop %s", drop, maxDrop));
        }
        return Main.OK;
    }
}
