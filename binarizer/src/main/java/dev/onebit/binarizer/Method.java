package dev.onebit.binarizer;

import java.util.Locale;

/** How layers are binarized; {@link #id()} is the value of the binary node's {@code method} attribute. */
public enum Method {
    /** Binary weights (sign, per-channel mean |W| scale); activations stay float. */
    BWN("bwn"),
    /** BWN weights and binarized inputs (XNOR-Net). */
    XNOR("xnor"),
    /** XNOR plus a real-valued shortcut around every binary conv (Bi-Real Net). */
    BIREAL("bireal"),
    /** K binary planes per weight (CBD); activations stay float. */
    CBD("cbd");

    private final String id;

    Method(String id) {
        this.id = id;
    }

    /** The lower-case name used in graphs, reports and on the command line. */
    public String id() {
        return id;
    }

    /** True when the method replaces the layer's input by its sign. */
    public boolean binarizesInputs() {
        return this == XNOR || this == BIREAL;
    }

    /**
     * The method named {@code id} (case-insensitive).
     *
     * @throws IllegalArgumentException naming the known methods if there is none
     */
    public static Method parse(String id) {
        for (Method m : values()) {
            if (m.id.equals(id.toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown binarization method '" + id + "' (bwn, xnor, bireal, cbd)");
    }

    /** The method whose {@link #id()} is {@code id}, or null. */
    static Method fromId(String id) {
        for (Method m : values()) {
            if (m.id.equals(id)) {
                return m;
            }
        }
        return null;
    }
}
