package dev.onebit.runtime;

import dev.onebit.ir.DataType;
import dev.onebit.ir.Dim;
import dev.onebit.ir.Graph;
import dev.onebit.ir.ModelException;
import dev.onebit.ir.Node;
import dev.onebit.ir.Shape;
import dev.onebit.ir.Tensor;
import dev.onebit.ir.ValueInfo;
import dev.onebit.runtime.ops.BinaryOps;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs a {@link Graph} on the CPU in float32. Creating an executor prepares one {@link Kernel}
 * per node and evaluates once every node whose inputs are all constant; {@link #run} then only
 * does the per-input work. Some pairs of nodes run as one, with the bits the pair gives
 * ({@link ScaleFusion}, {@link AddFusion}); a run that asks for a value such a pair does not
 * compute runs the graph node by node. An executor is immutable after creation and safe to
 * share between threads.
 */
public final class Executor {
    private final Graph graph;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Kernel> kernels = new ArrayList<>();
    /** Per node: run it with {@link SignKernel#runSigns} (see {@link SignPlan}). */
    private final boolean[] emitSigns;
    private final Map<String, Value> constants = new HashMap<>();
    /**
     * BIT initializers, which stay packed: the binary kernels take them from their node's
     * constants when they are made, and a float copy (32 times larger: 45 MB for ResNet-18's
     * weights) is only made, once, for a node that reads one as a value ({@link #bitValue}).
     */
    private final Map<String, Tensor> bitConstants = new HashMap<>();
    /** The BIT initializers as shape-only values, for shape inference and the binary layers' weight inputs. */
    private final Map<String, Value> bitShapes = new HashMap<>();
    private final Map<String, Value> bitValues = new ConcurrentHashMap<>();
    /** Index in {@link #nodes} of the last node reading each value; values die after it. */
    private final Map<String, Integer> lastUse = new HashMap<>();
    /** The arrays of the constants, by identity: never recycled (see {@link Buffers}). */
    private final Set<float[]> constantArrays = java.util.Collections.newSetFromMap(new ConcurrentHashMap<>());
    private final OpRegistry registry;
    /** Values of the graph that the fused schedule ({@link ScaleFusion}, {@link AddFusion}) does not compute. */
    private final Set<String> fusedAway;
    /** The graph without fusions, made when a run asks for a value in {@link #fusedAway}. */
    private volatile Executor literal;

    private Executor(Graph graph, OpRegistry registry, boolean fuse) {
        this.graph = graph;
        this.registry = registry;
        List<Node> missing = registry.unsupported(graph);
        if (!missing.isEmpty()) {
            throw unsupportedError(missing, graph);
        }
        Map<String, Tensor> constantTensors = new HashMap<>(graph.initializers());
        for (Map.Entry<String, Tensor> e : graph.initializers().entrySet()) {
            if (e.getValue().type() == DataType.BIT) {
                bitConstants.put(e.getKey(), e.getValue());
                bitShapes.put(e.getKey(), Value.shapeOnly(e.getValue().shape()));
            } else {
                constants.put(e.getKey(), Value.of(e.getValue()));
            }
        }
        for (Node node : graph.nodes()) {
            int opset = OpRegistry.opsetOf(graph, node);
            NodeContext ctx = new NodeContext(node, opset, constantTensors::get);
            Kernel kernel = registry.find(node.domain(), node.opType(), opset).factory().create(ctx);
            if (allInputsConstant(node)) {
                Value[] out = kernel.run(gather(node, constants, false));
                for (int i = 0; i < node.outputs().size(); i++) {
                    String name = node.output(i);
                    if (!name.isEmpty() && i < out.length && out[i] != null) {
                        constants.put(name, out[i]);
                        constantTensors.put(name, out[i].toTensor());
                    }
                }
                continue;
            }
            nodes.add(node);
            kernels.add(SignPlan.wrap(node, kernel));
        }
        Set<String> outputNames = new java.util.HashSet<>();
        graph.outputs().forEach(o -> outputNames.add(o.name()));
        if (fuse) {
            Schedule scales = ScaleFusion.apply(nodes, kernels, outputNames);
            Schedule adds = AddFusion.apply(scales.nodes(), scales.kernels(), outputNames);
            nodes.clear();
            nodes.addAll(adds.nodes());
            kernels.clear();
            kernels.addAll(adds.kernels());
            Set<String> away = new java.util.HashSet<>(scales.dropped());
            away.addAll(adds.dropped());
            fusedAway = Set.copyOf(away);
        } else {
            fusedAway = Set.of();
        }
        this.emitSigns = SignPlan.emitters(nodes, kernels, outputNames);
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).inputs()) {
                if (!in.isEmpty()) {
                    lastUse.put(in, i);
                }
            }
        }
        for (Value v : constants.values()) {
            if (v.floats != null) {
                constantArrays.add(v.floats);
            }
        }
    }

    private boolean allInputsConstant(Node node) {
        for (String in : node.inputs()) {
            if (!in.isEmpty() && !constants.containsKey(in) && !bitConstants.containsKey(in)) {
                return false;
            }
        }
        return true;
    }

    /** The one error that lists every unsupported node of a graph. */
    public static ModelException unsupportedError(List<Node> missing, Graph graph) {
        StringBuilder sb = new StringBuilder();
        sb.append(missing.size()).append(missing.size() == 1 ? " unsupported node: " : " unsupported nodes: ");
        for (int i = 0; i < missing.size(); i++) {
            Node n = missing.get(i);
            if (i > 0) {
                sb.append("; ");
            }
            sb.append(n.name()).append(" (").append(n.opType()).append(", domain '")
                    .append(n.domain().isEmpty() ? "ai.onnx" : n.domain()).append("', opset ")
                    .append(OpRegistry.opsetOf(graph, n)).append(')');
        }
        return new ModelException(sb.toString());
    }

    /**
     * Prepares a graph with the standard operator set.
     *
     * @throws ModelException listing every unsupported node, or naming an invalid one
     */
    public static Executor create(Graph graph) {
        return new Executor(graph, OpRegistry.standard(), true);
    }

    /**
     * Prepares a graph with the operators of {@code registry}, such as
     * {@link OpRegistry#reference()}.
     *
     * @throws ModelException listing every unsupported node, or naming an invalid one
     */
    public static Executor create(Graph graph, OpRegistry registry) {
        return new Executor(graph, registry, true);
    }

    /**
     * The nodes whose output stays bit-packed when the graph runs ({@link SignPlan}), by name,
     * in execution order: for diagnostics, and for tests that must know the packed path ran.
     */
    public List<String> packedOutputNodes() {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            if (emitSigns[i]) {
                l.add(nodes.get(i).name());
            }
        }
        return l;
    }

    /** The graph this executor runs. */
    public Graph graph() {
        return graph;
    }

    /**
     * Runs the graph.
     *
     * @param inputs graph input name to value; every graph input must be given
     * @return graph output name to value, in the graph's output order
     * @throws ModelException if an input is missing or does not fit, naming it
     */
    public Map<String, Value> run(Map<String, Value> inputs) {
        return run(inputs, Set.of());
    }

    /**
     * Runs the graph and also returns the intermediate values named in {@code alsoKeep}.
     * A graph whose first input dimension is fixed at 1, given a larger batch, is run once per
     * item and the outputs are concatenated.
     */
    public Map<String, Value> run(Map<String, Value> inputs, Set<String> alsoKeep) {
        if (!fusedAway.isEmpty() && alsoKeep.stream().anyMatch(fusedAway::contains)) {
            return literal().run(inputs, alsoKeep);
        }
        int batch = splitBatch(inputs);
        if (batch > 1) {
            List<Map<String, Value>> parts = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                Map<String, Value> one = new LinkedHashMap<>();
                for (Map.Entry<String, Value> e : inputs.entrySet()) {
                    one.put(e.getKey(), sliceBatch(e.getValue(), b));
                }
                parts.add(runOnce(one, alsoKeep, false, null));
            }
            Map<String, Value> joined = new LinkedHashMap<>();
            for (String name : parts.get(0).keySet()) {
                Value[] items = new Value[batch];
                for (int b = 0; b < batch; b++) {
                    items[b] = parts.get(b).get(name);
                }
                joined.put(name, concatBatch(items));
            }
            return joined;
        }
        return runOnce(inputs, alsoKeep, false, null);
    }

    /**
     * The nodes that run per call (those with a non-constant input), in execution order: the
     * indices of {@link #runProfiled}'s times. A fused pair appears as one node of its own type
     * ({@code Binarize+ActivationScale}, {@code BinaryConv+Add}), named after one of the pair.
     */
    public List<Node> scheduledNodes() {
        return List.copyOf(nodes);
    }

    /**
     * Runs the graph as {@link #run(Map)} does (one batch, not split), adding each scheduled
     * node's wall time in nanoseconds to {@code nanos[i]}: a profile of where a call's time goes.
     *
     * @param nanos at least {@code scheduledNodes().size()} counters
     */
    public Map<String, Value> runProfiled(Map<String, Value> inputs, long[] nanos) {
        if (nanos.length < nodes.size()) {
            throw new IllegalArgumentException("need " + nodes.size() + " counters, got " + nanos.length);
        }
        return runOnce(inputs, Set.of(), false, nanos);
    }

    /**
     * Shape inference: runs every node's {@link Kernel#inferShapes} on shape-only float inputs.
     *
     * @return every value of the graph (inputs, initializers, intermediates, outputs), FLOAT ones
     *     possibly without data
     */
    public Map<String, Value> inferShapes(Map<String, Value> shapeOnlyInputs) {
        if (!fusedAway.isEmpty()) {
            return literal().inferShapes(shapeOnlyInputs);
        }
        return runOnce(shapeOnlyInputs, null, true, null);
    }

    /** This graph on the same registry without fusions: every value computed. */
    private Executor literal() {
        Executor e = literal;
        if (e == null) {
            synchronized (this) {
                e = literal;
                if (e == null) {
                    e = new Executor(graph, registry, false);
                    literal = e;
                }
            }
        }
        return e;
    }

    private Map<String, Value> runOnce(Map<String, Value> inputs, Set<String> alsoKeep, boolean shapesOnly,
                                       long[] nanos) {
        Map<String, Value> live = new HashMap<>(constants);
        if (shapesOnly) {
            live.putAll(bitShapes);
        }
        for (ValueInfo in : graph.inputs()) {
            Value v = inputs.get(in.name());
            if (v == null) {
                throw new ModelException("graph input '" + in.name() + "' is not given");
            }
            checkInput(in, v);
            live.put(in.name(), v);
        }
        Map<String, Value> all = shapesOnly ? new LinkedHashMap<>(live) : null;
        for (int i = 0; i < nodes.size(); i++) {
            Node node = nodes.get(i);
            long start = nanos == null ? 0 : System.nanoTime();
            Value[] in = gather(node, live, shapesOnly);
            Kernel kernel = kernels.get(i);
            Value[] out;
            try {
                if (shapesOnly) {
                    out = kernel.inferShapes(in);
                } else if (kernel instanceof SignKernel sk) {
                    // Only the first input of a sign kernel may stay packed (in is this call's own array).
                    for (int k = 1; k < in.length; k++) {
                        if (in[k] != null && in[k].signs != null) {
                            in[k] = in[k].unpacked();
                        }
                    }
                    // A value asked for by name is returned as computed: a binary layer's packed
                    // output holds only its signs.
                    boolean emit = emitSigns[i] && (alsoKeep.isEmpty() || !alsoKeep.contains(node.output(0)));
                    out = emit ? sk.runSigns(in) : sk.run(in);
                } else {
                    out = kernel.run(SignPlan.unpack(in));
                }
            } catch (ModelException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new ModelException(node.describe() + ": " + e, e);
            }
            if (nanos != null) {
                nanos[i] += System.nanoTime() - start;
            }
            for (int k = 0; k < node.outputs().size() && k < out.length; k++) {
                String name = node.output(k);
                if (!name.isEmpty() && out[k] != null) {
                    live.put(name, out[k]);
                    if (all != null) {
                        all.put(name, out[k]);
                    }
                }
            }
            if (!shapesOnly) {
                for (String name : node.inputs()) {
                    if (!name.isEmpty() && lastUse.get(name) == i && !alsoKeep.contains(name) && !isOutput(name)) {
                        Value dead = live.remove(name);
                        if (dead != null && dead.floats != null && !constants.containsKey(name)
                                && !bitConstants.containsKey(name)
                                && !inputs.containsKey(name) && unshared(dead.floats, live, inputs)) {
                            Buffers.recycle(dead.floats);
                        }
                    }
                }
            }
        }
        if (shapesOnly) {
            return all;
        }
        Map<String, Value> result = new LinkedHashMap<>();
        for (ValueInfo out : graph.outputs()) {
            Value v = live.get(out.name());
            result.put(out.name(), v == null ? null : v.unpacked());
        }
        for (String k : alsoKeep) {
            Value v = live.get(k);
            if (v != null) {
                result.putIfAbsent(k, v.unpacked());
            }
        }
        return result;
    }

    /**
     * True when no live value, constant or given input holds {@code a}: values may share an
     * array (Reshape, Flatten, Identity pass theirs on), and only an array nothing holds may be
     * reused. The live values are few (the graph's frontier), so a scan is cheap.
     */
    private boolean unshared(float[] a, Map<String, Value> live, Map<String, Value> inputs) {
        if (constantArrays.contains(a)) {
            return false;
        }
        for (Value v : live.values()) {
            if (v != null && v.floats == a) {
                return false;
            }
        }
        for (Value v : inputs.values()) {
            if (v != null && v.floats == a) {
                return false;
            }
        }
        return true;
    }

    private boolean isOutput(String name) {
        for (ValueInfo o : graph.outputs()) {
            if (o.name().equals(name)) {
                return true;
            }
        }
        return false;
    }

    private Value[] gather(Node node, Map<String, Value> values, boolean shapesOnly) {
        Value[] in = new Value[node.inputs().size()];
        for (int k = 0; k < in.length; k++) {
            String name = node.input(k);
            in[k] = name.isEmpty() ? null : values.get(name);
            if (in[k] == null && !shapesOnly && bitConstants.containsKey(name)) {
                in[k] = BinaryOps.isWeightInput(node, k) ? bitShapes.get(name) : bitValue(name);
            }
        }
        return in;
    }

    /** How many BIT initializers have been unpacked to floats so far (for tests). */
    int unpackedBitConstants() {
        return bitValues.size();
    }

    /** A BIT initializer as a value (its ±1 elements as floats), made on first use and kept. */
    private Value bitValue(String name) {
        return bitValues.computeIfAbsent(name, k -> {
            Value v = Value.of(bitConstants.get(k));
            constantArrays.add(v.floats);
            return v;
        });
    }

    private static void checkInput(ValueInfo info, Value v) {
        if (info.type() != null && info.type().isFloatingPoint() != v.isFloat()) {
            throw new ModelException("graph input '" + info.name() + "' expects " + info.type() + ", got " + v.type);
        }
        Shape s = info.shape();
        if (s == null) {
            return;
        }
        if (s.rank() != v.rank()) {
            throw new ModelException("graph input '" + info.name() + "' expects shape " + s + ", got "
                    + Arrays.toString(v.shape));
        }
        for (int d = 0; d < s.rank(); d++) {
            Dim dim = s.dim(d);
            if (dim.isFixed() && dim.size() != v.shape[d]) {
                throw new ModelException("graph input '" + info.name() + "' expects shape " + s + ", got "
                        + Arrays.toString(v.shape));
            }
        }
    }

    /** The batch to split into single items, or 1 when the inputs are run as they are. */
    private int splitBatch(Map<String, Value> inputs) {
        int batch = -1;
        for (ValueInfo in : graph.inputs()) {
            Value v = inputs.get(in.name());
            Shape s = in.shape();
            if (v == null || s == null || s.rank() == 0 || v.rank() != s.rank()
                    || !s.dim(0).isFixed() || s.dim(0).size() != 1 || v.shape[0] <= 1) {
                return 1;
            }
            if (batch != -1 && batch != v.shape[0]) {
                return 1;
            }
            batch = v.shape[0];
        }
        return Math.max(batch, 1);
    }

    private static Value sliceBatch(Value v, int b) {
        int[] shape = v.shape.clone();
        int per = v.size() / shape[0];
        shape[0] = 1;
        return v.isFloat()
                ? Value.ofFloats(shape, Arrays.copyOfRange(v.floats, b * per, (b + 1) * per))
                : Value.ofLongs(v.type, shape, Arrays.copyOfRange(v.longs, b * per, (b + 1) * per));
    }

    private static Value concatBatch(Value[] items) {
        int[] shape = items[0].shape.clone();
        int per = items[0].size();
        shape[0] = shape.length == 0 ? 1 : shape[0] * items.length;
        if (items[0].isFloat()) {
            float[] data = new float[per * items.length];
            for (int b = 0; b < items.length; b++) {
                System.arraycopy(items[b].floats, 0, data, b * per, per);
            }
            return Value.ofFloats(shape, data);
        }
        long[] data = new long[per * items.length];
        for (int b = 0; b < items.length; b++) {
            System.arraycopy(items[b].longs, 0, data, b * per, per);
        }
        return Value.ofLongs(items[0].type, shape, data);
    }
}
