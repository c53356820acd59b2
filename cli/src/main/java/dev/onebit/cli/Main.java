package dev.onebit.cli;

import dev.onebit.ir.ModelException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.Properties;

/**
 * The {@code onebit} command. Exit codes: 0 success, 1 a requested check failed, 2 bad usage
 * or bad input (one line on stderr; the stack trace only with {@code --verbose}).
 */
@Command(name = "onebit", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Turns float ONNX CNNs into 1-bit networks and runs them on the CPU.",
        subcommands = {ConvertCommand.class, VerifyCommand.class, ReportCommand.class, RunCommand.class,
                ExportCommand.class, BenchCommand.class, BenchConvCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code of a successful command. */
    public static final int OK = 0;
    /** Exit code when a check the user asked for failed. */
    public static final int CHECK_FAILED = 1;
    /** Exit code for bad usage or bad input. */
    public static final int BAD_INPUT = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (convert, verify, report, run, export, bench, bench-conv)");
    }

    /** Runs the command line and exits with its code. */
    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line, printing to {@code out} and {@code err}; returns the exit code. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("onebit: " + ex.getMessage() + " (see 'onebit "
                    + (ex.getCommandLine().getParent() == null ? "" : ex.getCommandLine().getCommandName() + " ")
                    + "--help')");
            return BAD_INPUT;
        });
        cl.setExecutionExceptionHandler((ex, c, parse) -> {
            if (verbose) {
                ex.printStackTrace(err);
            }
            if (ex instanceof CheckFailed) {
                err.println("onebit: " + ex.getMessage());
                return CHECK_FAILED;
            }
            err.println("onebit: " + describe(ex) + (verbose || isUserFacing(ex) ? "" : " (--verbose shows where)"));
            return BAD_INPUT;
        });
        int code = cl.execute(args);
        out.flush();
        err.flush();
        return code;
    }

    private static boolean isUserFacing(Throwable ex) {
        return ex instanceof ModelException || ex instanceof UserError || ex instanceof IOException
                || ex instanceof UncheckedIOException;
    }

    /** One line for a failure: the message of errors meant for users, the type and message of others. */
    static String describe(Throwable ex) {
        if (ex instanceof UncheckedIOException u) {
            ex = u.getCause();
        }
        if (ex instanceof NoSuchFileException e) {
            return e.getFile() + ": no such file";
        }
        if (ex instanceof AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (ex instanceof ModelException || ex instanceof UserError) {
            return firstLine(ex.getMessage());
        }
        if (ex instanceof IOException) {
            return firstLine(String.valueOf(ex.getMessage()));
        }
        return "internal error: " + firstLine(String.valueOf(ex));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Version from the build. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("/onebit-version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {"onebit " + p.getProperty("version", "unknown") + " (Java "
                    + Runtime.version() + ", " + (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                    ? "Vector API kernels" : "scalar kernels") + ")"};
        }
    }
}
