package dev.onebit.cli;

import picocli.CommandLine.Option;

/**
 * {@code --verbose}, which every command accepts. {@link Main} reads it from the raw arguments
 * before parsing, so that an error in parsing itself can show its stack trace too; this mixin
 * only makes picocli accept and document it.
 */
final class VerboseOption {
    @Option(names = "--verbose", description = "Show stack traces of errors.")
    boolean verbose;
}
