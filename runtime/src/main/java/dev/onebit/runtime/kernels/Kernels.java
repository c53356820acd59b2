package dev.onebit.runtime.kernels;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.atomic.AtomicReference;
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
 * for more (a number, or {@code auto} for one per available processor; read once, when this
 * class is initialized) or {@link #setThreads} is called; the large ones then split their work
 * over a shared pool of daemon threads. A kernel takes the count when it is created, that is
 * when a model is loaded ({@code Executor.create}, {@code dev.onebit.Model.load}).
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
            return Math.max(1, Math.min(MAX_THREADS, Integer.parseInt(v)));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Threads a kernel may use (1 unless {@code onebit.threads} or {@link #setThreads} says otherwise). */
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
     * Runs {@code body} for every index in {@code 0..tasks-1}, on the kernel thread pool when
     * {@link #threads()} is above 1, and returns when all are done. The first exception thrown
     * by a part is rethrown (after every part has finished).
     *
     * <p>The caller waits on a latch rather than joining fork/join tasks: a join may run other
     * queued tasks on the waiting thread (when it is itself a fork/join worker, as in a parallel
     * stream), and such a task could run a model on this thread while this call still uses the
     * thread's scratch buffers.
     */
    public static void parallelFor(int tasks, IntConsumer body) {
        if (threads <= 1 || tasks <= 1) {
            for (int i = 0; i < tasks; i++) {
                body.accept(i);
            }
            return;
        }
        ForkJoinPool p = pool(tasks);
        CountDownLatch done = new CountDownLatch(tasks - 1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        for (int i = 1; i < tasks; i++) {
            int task = i;
            p.execute(() -> {
                try {
                    body.accept(task);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.countDown();
                }
            });
        }
        // The caller does a share of the work instead of only waiting.
        try {
            body.accept(0);
        } catch (Throwable t) {
            failure.compareAndSet(null, t);
        }
        awaitUninterruptibly(done);
        Throwable t = failure.get();
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t != null) {
            throw new IllegalStateException(t);
        }
    }

    /** Waits for the parts, which use the caller's buffers, even when interrupted; keeps the interrupt. */
    private static void awaitUninterruptibly(CountDownLatch done) {
        boolean interrupted = false;
        while (true) {
            try {
                done.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** The pool, replaced by a larger one when {@code tasks} parts could not all run at once. */
    private static ForkJoinPool pool(int tasks) {
        ForkJoinPool p = pool;
        int want = Math.min(MAX_THREADS, Math.max(threads, tasks));
        if (p == null || p.getParallelism() < want) {
            synchronized (Kernels.class) {
                p = pool;
                if (p == null || p.getParallelism() < want) {
                    // The old pool is not shut down: another caller may be handing it parts right
                    // now. Its workers end after the pool's keep-alive time without work.
                    p = new ForkJoinPool(want, fj -> {
                        ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(fj);
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
