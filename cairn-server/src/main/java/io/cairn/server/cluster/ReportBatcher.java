package io.cairn.server.cluster;

import io.cairn.cluster.Proposer;
import io.cairn.metadata.MetadataCommand;
import io.cairn.metadata.Reports;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The node's proposer toward the metadata log: move reports (streams done, finishes) from all its
 * core shards go out at most once per {@code interval}, gathered into one entry per plan and kind
 * ({@link Reports#coalesce}); a report arriving when the last batch left more than an interval ago
 * goes at once. So a move of hundreds of partitions makes a few epochs a second — each a Raft round
 * and a new partition map on every node — rather than two per partition. Other commands go through
 * at once. Every report is idempotent and sent again by the core when it does not take effect, so
 * one lost with a batch (a failed submission) costs a retry period, nothing else. Thread-safe.
 */
final class ReportBatcher implements Proposer, AutoCloseable {
    /** Above this many waiting reports, they are gathered at once rather than at the flush (a bound on memory). */
    static final int GATHER_AT = 1_024;

    private final Consumer<MetadataCommand> submit;
    private final long intervalNanos;
    private final ScheduledExecutorService timer;
    private List<MetadataCommand> pending = new ArrayList<>();
    private boolean flushedOnce;
    private long lastFlushNanos;
    private boolean scheduled;
    private boolean closed;

    /** @param intervalMillis how often reports may leave; 0 sends each at once */
    ReportBatcher(Consumer<MetadataCommand> submit, long intervalMillis) {
        if (intervalMillis < 0) {
            throw new IllegalArgumentException("a report interval cannot be negative: " + intervalMillis);
        }
        this.submit = submit;
        this.intervalNanos = TimeUnit.MILLISECONDS.toNanos(intervalMillis);
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cairn-move-reports");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void propose(MetadataCommand command) {
        boolean report = command instanceof MetadataCommand.StreamsDone || command instanceof MetadataCommand.Finish;
        if (!report || intervalNanos == 0) {
            submit.accept(command);
            return;
        }
        List<MetadataCommand> now;
        synchronized (this) {
            if (closed) {
                return;
            }
            pending.add(command);
            if (pending.size() >= GATHER_AT) {
                pending = new ArrayList<>(Reports.coalesce(pending));
            }
            if (scheduled) {
                return;
            }
            long wait = flushedOnce ? lastFlushNanos + intervalNanos - System.nanoTime() : 0;
            if (wait > 0) {
                scheduled = true;
                timer.schedule(this::flush, wait, TimeUnit.NANOSECONDS);
                return;
            }
            now = take();
        }
        send(now);
    }

    private void flush() {
        List<MetadataCommand> now;
        synchronized (this) {
            scheduled = false;
            if (closed) {
                return;
            }
            now = take();
        }
        send(now);
    }

    /** The waiting reports, gathered; marks the batch as leaving now. Under the lock. */
    private List<MetadataCommand> take() {
        List<MetadataCommand> out = Reports.coalesce(pending);
        pending = new ArrayList<>();
        flushedOnce = true;
        lastFlushNanos = System.nanoTime();
        return out;
    }

    private void send(List<MetadataCommand> commands) {
        for (MetadataCommand c : commands) {
            submit.accept(c);
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            pending.clear();
        }
        timer.shutdownNow();
    }
}
