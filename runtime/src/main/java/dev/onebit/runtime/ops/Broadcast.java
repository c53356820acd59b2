package dev.onebit.runtime.ops;

import dev.onebit.ir.DataType;
import dev.onebit.runtime.Value;

import java.util.Arrays;

/**
 * Numpy-style multidirectional broadcasting for binary element-wise operators.
 *
 * <p>The output is walked as rows: dimensions of size 1 are dropped and neighbouring dimensions
 * that both operands traverse the same way are merged, so the common cases (equal shapes, a
 * scalar, a per-channel {@code [C,1,1]} operand) become a few long rows in which each operand
 * either advances by one or stays put. Only the row loops touch every element.
 */
final class Broadcast {
    /** The arithmetic operators, as codes so the row loops can switch outside the element loop. */
    static final int ADD = 0, SUB = 1, MUL = 2, DIV = 3, PRELU = 4;

    private Broadcast() {
    }

    /** One run of {@code n} output elements; operand offsets advance by {@code sa}/{@code sb} (0 or 1). */
    @FunctionalInterface
    interface Row {
        void run(int ao, int sa, int bo, int sb, int oo, int n);
    }

    /**
     * The broadcast shape of {@code a} and {@code b}.
     *
     * @throws IllegalArgumentException if they do not broadcast
     */
    static int[] shape(int[] a, int[] b) {
        int r = Math.max(a.length, b.length);
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.length ? 1 : a[i - (r - a.length)];
            int db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Calls {@code row} for every row of the output {@code out} broadcast from {@code a} and {@code b}. */
    static void forEach(int[] out, int[] a, int[] b, Row row) {
        int r = out.length;
        int total = Value.count(out);
        if (total == 0) {
            return;
        }
        int[] sa = strides(a, out);
        int[] sb = strides(b, out);
        // Kept dimensions, innermost first; merging needs each operand to be either contiguous
        // across the pair or constant across it.
        int[] dims = new int[r];
        int[] da = new int[r];
        int[] db = new int[r];
        int k = 0;
        for (int d = r - 1; d >= 0; d--) {
            if (out[d] == 1) {
                continue;
            }
            if (k > 0 && sa[d] == da[k - 1] * dims[k - 1] && sb[d] == db[k - 1] * dims[k - 1]) {
                dims[k - 1] *= out[d];
                continue;
            }
            dims[k] = out[d];
            da[k] = sa[d];
            db[k] = sb[d];
            k++;
        }
        if (k == 0) {
            row.run(0, 0, 0, 0, 0, 1);
            return;
        }
        int n = dims[0];
        int[] pos = new int[k];
        int ao = 0;
        int bo = 0;
        for (int oo = 0; oo < total; oo += n) {
            row.run(ao, da[0], bo, db[0], oo, n);
            for (int d = 1; d < k; d++) {
                ao += da[d];
                bo += db[d];
                if (++pos[d] < dims[d]) {
                    break;
                }
                pos[d] = 0;
                ao -= da[d] * dims[d];
                bo -= db[d] * dims[d];
            }
        }
    }

    /** Element strides of {@code shape} aligned to the right of {@code out}; 0 where it is broadcast. */
    private static int[] strides(int[] shape, int[] out) {
        int r = out.length;
        int[] s = new int[r];
        int step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            int d = i + r - shape.length;
            s[d] = shape[i] == 1 ? 0 : step;
            step *= shape[i];
        }
        return s;
    }

    /** {@code a op b} in float, broadcast to {@code out}. */
    static float[] floats(int op, float[] x, int[] a, float[] y, int[] b, int[] out) {
        // forEach visits every output element once: a recycled array's stale values are all overwritten.
        float[] z = dev.onebit.runtime.Buffers.floats(Value.count(out));
        forEach(out, a, b, (ao, sa, bo, sb, oo, n) -> floatRow(op, x, ao, sa, y, bo, sb, z, oo, n));
        return z;
    }

    /*
     * One loop per operator and operand pattern (both advance, b fixed, a fixed) so that each
     * loop is a plain array walk the JIT can vectorize. With sb == 0, sa is 1 or the row has one
     * element, so indexing a with i is right in both cases; likewise for sa == 0.
     */
    private static void floatRow(int op, float[] x, int ao, int sa, float[] y, int bo, int sb, float[] z, int oo, int n) {
        int pattern = sb == 0 ? 1 : sa == 0 ? 2 : 0;
        float p = x[ao];
        float q = y[bo];
        switch (op * 3 + pattern) {
            case ADD * 3 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] + y[bo + i]; }
            case ADD * 3 + 1 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] + q; }
            case ADD * 3 + 2 -> { for (int i = 0; i < n; i++) z[oo + i] = p + y[bo + i]; }
            case SUB * 3 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] - y[bo + i]; }
            case SUB * 3 + 1 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] - q; }
            case SUB * 3 + 2 -> { for (int i = 0; i < n; i++) z[oo + i] = p - y[bo + i]; }
            case MUL * 3 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] * y[bo + i]; }
            case MUL * 3 + 1 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] * q; }
            case MUL * 3 + 2 -> { for (int i = 0; i < n; i++) z[oo + i] = p * y[bo + i]; }
            case DIV * 3 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] / y[bo + i]; }
            case DIV * 3 + 1 -> { for (int i = 0; i < n; i++) z[oo + i] = x[ao + i] / q; }
            case DIV * 3 + 2 -> { for (int i = 0; i < n; i++) z[oo + i] = p / y[bo + i]; }
            default -> {
                // PRelu: slope y; X never broadcasts, so sa is 1 here.
                for (int i = 0; i < n; i++) {
                    float v = x[ao + i];
                    z[oo + i] = v < 0 ? v * y[bo + i * sb] : v;
                }
            }
        }
    }

    /**
     * {@code a op b} on integers of element type {@code type}, broadcast to {@code out}, wrapped
     * to the type's range; division truncates toward zero.
     */
    static long[] longs(int op, DataType type, long[] x, int[] a, long[] y, int[] b, int[] out) {
        long[] z = new long[Value.count(out)];
        forEach(out, a, b, (ao, sa, bo, sb, oo, n) -> {
            for (int i = 0; i < n; i++) {
                long p = x[ao + i * sa];
                long q = y[bo + i * sb];
                long v = switch (op) {
                    case ADD -> p + q;
                    case SUB -> p - q;
                    case MUL -> p * q;
                    case DIV -> {
                        if (q == 0) {
                            throw new ArithmeticException("integer division by zero");
                        }
                        yield p / q;
                    }
                    case PRELU -> p < 0 ? p * q : p;
                    default -> throw new IllegalStateException("op " + op);
                };
                z[oo + i] = OpUtil.narrow(type, v);
            }
        });
        return z;
    }
}
