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

/** {@code onebit report}: per-layer sizes and totals of a model, and its top-1 on data. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Show a model's layers (output shape, parameters, bytes; for a .bnn also method and bits per "
                + "weight), totals (for a .bnn: container against source ONNX, and binary tensors against float32), "
                + "and top-1 accuracy with --data.")
final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model (.onnx or .bnn).")
    Path model;

    @Mixin
    DataOptions dataOptions;

    @Option(names = "--json", description = "Print one JSON object (keys: model, layers, totals, top1) instead of tables.")
    boolean json;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private static long sourceBytes(ModelFile m) {
        try {
            return Long.parseLong(m.metadata().getOrDefault(ModelFile.META_SOURCE_BYTES, "0"));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public Integer call() throws IOException {
        ModelFile m = ModelFile.load(model);
        Dataset data = dataOptions.load(m);
        List<LayerTable.Row> rows = LayerTable.of(m.graph());
        boolean binary = m.isBnn();
        Sizes sizes = binary ? Sizes.of(m.graph(), m.fileBytes(), sourceBytes(m)) : null;
        long params = rows.stream().mapToLong(LayerTable.Row::params).sum();
        long bytes = rows.stream().mapToLong(LayerTable.Row::bytes).sum();
        Top1 top1 = null;
        long millis = 0;
        if (data != null) {
            Executor executor = Executor.create(m.graph());
            long t0 = System.nanoTime();
            top1 = Top1.evaluate(executor, data, dataOptions.batchSize);
            millis = (System.nanoTime() - t0) / 1_000_000;
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", m.path().toString());
            o.put("file_bytes", m.fileBytes());
            o.put("opset", m.graph().opset());
            o.put("inputs", m.graph().inputs().stream().map(Object::toString).toList());
            o.put("outputs", m.graph().outputs().stream().map(Object::toString).toList());
            List<Object> layers = new ArrayList<>();
            rows.forEach(r -> layers.add(r.toJson(binary)));
            o.put("layers", layers);
            o.put("total_params", params);
            o.put("total_bytes", bytes);
            if (binary) {
                o.put("metadata", m.metadata());
                sizes.putJson(o);
            }
            if (top1 != null) {
                o.put("top1", top1.fraction());
                o.put("correct", top1.correct());
                o.put("count", top1.count());
            }
            out.println(Json.write(o));
            return Main.OK;
        }
        out.println(m.path() + "  (opset " + m.graph().opset() + ", " + m.graph().nodes().size() + " nodes)");
        out.println("inputs:  " + m.graph().inputs());
        out.println("outputs: " + m.graph().outputs());
        out.println();
        if (binary) {
            out.println("method: " + m.metadata().getOrDefault(ModelFile.META_METHOD, "?") + ", kept float: "
                    + m.metadata().getOrDefault(ModelFile.META_POLICY, "?") + ", calibration: "
                    + m.metadata().getOrDefault(ModelFile.META_CALIBRATION, "?") + ", source: "
                    + m.metadata().getOrDefault(ModelFile.META_SOURCE, "?"));
        }
        out.println();
        out.print(LayerTable.format(rows, binary));
        out.println();
        out.printf("total: %,d parameters, %,d bytes of tensors, file %,d bytes%n", params, bytes, m.fileBytes());
        if (binary) {
            sizes.print(out);
        }
        if (top1 != null) {
            out.printf("top-1: %.4f (%d / %d images, %.1f s)%n", top1.fraction(), top1.correct(), top1.count(),
                    millis / 1000.0);
        }
        return Main.OK;
    }
}
