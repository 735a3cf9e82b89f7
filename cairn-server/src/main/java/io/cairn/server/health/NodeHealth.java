package io.cairn.server.health;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node's own threads can still serve: the fatal errors and stalls that /ready and
 * /health report.
 *
 * <p><b>Fatal.</b> An {@link Error} (OutOfMemoryError included), an invariant violation, or a
 * thread that must never stop (an event loop, the cluster core, the write applier) stopping is
 * fatal: the node leaves /ready and /health at once, the first cause is logged once with its
 * stack, every report is counted per component, and — unless {@code node.exitOnFatalError} is
 * off — the process exits with status {@link #EXIT_STATUS} rather than limp on with a part of
 * itself dead. A supervisor (systemd, Kubernetes) restarts it; acknowledged writes are durable.
 *
 * <p><b>Stalled.</b> A thread that has not run a watchdog probe for the stall threshold is
 * stalled: the node is not ready while it lasts (a GC storm, a blocked event loop) and ready
 * again when the thread catches up.
 *
 * <p>Thread-safe.
 */
public final class NodeHealth {
    private static final Logger log = LoggerFactory.getLogger(NodeHealth.class);
    public static final int EXIT_STATUS = 70;

    private final boolean exitOnFatal;
    private final IntConsumer exit;
    private final AtomicReference<String> fatal = new AtomicReference<>();
    private final ConcurrentHashMap<String, LongAdder> fatalCounts = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, String> stalls = new ConcurrentHashMap<>();

    /**
     * @param exit how the process exits ({@code System::exit} in production; tests record it)
     */
    public NodeHealth(boolean exitOnFatal, IntConsumer exit) {
        this.exitOnFatal = exitOnFatal;
        this.exit = exit;
    }

    /** Reports a fatal error; the first one takes the node out of service (and the process down). */
    public void fatal(String component, Throwable cause) {
        fatalCounts.computeIfAbsent(component, c -> new LongAdder()).increment();
        String reason = component + ": " + cause;
        if (!fatal.compareAndSet(null, reason)) {
            return;
        }
        try {
            log.atError().setCause(cause).addKeyValue("component", component)
                    .log("FATAL: " + reason + "; this node is leaving service" + (exitOnFatal ? " and the process exits (node.exitOnFatalError=true)" : ""));
        } catch (Throwable ignored) {
            // Logging itself may fail under OutOfMemoryError; the exit below must still happen.
        }
        if (exitOnFatal) {
            Thread exiter = new Thread(() -> {
                System.err.println("cairn: fatal error in " + reason + "; exiting with status " + EXIT_STATUS);
                exit.accept(EXIT_STATUS);
            }, "cairn-fatal-exit");
            exiter.setDaemon(false);
            exiter.start();
        }
    }

    /** Marks a component stalled (or, with a null reason, caught up again). */
    public void stalled(String component, String reason) {
        if (reason == null) {
            stalls.remove(component);
        } else if (stalls.put(component, reason) == null) {
            log.atWarn().addKeyValue("component", component).log("stalled: " + reason + "; the node reports not ready until it catches up");
        }
    }

    /** False once a fatal error was reported: the node cannot recover without a restart. */
    public boolean healthy() {
        return fatal.get() == null;
    }

    /** Healthy and nothing stalled. */
    public boolean serving() {
        return healthy() && stalls.isEmpty();
    }

    /** The first fatal error, or null. */
    public String fatalReason() {
        return fatal.get();
    }

    /** Stalled components and why, sorted by component. */
    public Map<String, String> stalls() {
        return new TreeMap<>(stalls);
    }

    /** Fatal reports per component. */
    public Map<String, Long> fatalCounts() {
        Map<String, Long> m = new LinkedHashMap<>();
        new TreeMap<>(fatalCounts).forEach((k, v) -> m.put(k, v.sum()));
        return m;
    }

    public long fatalCount(String component) {
        LongAdder a = fatalCounts.get(component);
        return a == null ? 0 : a.sum();
    }
}
