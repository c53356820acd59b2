package dev.onebit.ir;

import java.util.Arrays;
import java.util.List;

/**
 * A typed node attribute. Values are immutable: array-valued attributes are copied in and out.
 */
public final class Attribute {
    /** The attribute kinds onebit reads; ONNX's graph-valued attributes are not among them. */
    public enum Kind { FLOAT, INT, STRING, TENSOR, FLOATS, INTS, STRINGS }

    private final Kind kind;
    private final Object value;

    private Attribute(Kind kind, Object value) {
        this.kind = kind;
        this.value = value;
    }

    /** A float attribute. */
    public static Attribute of(float v) {
        return new Attribute(Kind.FLOAT, v);
    }

    /** An int attribute. */
    public static Attribute of(long v) {
        return new Attribute(Kind.INT, v);
    }

    /** A string attribute. */
    public static Attribute of(String v) {
        return new Attribute(Kind.STRING, v);
    }

    /** A tensor attribute. */
    public static Attribute of(Tensor v) {
        return new Attribute(Kind.TENSOR, v);
    }

    /** A list-of-floats attribute. */
    public static Attribute ofFloats(float... v) {
        return new Attribute(Kind.FLOATS, v.clone());
    }

    /** A list-of-ints attribute. */
    public static Attribute ofInts(long... v) {
        return new Attribute(Kind.INTS, v.clone());
    }

    /** A list-of-strings attribute. */
    public static Attribute ofStrings(List<String> v) {
        return new Attribute(Kind.STRINGS, List.copyOf(v));
    }

    /** What kind of value this is. */
    public Kind kind() {
        return kind;
    }

    private void expect(Kind k) {
        if (kind != k) {
            throw new IllegalStateException("attribute is " + kind + ", not " + k);
        }
    }

    /** The float value (an INT attribute is widened, as exporters sometimes write ints). */
    public float asFloat() {
        if (kind == Kind.INT) {
            return (Long) value;
        }
        expect(Kind.FLOAT);
        return (Float) value;
    }

    /** The int value. */
    public long asInt() {
        expect(Kind.INT);
        return (Long) value;
    }

    /** The string value. */
    public String asString() {
        expect(Kind.STRING);
        return (String) value;
    }

    /** The tensor value. */
    public Tensor asTensor() {
        expect(Kind.TENSOR);
        return (Tensor) value;
    }

    /** A copy of the float list. */
    public float[] asFloats() {
        expect(Kind.FLOATS);
        return ((float[]) value).clone();
    }

    /** A copy of the int list. */
    public long[] asInts() {
        expect(Kind.INTS);
        return ((long[]) value).clone();
    }

    /** The string list. */
    @SuppressWarnings("unchecked")
    public List<String> asStrings() {
        expect(Kind.STRINGS);
        return (List<String>) value;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof Attribute a) || a.kind != kind) {
            return false;
        }
        return switch (kind) {
            case FLOATS -> Arrays.equals((float[]) value, (float[]) a.value);
            case INTS -> Arrays.equals((long[]) value, (long[]) a.value);
            default -> value.equals(a.value);
        };
    }

    @Override
    public int hashCode() {
        return switch (kind) {
            case FLOATS -> Arrays.hashCode((float[]) value);
            case INTS -> Arrays.hashCode((long[]) value);
            default -> value.hashCode();
        };
    }

    @Override
    public String toString() {
        return switch (kind) {
            case FLOATS -> Arrays.toString((float[]) value);
            case INTS -> Arrays.toString((long[]) value);
            default -> String.valueOf(value);
        };
    }
}
