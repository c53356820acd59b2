package dev.onebit.cli;

import dev.onebit.ir.Graph;
import dev.onebit.onnx.OnnxExporter;
import dev.onebit.onnx.passes.LowerBinaryOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code onebit export}: a binarized model as a standard ONNX graph, for ONNX Runtime and Netron. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Write a .bnn model as a standard ONNX graph (Where/Less for the sign, Conv or MatMul with "
                + "+-1 weights, Mul by alpha, Add of the bias) that ONNX Runtime and Netron open. It computes the "
                + "same function; its +-1 weights are float32, so it is not compact.")
final class ExportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "MODEL.bnn", description = "The binarized model.")
    Path model;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "SIM.onnx", description = "The ONNX file to write.")
    Path output;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        ModelFile m = ModelFile.load(model);
        Graph lowered = LowerBinaryOps.apply(m.graph());
        AtomicFile.write(output, OnnxExporter.toBytes(lowered));
        spec.commandLine().getOut().println("wrote " + output + " (" + lowered.nodes().size() + " nodes, opset "
                + lowered.opset() + ")");
        return Main.OK;
    }
}
