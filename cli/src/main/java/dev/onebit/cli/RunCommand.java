package dev.onebit.cli;

import dev.onebit.cli.data.Npy;
import dev.onebit.ir.ValueInfo;
import dev.onebit.onnx.OnnxTensors;
import dev.onebit.runtime.Executor;
import dev.onebit.runtime.Value;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code onebit run}: runs a model on input tensors and shows or saves its outputs. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run a model on input tensors (.npy or ONNX TensorProto .pb) and print its outputs.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL", description = "The model (.onnx or .bnn).")
    Path model;

    @Option(names = "--input", required = true, paramLabel = "[NAME=]FILE",
            description = "An input tensor (.npy or .pb); bound to the graph inputs in order, or to NAME.")
    List<String> inputs;

    @Option(names = "--output", paramLabel = "OUT.npy", description = "Write the first output here as .npy.")
    Path output;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ModelFile m = ModelFile.load(model);
        Map<String, Value> feed = bind(m, inputs);
        Executor executor = Executor.create(m.graph());
        Map<String, Value> results = executor.run(feed);
        PrintWriter out = spec.commandLine().getOut();
        for (Map.Entry<String, Value> e : results.entrySet()) {
            Value v = e.getValue();
            out.println(e.getKey() + " " + v.type.name().toLowerCase() + Arrays.toString(v.shape) + ": " + head(v, 10));
        }
        if (output != null) {
            AtomicFile.write(output, Npy.toBytes(results.values().iterator().next()));
            out.println("wrote " + output);
        }
        return Main.OK;
    }

    static Map<String, Value> bind(ModelFile m, List<String> specs) throws IOException {
        List<ValueInfo> declared = m.graph().inputs();
        Map<String, Value> feed = new LinkedHashMap<>();
        int next = 0;
        for (String s : specs) {
            int eq = s.indexOf('=');
            String name;
            Path file;
            if (eq > 0 && declared.stream().anyMatch(v -> v.name().equals(s.substring(0, eq)))) {
                name = s.substring(0, eq);
                file = Path.of(s.substring(eq + 1));
            } else {
                if (next >= declared.size()) {
                    throw new UserError("too many --input files: " + m.path() + " has " + declared.size() + " input(s)");
                }
                name = declared.get(next++).name();
                file = Path.of(s);
            }
            if (feed.put(name, readTensor(file)) != null) {
                throw new UserError("input '" + name + "' is given twice");
            }
        }
        for (ValueInfo v : declared) {
            if (!feed.containsKey(v.name())) {
                throw new UserError("input '" + v.name() + "' of " + m.path() + " is not given (--input)");
            }
        }
        return feed;
    }

    static Value readTensor(Path file) throws IOException {
        String n = file.getFileName().toString().toLowerCase();
        if (n.endsWith(".npy")) {
            return Npy.read(file);
        }
        if (n.endsWith(".pb")) {
            return Value.of(OnnxTensors.read(file));
        }
        throw new UserError(file + ": unknown tensor format (expected .npy or .pb)");
    }

    static String head(Value v, int n) {
        StringBuilder sb = new StringBuilder("[");
        int k = Math.min(n, v.size());
        for (int i = 0; i < k; i++) {
            sb.append(i > 0 ? ", " : "");
            sb.append(v.isFloat() ? String.format("%.6g", v.floats[i]) : Long.toString(v.longs[i]));
        }
        return sb.append(v.size() > k ? ", ...]" : "]").toString();
    }
}
