package io.cairn.cluster;

import io.cairn.message.Message;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Replica requests from a newer membership epoch than this node's, held until the node applies
 * that epoch, for a bounded time and a bounded number of bytes.
 *
 * <p>An epoch reaches the members one by one, and a coordinator that applied it first sends the
 * partition's new replicas writes they cannot take yet: at their own epoch the partition is not
 * theirs ({@code ClusterNode#behind}). Refused at once, such a write fails its joint quorum
 * although the replica would have taken it a heartbeat later, and the client gets an
 * {@code outcome_unknown} for a node that was only a moment behind. Held instead, it is delivered
 * again once the node applies the sender's epoch, as if the network had delayed it (which the
 * protocol tolerates anyway); a request still held at its deadline (the coordinator has given up
 * by then) is delivered again too, and refused then if the node is still behind.
 *
 * <p>Bounded by bytes ({@code cluster.behindHoldBytes}, split over the core shards): a request that
 * does not fit is refused at once, as before. Pure logic over a {@link Scheduler}.
 */
final class CatchUpHold {
    /** What a held request is charged beyond its key and value: its envelope, the entry, the timer. */
    static final long OVERHEAD_BYTES = 128;

    private record Held(int from, Message message, long epoch, long bytes, Scheduler.Cancellable timer) {}

    private final Scheduler scheduler;
    private final long maxBytes;
    private final Map<Long, Held> held = new LinkedHashMap<>();
    private long nextId;
    private long bytes;
    private long heldTotal;
    private long expiredTotal;

    CatchUpHold(Scheduler scheduler, long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("the catch-up hold's byte limit must not be negative");
        }
        this.scheduler = scheduler;
        this.maxBytes = maxBytes;
    }

    /**
     * Holds {@code message} from {@code from}, sent at epoch {@code epoch}, for at most
     * {@code waitMillis}; then hands it to {@code expired}. False, holding nothing, when its
     * {@code size} does not fit the byte limit.
     */
    boolean hold(int from, Message message, long epoch, long size, long waitMillis, BiConsumer<Integer, Message> expired) {
        long charged = size + OVERHEAD_BYTES;
        if (charged > maxBytes - bytes) {
            return false;
        }
        long id = nextId++;
        Scheduler.Cancellable timer = scheduler.schedule(waitMillis, () -> {
            Held h = held.remove(id);
            if (h != null) {
                bytes -= h.bytes();
                expiredTotal++;
                expired.accept(h.from(), h.message());
            }
        });
        held.put(id, new Held(from, message, epoch, charged, timer));
        bytes += charged;
        heldTotal++;
        return true;
    }

    /**
     * Takes out, in the order they came, the requests whose epoch is {@code epoch} or older (the
     * node has applied it), and hands each to {@code deliver}.
     */
    void caughtUp(long epoch, BiConsumer<Integer, Message> deliver) {
        List<Held> due = new ArrayList<>();
        for (Iterator<Held> it = held.values().iterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.epoch() <= epoch) {
                it.remove();
                h.timer().cancel();
                bytes -= h.bytes();
                due.add(h);
            }
        }
        due.forEach(h -> deliver.accept(h.from(), h.message()));
    }

    /** Requests held now. */
    int size() {
        return held.size();
    }

    /** Requests held since start. */
    long heldTotal() {
        return heldTotal;
    }

    /** Of those, the ones still held at their deadline (delivered again then, and refused if still behind). */
    long expiredTotal() {
        return expiredTotal;
    }
}
