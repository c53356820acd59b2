package dev.onebit.runtime.kernels;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link Kernels#parallelFor} on the kernel threads ({@link KernelPool}). */
class KernelPoolTest {
    private static final Duration LIMIT = Duration.ofSeconds(60);
    private int previous;

    @BeforeEach
    void manyThreads() {
        previous = Kernels.threads();
        Kernels.setThreads(3);
    }

    @AfterEach
    void putBack() {
        Kernels.setThreads(previous);
    }

    @Test
    void everyPartRunsOnce() {
        for (int tasks : new int[] {0, 1, 2, 3, 7, 1000}) {
            AtomicIntegerArray runs = new AtomicIntegerArray(Math.max(1, tasks));
            Kernels.parallelFor(tasks, runs::incrementAndGet);
            for (int i = 0; i < tasks; i++) {
                assertEquals(1, runs.get(i), "part " + i + " of " + tasks);
            }
        }
    }

    /** A part that waits for another part to start only returns if a kernel thread took that one. */
    @Test
    void partsRunAtTheSameTimeOnOtherThreads() {
        assertTimeoutPreemptively(LIMIT, () -> {
            for (int round = 0; round < 50; round++) {
                CountDownLatch bothStarted = new CountDownLatch(2);
                Thread[] ranOn = new Thread[2];
                Kernels.parallelFor(2, part -> {
                    ranOn[part] = Thread.currentThread();
                    bothStarted.countDown();
                    try {
                        assertTrue(bothStarted.await(30, TimeUnit.SECONDS), "the other part never started");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertNotEquals(ranOn[0], ranOn[1]);
                // Now and then the workers have parked between rounds, and an unpark must wake them.
                if (round % 10 == 9) {
                    Thread.sleep(5);
                }
            }
        });
    }

    @Test
    void theFirstFailureIsRethrownAfterEveryOtherPartHasRun() {
        AtomicInteger finished = new AtomicInteger();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Kernels.parallelFor(8, part -> {
            if (part == 3) {
                throw new IllegalStateException("part 3");
            }
            finished.incrementAndGet();
        }));
        assertEquals("part 3", e.getMessage());
        assertEquals(7, finished.get());
        // The pool is free again.
        AtomicInteger after = new AtomicInteger();
        Kernels.parallelFor(5, part -> after.incrementAndGet());
        assertEquals(5, after.get());
    }

    /** A part that asks for parts itself (the pool is busy with its own job) runs them on its thread. */
    @Test
    void nestedCallsRunOnTheirOwnThread() {
        assertTimeoutPreemptively(LIMIT, () -> {
            AtomicInteger runs = new AtomicInteger();
            Kernels.parallelFor(4, outer -> Kernels.parallelFor(4, inner -> runs.incrementAndGet()));
            assertEquals(16, runs.get());
        });
    }

    /** Calls from many threads at once, as in a service sharing one model: each gets all of its parts. */
    @Test
    void concurrentCallersEachGetTheirOwnParts() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            List<Future<long[]>> results = new ArrayList<>();
            for (int c = 0; c < 4; c++) {
                int caller = c;
                results.add(callers.submit(() -> {
                    long[] sums = new long[200];
                    for (int call = 0; call < sums.length; call++) {
                        long[] part = new long[6];
                        int base = caller * 1000 + call;
                        Kernels.parallelFor(part.length, p -> part[p] = base + p);
                        for (long v : part) {
                            sums[call] += v;
                        }
                    }
                    return sums;
                }));
            }
            for (int c = 0; c < 4; c++) {
                long[] sums = results.get(c).get(60, TimeUnit.SECONDS);
                for (int call = 0; call < sums.length; call++) {
                    assertEquals(6L * (c * 1000 + call) + 15, sums[call], "caller " + c + " call " + call);
                }
            }
        } finally {
            callers.shutdownNow();
        }
    }

    /** A new thread count replaces the pool; calls before and after get every part. */
    @Test
    void changingTheCountReplacesThePool() {
        for (int n : new int[] {2, 4, 1, 3}) {
            Kernels.setThreads(n);
            AtomicIntegerArray runs = new AtomicIntegerArray(9);
            Kernels.parallelFor(9, runs::incrementAndGet);
            for (int i = 0; i < 9; i++) {
                assertEquals(1, runs.get(i), n + " threads, part " + i);
            }
        }
    }
}
