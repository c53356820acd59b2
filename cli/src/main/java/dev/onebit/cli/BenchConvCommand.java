package dev.onebit.cli;

import dev.onebit.cli.bench.FloatConvBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/** {@code onebit bench-conv}: the float Conv kernel against ONNX Runtime on typical CNN layers. */
@Command(name = "bench-conv", mixinStandardHelpOptions = true,
        description = "Time onebit's float Conv against ONNX Runtime's on three typical CNN layers "
                + "(3x3 64->64 @56x56, 3x3 256->256 @14x14, 7x7/2 3->64 @224x224), single thread, "
                + "side by side in this process; prints the medians and the throughput ratio.")
final class BenchConvCommand implements Callable<Integer> {

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "100",
            description = "Untimed runs per layer and side (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "40",
            description = "Timed runs per layer and side, alternating (default: ${DEFAULT-VALUE}).")
    int runs;

    @Mixin
    VerboseOption verbose;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (warmup < 0 || runs < 1) {
            throw new UserError("--warmup must be at least 0 and --runs at least 1");
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            FloatConvBench.run(warmup, runs, ps);
        }
        spec.commandLine().getOut().print(buf.toString(StandardCharsets.UTF_8));
        return Main.OK;
    }
}
