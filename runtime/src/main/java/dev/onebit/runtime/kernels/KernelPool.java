package dev.onebit.runtime.kernels;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The threads that run a kernel's parts beside the calling thread.
 *
 * <p>A model's kernels hand work over many times per call (ResNet-18: over twenty split nodes
 * in 6 ms), so the hand-off must cost far less than a part. A worker that has just finished a
 * part therefore spins for {@link #SPIN_NANOS} before it parks: the next node's parts reach it
 * while it is still awake instead of after a wake-up from park, and between calls of an idle
 * service the workers sleep. On a {@code ForkJoinPool}, which parks idle workers at once,
 * ResNet-18 on two threads took 4.9 ms alone (3.6 ms on this pool; 6.3 ms on one thread).
 *
 * <p>Parts are taken from a shared counter by the caller and the workers alike, so a part a
 * sleeping or descheduled worker has not yet taken is run by whoever is free first; the caller
 * never waits for a worker that has not started. One job runs at a time: a call that finds the
 * pool busy (another thread's model, or a part that itself asks for parts) runs its parts on
 * its own thread, which is what a machine whose cores are already busy should do.
 */
final class KernelPool {
    /** How long an idle worker keeps looking for the next job before it parks. */
    static final long SPIN_NANOS = 200_000L;

    private final Thread[] workers;
    private final AtomicBoolean busy = new AtomicBoolean();
    /** The job being run, or null; a worker runs parts of each job it has not seen before. */
    private volatile Job job;
    private volatile boolean closed;
    /** Per worker: true while it is parked (or about to park) and needs an unpark to see a job. */
    private final AtomicBoolean[] parked;

    /** A pool of {@code workers} daemon threads named {@code onebit-kernel-i}. */
    KernelPool(int workers) {
        this.workers = new Thread[workers];
        this.parked = new AtomicBoolean[workers];
        for (int i = 0; i < workers; i++) {
            int index = i;
            parked[i] = new AtomicBoolean();
            Thread t = new Thread(() -> work(index), "onebit-kernel-" + i);
            t.setDaemon(true);
            this.workers[i] = t;
        }
        for (Thread t : this.workers) {
            t.start();
        }
    }

    /** Threads working beside the caller. */
    int workers() {
        return workers.length;
    }

    /**
     * Runs {@code body} for every index in {@code 0..tasks-1} and returns when all have run;
     * false (having run nothing) when the pool is busy with another job or closed.
     */
    boolean tryRun(int tasks, IntConsumer body) {
        if (closed || !busy.compareAndSet(false, true)) {
            return false;
        }
        try {
            Job j = new Job(body, tasks, Thread.currentThread());
            job = j;
            // Awake workers see the job by themselves; wake only as many sleeping ones as there
            // are parts besides the caller's (on a many-core machine most calls have few parts).
            for (int i = 0, woken = 0; i < workers.length && woken < tasks - 1; i++) {
                if (parked[i].compareAndSet(true, false)) {
                    LockSupport.unpark(workers[i]);
                    woken++;
                }
            }
            j.runParts();
            j.awaitParts();
            j.rethrow();
            return true;
        } finally {
            // Not kept between calls: its body holds the caller's arrays.
            job = null;
            busy.set(false);
        }
    }

    /** Lets the workers end once they are idle; a job already handed out still completes. */
    void close() {
        closed = true;
        for (Thread t : workers) {
            LockSupport.unpark(t);
        }
    }

    private void work(int index) {
        Job last = null;
        AtomicBoolean mine = parked[index];
        while (true) {
            Job j = job;
            if (j != null && j != last) {
                last = j;
                j.runParts();
                continue;
            }
            if (closed) {
                return;
            }
            long until = System.nanoTime() + SPIN_NANOS;
            while (!newJob(last) && !closed && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            if (!newJob(last) && !closed) {
                mine.set(true);
                // Checked again after the flag is up: a job published before this line is seen
                // here, one published after it finds the flag and unparks this thread.
                if (!newJob(last) && !closed) {
                    LockSupport.park(this);
                }
                mine.set(false);
            }
        }
    }

    private boolean newJob(Job last) {
        Job j = job;
        return j != null && j != last;
    }

    /** One call's parts, taken by index from a counter. */
    private static final class Job {
        private final IntConsumer body;
        private final int tasks;
        private final Thread caller;
        private final AtomicInteger next = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile Throwable failure;

        Job(IntConsumer body, int tasks, Thread caller) {
            this.body = body;
            this.tasks = tasks;
            this.caller = caller;
        }

        void runParts() {
            int i;
            while ((i = next.getAndIncrement()) < tasks) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) {
                        failure = t;
                    }
                } finally {
                    if (finished.incrementAndGet() == tasks) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Waits for parts other threads took; they use the caller's buffers, so even an interrupt waits. */
        void awaitParts() {
            long until = System.nanoTime() + SPIN_NANOS;
            while (finished.get() < tasks && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            boolean interrupted = false;
            while (finished.get() < tasks) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        void rethrow() {
            Throwable t = failure;
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
    }
}
