package dev.onebit.binarizer;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which layers stay real-valued. "First" layers have no other layer upstream (normally the Conv
 * fed from the graph input), "last" layers no other layer downstream (normally the classifier);
 * both are where binarization costs the most accuracy for the least saving, so
 * {@link #DEFAULT} keeps them. Layers can also be kept by node name.
 *
 * @param first keep the first layers
 * @param last keep the last layers
 * @param names node names of further layers to keep
 */
public record KeepFloat(boolean first, boolean last, Set<String> names) {
    /** Keep the first and the last layers. */
    public static final KeepFloat DEFAULT = new KeepFloat(true, true, Set.of());
    /** Binarize every layer that can be binarized. */
    public static final KeepFloat NONE = new KeepFloat(false, false, Set.of());

    /** Copies the names. */
    public KeepFloat {
        names = Set.copyOf(new LinkedHashSet<>(names));
    }

    /** Only the named layers. */
    public static KeepFloat names(Collection<String> names) {
        return new KeepFloat(false, false, Set.copyOf(names));
    }

    /**
     * Parses a comma-separated list of {@code default}, {@code first}, {@code last}, {@code none}
     * and node names; the terms add up ({@code none} adds nothing and may only stand alone).
     *
     * @throws IllegalArgumentException for an empty list or {@code none} combined with other terms
     */
    public static KeepFloat parse(String spec) {
        boolean first = false;
        boolean last = false;
        List<String> names = new ArrayList<>();
        List<String> terms = new ArrayList<>();
        for (String t : spec.split(",")) {
            if (!t.isBlank()) {
                terms.add(t.strip());
            }
        }
        if (terms.isEmpty()) {
            throw new IllegalArgumentException("keep-float list is empty (use 'none' to binarize every layer)");
        }
        for (String t : terms) {
            switch (t.toLowerCase(Locale.ROOT)) {
                case "default" -> {
                    first = true;
                    last = true;
                }
                case "first" -> first = true;
                case "last" -> last = true;
                case "none" -> {
                    if (terms.size() > 1) {
                        throw new IllegalArgumentException("'none' cannot be combined with other keep-float terms: " + spec);
                    }
                }
                default -> names.add(t);
            }
        }
        return new KeepFloat(first, last, Set.copyOf(names));
    }

    /** Why the policy keeps a layer float, or null when it does not. */
    String reason(String name, boolean isFirst, boolean isLast) {
        if (names.contains(name)) {
            return "kept float by name";
        }
        if (first && isFirst) {
            return "first layer";
        }
        if (last && isLast) {
            return "last layer";
        }
        return null;
    }
}
