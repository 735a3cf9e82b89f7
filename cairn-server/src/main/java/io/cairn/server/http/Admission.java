package io.cairn.server.http;

import io.cairn.invariant.Invariant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * The node-wide memory budget that decides whether a new request is taken: bytes of requests in
 * flight, and bytes of responses written but not yet flushed to their sockets.
 *
 * <p><b>Why bytes.</b> Closed-loop clients never fill a request-count queue, so a count is not the
 * bound that protects the heap: a thousand writers of 256 KiB each hold 256 MiB in bodies alone.
 * A request therefore reserves its declared body size (plus a fixed overhead) when its head
 * arrives, before a byte of the body is read, and keeps the reservation until its answer is
 * written — through body assembly, the write queue, replication and rendering. A chunked body
 * reserves as it grows. A response counts from its write until the socket took it.
 *
 * <p><b>Refusal.</b> When a reservation does not fit, or unflushed responses are over their
 * budget, the request is refused at once with {@code 503 overloaded} and {@code Retry-After}, and
 * its body is never read. One request is always admitted when nothing else is in flight, so a
 * budget smaller than the largest allowed body cannot starve that body forever.
 *
 * <p>Thread-safe; shared by every connection of the node.
 */
final class Admission {
    /** Reserved for every request on top of its body: head, parsed form, response. */
    static final long REQUEST_OVERHEAD_BYTES = 2048;

    private final long maxRequestBytes;
    private final long maxUnflushedBytes;
    private final long largeRequestBytes;
    private final BooleanSupplier storageThrottled;
    // Invariant: the sum of every live reservation; never negative.
    private final AtomicLong requestBytes = new AtomicLong();
    private final AtomicLong unflushedBytes = new AtomicLong();
    private final LongAdder shedRequests = new LongAdder();

    Admission(long maxRequestBytes, long maxUnflushedBytes) {
        this(maxRequestBytes, maxUnflushedBytes, Long.MAX_VALUE, () -> false);
    }

    Admission(long maxRequestBytes, long maxUnflushedBytes, long largeRequestBytes, BooleanSupplier storageThrottled) {
        this.maxRequestBytes = maxRequestBytes;
        this.maxUnflushedBytes = maxUnflushedBytes;
        this.largeRequestBytes = largeRequestBytes;
        this.storageThrottled = storageThrottled;
    }

    /**
     * Whether a body of {@code bodyBytes} must be refused because the storage engine is throttling
     * writes: the disk is the bottleneck then, and bytes are what it is short of, so the largest
     * requests go first and small ones keep flowing (counted as a shed request).
     */
    boolean shedForStorage(long bodyBytes) {
        if (bodyBytes > largeRequestBytes && storageThrottled.getAsBoolean()) {
            shedRequests.increment();
            return true;
        }
        return false;
    }

    /** Reserves {@code bytes} for a new request, or returns false (and counts a shed request). */
    boolean admit(long bytes) {
        if (unflushedBytes.get() > maxUnflushedBytes || !reserve(bytes)) {
            shedRequests.increment();
            return false;
        }
        return true;
    }

    /**
     * Reserves {@code bytes} for a probe (/health, /ready) whatever the budget: their answers are
     * small, and they must answer truthfully most of all when the node is at its budget.
     */
    void admitAlways(long bytes) {
        requestBytes.addAndGet(bytes);
    }

    /** Whether either budget is more than half used: then clients that do not read are dropped sooner. */
    boolean underPressure() {
        return requestBytes.get() > maxRequestBytes / 2 || unflushedBytes.get() > maxUnflushedBytes / 2;
    }

    /** Grows an admitted request's reservation (a chunked body); false when it does not fit. */
    boolean grow(long bytes) {
        if (!reserve(bytes)) {
            shedRequests.increment();
            return false;
        }
        return true;
    }

    private boolean reserve(long bytes) {
        while (true) {
            long used = requestBytes.get();
            if (used > 0 && used + bytes > maxRequestBytes) {
                return false;
            }
            if (requestBytes.compareAndSet(used, used + bytes)) {
                return true;
            }
        }
    }

    void release(long bytes) {
        long left = requestBytes.addAndGet(-bytes);
        Invariant.check(left >= 0, "released more request bytes than were reserved (%d)", left);
    }

    void written(long bytes) {
        unflushedBytes.addAndGet(bytes);
    }

    void flushed(long bytes) {
        unflushedBytes.addAndGet(-bytes);
    }

    long requestBytes() {
        return requestBytes.get();
    }

    // Set once the node is stopping: requests already admitted finish, new ones are refused.
    private volatile boolean draining;

    void drain() {
        draining = true;
    }

    boolean draining() {
        return draining;
    }

    long unflushedBytes() {
        return unflushedBytes.get();
    }

    long maxRequestBytes() {
        return maxRequestBytes;
    }

    long maxUnflushedBytes() {
        return maxUnflushedBytes;
    }

    long shedRequests() {
        return shedRequests.sum();
    }
}
