package io.cairn.server.cluster;

import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.cluster.ClusterNode;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's clock as its cluster core last judged it — whether it is unsafe and why, the
 * offset to each peer — published for readiness and metrics, and logged when it changes.
 *
 * <p>The core decides (see {@link ClockMonitor}); this only carries the verdict off the core
 * thread. {@link #update} runs on the core thread once a second, so {@code /ready} follows the
 * verdict within about a second. Refused peer timestamps are logged from here, at most one line
 * per second with their count and the latest one: a hostile peer flooding them cannot flood the
 * log. Every getter is a volatile read, safe from any thread.
 */
public final class ClockReport {
    private static final Logger log = LoggerFactory.getLogger(ClockReport.class);

    private final int nodeId;
    private final HybridClock clock;
    private volatile ClockMonitor.Unsafe unsafe;
    private volatile Map<Integer, ClockMonitor.Offset> offsets = Map.of();
    // Core thread only.
    private long refusalsLogged;

    ClockReport(int nodeId, HybridClock clock) {
        this.nodeId = nodeId;
        this.clock = clock;
    }

    /** Core thread: takes the core's current verdict and offsets, and logs what changed. */
    void update(ClusterNode node) {
        ClockMonitor.Unsafe now = node.clockUnsafe();
        ClockMonitor.Unsafe before = unsafe;
        if (now != null && (before == null || before.cause() != now.cause())) {
            log.atWarn().addKeyValue("node", nodeId).addKeyValue("cause", now.cause().code()).addKeyValue("offsetMillis", now.offsetMillis())
                    .addKeyValue("maxClockOffsetMillis", now.maxOffsetMillis()).addKeyValue("reason", now.reason())
                    .log("clock unsafe: refusing writes and leaving /ready");
        } else if (now == null && before != null) {
            log.atInfo().addKeyValue("node", nodeId).log("clock back within cluster.maxClockOffset: accepting writes again");
        }
        unsafe = now;
        offsets = node.clockMonitor().offsets();
        long refusals = clock.refusals();
        if (refusals > refusalsLogged) {
            log.atWarn().addKeyValue("node", nodeId).addKeyValue("refused", refusals - refusalsLogged).addKeyValue("total", refusals)
                    .addKeyValue("latest", clock.lastRefusal())
                    .log("refused peer timestamps more than cluster.maxClockOffset ahead of this node's clock");
            refusalsLogged = refusals;
        }
    }

    /** Why this node refuses writes because of its clock, or null. */
    public String unsafeReason() {
        ClockMonitor.Unsafe u = unsafe;
        return u == null ? null : u.reason();
    }

    public boolean isUnsafe() {
        return unsafe != null;
    }

    /** The latest estimate of each peer's clock offset (peer minus this node), for peers measured recently. */
    public Map<Integer, ClockMonitor.Offset> offsets() {
        return offsets;
    }
}
