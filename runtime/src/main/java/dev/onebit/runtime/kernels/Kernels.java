package dev.onebit.runtime.kernels;

import java.util.function.IntConsumer;

/**
 * Chooses the kernel implementations for this JVM: the Vector API ones when the
 * {@code jdk.incubator.vector} module is in the boot layer (the JVM was started with
 * {@code --add-modules jdk.incubator.vector}) and their classes load, the portable ones
 * otherwise. Setting the system property {@code onebit.kernels=scalar} forces the portable ones;
 * {@code onebit.kernels=reference} keeps the fast float kernels but makes the binary layers
 * ({@code dev.onebit.runtime.ops.BinaryOps}) run their reference kernels instead of the XNOR
 * ones, for comparing the two on whole graphs.
 *
 * <p>A call's kernels use as many threads as the JVM has processors, the calling thread and a
 * shared pool of daemon threads ({@link KernelPool}), unless the system property
 * {@code onebit.threads} (a number, or {@code auto}; read once, when this class is initialized)
 * or {@link #setThreads} says otherwise. Only kernels with enough work split it (a small model
 * like the vgg sample runs on the calling thread alone); when several calls run at once, one
 * of them has the pool and the others run on their own threads. A kernel takes the count when
 * it is created, that is when a model is loaded ({@code Executor.create},
 * {@code dev.onebit.Model.load}).
 */
public final class Kernels {
    private static final FloatGemm SCALAR = new ScalarGemm();
    private static final FloatGemm VECTOR = loadVector("dev.onebit.runtime.kernels.VectorGemm", FloatGemm.class);
    private static final BinaryGemm SCALAR_BINARY = new ScalarBinaryGemm();
    private static final BinaryGemm VECTOR_BINARY = loadVector("dev.onebit.runtime.kernels.VectorBinaryGemm", BinaryGemm.class);
    private static final FloatPasses SCALAR_PASSES = new FloatPasses() {
    };
    private static final FloatPasses VECTOR_PASSES = loadVector("dev.onebit.runtime.kernels.VectorFloatPasses", FloatPasses.class);
    private static final BwnGemm SCALAR_BWN = new BwnGemm() {
    };
    private static final BwnGemm VECTOR_BWN = loadVector("dev.onebit.runtime.kernels.VectorBwnGemm", BwnGemm.class);
    private static final boolean XNOR = !"reference".equals(System.getProperty("onebit.kernels"));
    /** The largest thread count accepted; more would only add hand-off cost. */
    public static final int MAX_THREADS = 256;
    private static volatile int threads = threadsFromProperty();
    private static volatile KernelPool pool;

    private Kernels() {
    }

    private static <T> T loadVector(String className, Class<T> type) {
        if ("scalar".equals(System.getProperty("onebit.kernels"))) {
            return null;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            // By name so that a JVM without the module (or older than the classes) never links them.
            Class<?> c = Class.forName(className);
            return type.cast(c.getDeclaredConstructor().newInstance());
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            return null;
        }
    }

    private static int threadsFromProperty() {
        int cores = Math.max(1, Math.min(MAX_THREADS, Runtime.getRuntime().availableProcessors()));
        String v = System.getProperty("onebit.threads", "auto").trim();
        if (v.equalsIgnoreCase("auto")) {
            return cores;
        }
        try {
            return Math.max(1, Math.min(MAX_THREADS, Integer.parseInt(v)));
        } catch (NumberFormatException e) {
            // Not worth failing a model load for; the default it would have had.
            return cores;
        }
    }

    /**
     * Threads a kernel may use: the available processors unless {@code onebit.threads} or
     * {@link #setThreads} says otherwise.
     */
    public static int threads() {
        return threads;
    }

    /**
     * Sets the threads kernels created from now on may use, overriding {@code onebit.threads}.
     * Models already loaded keep the count they were created with (their kernels split work
     * by it); a count of 1 also makes work split by earlier kernels run on the calling thread.
     *
     * @param n 1 to {@value #MAX_THREADS}
     * @throws IllegalArgumentException if {@code n} is out of range
     */
    public static void setThreads(int n) {
        if (n < 1 || n > MAX_THREADS) {
            throw new IllegalArgumentException("threads must be 1 to " + MAX_THREADS + ", got " + n);
        }
        threads = n;
    }

    /**
     * Runs {@code body} for every index in {@code 0..tasks-1} and returns when all are done: on
     * the calling thread and {@link #threads()} - 1 kernel threads ({@link KernelPool}), or on
     * the calling thread alone when the count is 1 or the pool is busy with another call's
     * parts. On the pool, the first exception thrown by a part is rethrown after every part
     * has finished; on the calling thread alone, it ends the loop.
     */
    public static void parallelFor(int tasks, IntConsumer body) {
        int n = threads;
        if (n <= 1 || tasks <= 1 || !pool(n).tryRun(tasks, body)) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
        }
    }

    /** The pool for {@code n} threads, replacing (and closing) one made for another count. */
    private static KernelPool pool(int n) {
        KernelPool p = pool;
        if (p == null || p.workers() != n - 1) {
            synchronized (Kernels.class) {
                p = pool;
                if (p == null || p.workers() != n - 1) {
                    if (p != null) {
                        // A call still using it finishes its job: its caller takes every part left.
                        p.close();
                    }
                    p = new KernelPool(n - 1);
                    pool = p;
                }
            }
        }
        return p;
    }

    /** The fastest {@link FloatGemm} this JVM can run. */
    public static FloatGemm floatGemm() {
        return VECTOR != null ? VECTOR : SCALAR;
    }

    /** The portable {@link FloatGemm}, whatever the JVM. */
    public static FloatGemm scalarGemm() {
        return SCALAR;
    }

    /** The Vector API {@link FloatGemm}, or null when it is not available. */
    public static FloatGemm vectorGemm() {
        return VECTOR;
    }

    /** The fastest {@link BinaryGemm} this JVM can run. */
    public static BinaryGemm binaryGemm() {
        return VECTOR_BINARY != null ? VECTOR_BINARY : SCALAR_BINARY;
    }

    /** The portable {@link BinaryGemm}, whatever the JVM. */
    public static BinaryGemm scalarBinaryGemm() {
        return SCALAR_BINARY;
    }

    /** The Vector API {@link BinaryGemm}, or null when it is not available. */
    public static BinaryGemm vectorBinaryGemm() {
        return VECTOR_BINARY;
    }

    /** The fastest {@link FloatPasses} this JVM can run. */
    public static FloatPasses floatPasses() {
        return VECTOR_PASSES != null ? VECTOR_PASSES : SCALAR_PASSES;
    }

    /** The portable {@link FloatPasses}, whatever the JVM. */
    public static FloatPasses scalarFloatPasses() {
        return SCALAR_PASSES;
    }

    /** The Vector API {@link FloatPasses}, or null when it is not available. */
    public static FloatPasses vectorFloatPasses() {
        return VECTOR_PASSES;
    }

    /** The fastest {@link BwnGemm} this JVM can run. */
    public static BwnGemm bwnGemm() {
        return VECTOR_BWN != null ? VECTOR_BWN : SCALAR_BWN;
    }

    /** The portable {@link BwnGemm}, whatever the JVM. */
    public static BwnGemm scalarBwnGemm() {
        return SCALAR_BWN;
    }

    /** The Vector API {@link BwnGemm} (it needs 512-bit vectors), or null when it is not available. */
    public static BwnGemm vectorBwnGemm() {
        return VECTOR_BWN;
    }

    /** False when {@code onebit.kernels=reference} asks binary layers for their reference kernels. */
    public static boolean xnorEnabled() {
        return XNOR;
    }
}
