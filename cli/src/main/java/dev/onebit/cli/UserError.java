package dev.onebit.cli;

/** Bad usage or bad input the user can fix: printed as one line, exit code 2. */
final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UserError(String message) {
        super(message);
    }
}
