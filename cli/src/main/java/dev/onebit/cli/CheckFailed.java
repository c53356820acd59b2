package dev.onebit.cli;

/** A check the user asked for did not pass (for example an accuracy drop limit): exit code 1. */
final class CheckFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CheckFailed(String message) {
        super(message);
    }
}
