package dev.onebit.runtime.kernels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
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
 * <p>Kernels run on the calling thread unless the system property {@code onebit.threads} asks
 * for more (a number, or {@code auto} for one per available processor); the large ones then
 * split their work over a shared pool of daemon threads.
 */
public final class Kernels {
    private static final FloatGemm SCALAR = new ScalarGemm();
    private static final FloatGemm VECTOR = loadVector("dev.onebit.runtime.kernels.VectorGemm", FloatGemm.class);
    private static final BinaryGemm SCALAR_BINARY = new ScalarBinaryGemm();
    private static final BinaryGemm VECTOR_BINARY = loadVector("dev.onebit.runtime.kernels.VectorBinaryGemm", BinaryGemm.class);
    private static final boolean XNOR = !"reference".equals(System.getProperty("onebit.kernels"));
    private static final int THREADS = threadsFromProperty();
    private static volatile ForkJoinPool pool;

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
        String v = System.getProperty("onebit.threads", "1").trim();
        if (v.equalsIgnoreCase("auto")) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            return Math.max(1, Math.min(256, Integer.parseInt(v)));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Threads a kernel may use (1 unless {@code onebit.threads} says otherwise). */
    public static int threads() {
        return THREADS;
    }

    /**
     * Runs {@code body} for every index in {@code 0..tasks-1}, on the kernel thread pool when
     * {@link #threads()} is above 1, and returns when all are done. Exceptions propagate.
     */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (THREADS <= 1 || tasks <= 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        ForkJoinPool p = pool();
        List<ForkJoinTask<?>> running = new ArrayList<>(tasks);
        for (int i = 1; i < tasks; i++) {
            int task = i;
            running.add(p.submit(() -> body.accept(task)));
        }
        // The caller does a share of the work instead of only waiting.
        body.accept(0);
        for (ForkJoinTask<?> t : running) {
            t.join();
        }
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (Kernels.class) {
                p = pool;
                if (p == null) {
                    p = new ForkJoinPool(THREADS, pool -> {
                        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                        t.setDaemon(true);
                        t.setName("onebit-kernel-" + t.getPoolIndex());
                        return t;
                    }, null, false);
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

    /** False when {@code onebit.kernels=reference} asks binary layers for their reference kernels. */
    public static boolean xnorEnabled() {
        return XNOR;
    }
}
