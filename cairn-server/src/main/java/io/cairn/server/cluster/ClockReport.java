package io.cairn.server.cluster;

import io.cairn.clock.ClockMonitor;
import io.cairn.clock.HybridClock;
import io.cairn.cluster.ClusterNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's clock as its cluster core last judged it — whether it is unsafe and why, the
 * offset to each peer — published for readiness and metrics, and logged when it changes.
 *
 * <p>The core decides (see {@link ClockMonitor}); this only carries the verdict off the core
 * threads. Every core shard judges with its own clock monitor (from the pongs to its own pings)
 * and {@link #update}s its verdict here once a second, on its thread: the node is unsafe while any
 * shard finds it so, with the reason of the lowest such shard, and {@code /ready} follows within
 * about a second. Offsets shown are the lowest shard's that measured the peer. Refused peer timestamps are logged from here, at most one line
 * per second with their count and the latest one: a hostile peer flooding them cannot flood the
 * log. Every getter is a volatile read, safe from any thread.
 */
public final class ClockReport {
    private static final Logger log = LoggerFactory.getLogger(ClockReport.class);

    private final int nodeId;
    private final HybridClock clock;
    private volatile ClockMonitor.Unsafe unsafe;
    private volatile Map<Integer, ClockMonitor.Offset> offsets = Map.of();
    // Guarded by this: each shard's latest verdict and offsets, and the refusals already logged.
    private final ClockMonitor.Unsafe[] verdicts;
    private final List<Map<Integer, ClockMonitor.Offset>> shardOffsets;
    private long refusalsLogged;

    ClockReport(int nodeId, HybridClock clock, int shards) {
        this.nodeId = nodeId;
        this.clock = clock;
        this.verdicts = new ClockMonitor.Unsafe[shards];
        this.shardOffsets = new ArrayList<>(Collections.nCopies(shards, Map.of()));
    }

    /** A shard's thread: takes the shard's current verdict and offsets, and logs what changed for the node. */
    synchronized void update(int shard, ClusterNode node) {
        verdicts[shard] = node.clockUnsafe();
        shardOffsets.set(shard, node.clockMonitor().offsets());
        ClockMonitor.Unsafe now = null;
        for (ClockMonitor.Unsafe v : verdicts) {
            if (v != null) {
                now = v;
                break;
            }
        }
        ClockMonitor.Unsafe before = unsafe;
        if (now != null && (before == null || before.cause() != now.cause())) {
            log.atWarn().addKeyValue("node", nodeId).addKeyValue("cause", now.cause().code()).addKeyValue("offsetMillis", now.offsetMillis())
                    .addKeyValue("maxClockOffsetMillis", now.maxOffsetMillis()).addKeyValue("reason", now.reason())
                    .log("clock unsafe: refusing writes and leaving /ready");
        } else if (now == null && before != null) {
            log.atInfo().addKeyValue("node", nodeId).log("clock back within cluster.maxClockOffset: accepting writes again");
        }
        unsafe = now;
        Map<Integer, ClockMonitor.Offset> merged = new HashMap<>();
        for (Map<Integer, ClockMonitor.Offset> o : shardOffsets) {
            o.forEach(merged::putIfAbsent);
        }
        offsets = Map.copyOf(merged);
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
