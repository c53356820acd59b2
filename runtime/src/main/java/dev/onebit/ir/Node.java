package dev.onebit.ir;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One operator application. Inputs and outputs are value names; an empty string stands for an
 * omitted optional input or output, as in ONNX.
 *
 * @param name node name, unique in the graph (the importer names unnamed nodes)
 * @param opType operator name, such as {@code "Conv"}
 * @param domain operator domain; {@code ""} is the default ONNX domain
 * @param inputs input value names
 * @param outputs output value names
 * @param attributes attributes by name, in the order the model gave them
 */
public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                   Map<String, Attribute> attributes) {

    public Node {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("node has no name");
        }
        if (opType == null || opType.isEmpty()) {
            throw new IllegalArgumentException("node " + name + " has no op type");
        }
        domain = domain == null ? "" : domain;
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
        attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
    }

    /** A default-domain node. */
    public static Node of(String name, String opType, List<String> inputs, List<String> outputs,
                          Map<String, Attribute> attributes) {
        return new Node(name, opType, "", inputs, outputs, attributes);
    }

    /** Input {@code i}, or {@code ""} when it is absent or omitted. */
    public String input(int i) {
        return i < inputs.size() ? inputs.get(i) : "";
    }

    /** True when input {@code i} is given. */
    public boolean hasInput(int i) {
        return !input(i).isEmpty();
    }

    /** Output {@code i}. */
    public String output(int i) {
        return outputs.get(i);
    }

    /** The attribute, or null. */
    public Attribute attr(String key) {
        return attributes.get(key);
    }

    /** An INT attribute, or {@code dflt} when absent. */
    public long attrInt(String key, long dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : a.asInt();
    }

    /** A FLOAT attribute, or {@code dflt} when absent. */
    public float attrFloat(String key, float dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : a.asFloat();
    }

    /** A STRING attribute, or {@code dflt} when absent. */
    public String attrString(String key, String dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : a.asString();
    }

    /** An INTS attribute, or {@code dflt} (not copied) when absent. */
    public long[] attrInts(String key, long[] dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : a.asInts();
    }

    /** A FLOATS attribute, or {@code dflt} (not copied) when absent. */
    public float[] attrFloats(String key, float[] dflt) {
        Attribute a = attributes.get(key);
        return a == null ? dflt : a.asFloats();
    }

    /** A copy of this node with other inputs. */
    public Node withInputs(List<String> newInputs) {
        return new Node(name, opType, domain, newInputs, outputs, attributes);
    }

    /** A copy of this node with other attributes. */
    public Node withAttributes(Map<String, Attribute> newAttributes) {
        return new Node(name, opType, domain, inputs, outputs, newAttributes);
    }

    /** A short description for error messages: name and op type. */
    public String describe() {
        return "node '" + name + "' (" + (domain.isEmpty() ? "" : domain + ".") + opType + ")";
    }
}
