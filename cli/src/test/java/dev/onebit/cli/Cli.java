package dev.onebit.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

/** Runs the CLI in-process and captures what it prints; locates the repository's sample files. */
final class Cli {
    record Result(int code, String out, String err) {
    }

    private Cli() {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Result(code, out.toString(), err.toString());
    }

    /** The repository's samples folder (tests run with the module folder as working directory). */
    static Path samples() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("samples").resolve("data"))) {
            p = p.getParent();
        }
        if (p == null) {
            throw new IllegalStateException("samples/ not found above " + Path.of("").toAbsolutePath());
        }
        return p.resolve("samples");
    }

    /** The full Fashion-MNIST test set from Debian's dataset-fashion-mnist package. */
    static Path fullTestImages() {
        Path p = Path.of("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
        if (!Files.exists(p)) {
            throw new IllegalStateException(p + " is missing: install Debian's dataset-fashion-mnist (.ci/run does)");
        }
        return p;
    }
}
