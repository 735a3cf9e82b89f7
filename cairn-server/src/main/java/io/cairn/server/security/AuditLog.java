package io.cairn.server.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's audit trail: administrative actions and authentication failures — what happened,
 * when, who did it (as far as the node knows) and from where — as JSON lines in
 * {@code <dir>/audit.log}, rotated at {@code maxFileBytes} into {@code audit.log.1} ..
 * {@code audit.log.<maxFiles - 1>}, so it never takes more than {@code maxFiles × maxFileBytes}.
 *
 * <p>{@link #record} never blocks and never throws: events go through a bounded queue to one
 * writer thread; when the queue is full (a flood of refused connections) events are dropped and
 * counted ({@link #dropped}), and the next line written says how many were lost. A flood cannot
 * fill the disk, exhaust memory or slow the thread that refused the connection. Lines are flushed
 * as they are written (not fsynced: an audit line may be lost with the machine, not with the
 * process).
 */
public final class AuditLog implements AuditSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
    static final String FILE = "audit.log";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, Object> STOP = Map.of();

    private final Path dir;
    private final long maxFileBytes;
    private final int maxFiles;
    private final int nodeId;
    private final Clock clock;
    private final BlockingQueue<Map<String, Object>> queue;
    private final Thread writer;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private volatile boolean closed;
    // Writer thread only.
    private OutputStream out;
    private long size;
    private long droppedReported;

    public AuditLog(Path dir, long maxFileBytes, int maxFiles, int queueCapacity, int nodeId, Clock clock) {
        if (maxFileBytes < 1024 || maxFiles < 1 || queueCapacity < 1) {
            throw new IllegalArgumentException("audit log bounds: " + maxFileBytes + " bytes, " + maxFiles + " files, queue " + queueCapacity);
        }
        this.dir = dir;
        this.maxFileBytes = maxFileBytes;
        this.maxFiles = maxFiles;
        this.nodeId = nodeId;
        this.clock = clock;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        try {
            Files.createDirectories(dir);
            open();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the audit log in " + dir + ": " + e.getMessage(), e);
        }
        this.writer = Thread.ofPlatform().name("cairn-audit").daemon().start(this::drain);
    }

    @Override
    public void record(String event, String outcome, String who, String from, Map<String, ?> details) {
        if (closed) {
            return;
        }
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", clock.instant().toString());
        line.put("node", nodeId);
        line.put("event", event);
        line.put("outcome", outcome);
        line.put("who", who);
        line.put("from", from);
        if (details != null) {
            line.putAll(details);
        }
        if (!queue.offer(line)) {
            dropped.incrementAndGet();
        }
    }

    /** Events written to the file. */
    public long written() {
        return written.get();
    }

    /** Events lost because the queue was full (each later line says how many were lost before it). */
    public long dropped() {
        return dropped.get();
    }

    /** Events the disk refused. */
    public long failed() {
        return failed.get();
    }

    private void drain() {
        List<Map<String, Object>> batch = new ArrayList<>();
        while (true) {
            try {
                Map<String, Object> first = queue.poll(1, TimeUnit.SECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, 255);
                boolean stop = false;
                for (Map<String, Object> line : batch) {
                    if (line == STOP) {
                        stop = true;
                    } else {
                        write(line);
                    }
                }
                batch.clear();
                flush();
                if (stop) {
                    return;
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // One bad event (say, a detail Jackson cannot write) must not end the audit trail.
                failed.incrementAndGet();
                log.atWarn().setCause(e).log("audit log: an event could not be written");
                batch.clear();
            }
        }
    }

    private void write(Map<String, Object> line) {
        long lost = dropped.get();
        if (lost > droppedReported) {
            line.put("droppedBefore", lost - droppedReported);
            droppedReported = lost;
        }
        try {
            byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
            if (size > 0 && size + bytes.length > maxFileBytes) {
                rotate();
            }
            out.write(bytes);
            size += bytes.length;
            written.incrementAndGet();
        } catch (IOException e) {
            failed.incrementAndGet();
            log.atWarn().addKeyValue("dir", dir).addKeyValue("cause", e.toString()).log("audit log: write failed");
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            failed.incrementAndGet();
        }
    }

    /** audit.log → audit.log.1 → ... → audit.log.(maxFiles - 1); the oldest beyond is deleted. */
    private void rotate() throws IOException {
        out.close();
        Files.deleteIfExists(dir.resolve(FILE + "." + (maxFiles - 1)));
        for (int i = maxFiles - 2; i >= 1; i--) {
            Path from = dir.resolve(FILE + "." + i);
            if (Files.exists(from)) {
                Files.move(from, dir.resolve(FILE + "." + (i + 1)), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        if (maxFiles > 1) {
            Files.move(dir.resolve(FILE), dir.resolve(FILE + ".1"), StandardCopyOption.REPLACE_EXISTING);
        } else {
            Files.deleteIfExists(dir.resolve(FILE));
        }
        open();
    }

    private void open() throws IOException {
        Path file = dir.resolve(FILE);
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        size = Files.size(file);
    }

    /** Writes what is queued, then stops. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            queue.put(STOP);
            writer.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            out.close();
        } catch (IOException e) {
            failed.incrementAndGet();
        }
    }
}
