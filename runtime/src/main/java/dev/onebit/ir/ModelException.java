package dev.onebit.ir;

/**
 * A model that cannot be read, checked or run: malformed file, invalid graph, unsupported
 * operator, bad input. The message is one line that names the file, node or offset at fault,
 * fit to show a user as it is.
 */
public class ModelException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** An error with a one-line message. */
    public ModelException(String message) {
        super(message);
    }

    /** An error with a one-line message and its cause. */
    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
