package dev.onebit.runtime;

/**
 * Output arrays recycled from one node to the next on the same thread. The {@link Executor}
 * hands back the array of every intermediate value once nothing can read it any more (after
 * its last reader, and shared with no live value, constant or caller's input); kernels that
 * write every element of their output take their arrays here instead of allocating them. A
 * graph's activations then cycle through a few arrays that stay in the cache, instead of a
 * fresh, zeroed, cache-cold array per node (which at CNN sizes costs as much as the node's
 * arithmetic).
 *
 * <p>An array from {@link #floats} holds stale values: only a kernel that overwrites all of it
 * may use it. Arrays are per thread, so concurrent runs never share one.
 */
public final class Buffers {
    /** Arrays kept per thread; beyond this, returned arrays are left to the garbage collector. */
    private static final int MAX_KEPT = 16;
    private static final ThreadLocal<Buffers> POOL = ThreadLocal.withInitial(Buffers::new);

    /** Arrays handed out and not yet back: only these are ever taken back. */
    private static final int MAX_OUT = 64;

    private final float[][] kept = new float[MAX_KEPT][];
    private int count;
    /**
     * Identities of the arrays handed out: the executor recycles only arrays that came from
     * here, so an array a kernel keeps for itself (or any other array) never enters the pool.
     * Arrays that never come back (graph outputs) are forgotten when it fills up.
     */
    private final java.util.Set<float[]> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());

    private Buffers() {
    }

    /**
     * An array of exactly {@code n} floats with unspecified contents: a recycled one when this
     * thread has one of that length, else a new one.
     */
    public static float[] floats(int n) {
        Buffers b = POOL.get();
        float[] a = null;
        for (int i = b.count - 1; i >= 0; i--) {
            if (b.kept[i].length == n) {
                a = b.kept[i];
                b.kept[i] = b.kept[--b.count];
                b.kept[b.count] = null;
                break;
            }
        }
        if (a == null) {
            a = new float[n];
        }
        if (b.out.size() >= MAX_OUT) {
            b.out.clear();
        }
        b.out.add(a);
        return a;
    }

    /**
     * Gives an array back when it came from {@link #floats} on this thread (others are
     * ignored); the caller guarantees that nothing reads or writes it any more.
     */
    static void recycle(float[] a) {
        if (a == null || a.length == 0) {
            return;
        }
        Buffers b = POOL.get();
        if (b.out.remove(a) && b.count < MAX_KEPT) {
            b.kept[b.count++] = a;
        }
    }
}
