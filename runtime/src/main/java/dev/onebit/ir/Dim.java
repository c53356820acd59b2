package dev.onebit.ir;

/**
 * One dimension of a {@link Shape}: a fixed size, a named symbol (such as a dynamic batch
 * {@code "N"}), or unknown.
 *
 * @param size the size, or -1 when not fixed
 * @param symbol the symbol's name when the dimension is symbolic, otherwise null
 */
public record Dim(long size, String symbol) {

    /** A dimension whose size is neither fixed nor named. */
    public static final Dim UNKNOWN = new Dim(-1, null);

    public Dim {
        if (size < -1) {
            throw new IllegalArgumentException("dimension size " + size);
        }
        if (size >= 0 && symbol != null) {
            throw new IllegalArgumentException("a fixed dimension has no symbol");
        }
    }

    /** A fixed dimension. */
    public static Dim of(long size) {
        if (size < 0) {
            throw new IllegalArgumentException("negative dimension " + size);
        }
        return new Dim(size, null);
    }

    /** A symbolic dimension named {@code symbol}. */
    public static Dim symbol(String symbol) {
        return new Dim(-1, symbol);
    }

    /** True when the size is known. */
    public boolean isFixed() {
        return size >= 0;
    }

    @Override
    public String toString() {
        return size >= 0 ? Long.toString(size) : symbol != null ? symbol : "?";
    }
}
