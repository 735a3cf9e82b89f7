package io.cairn.server.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Something built from files (TLS material) that follows the files as they change, without a
 * restart: {@link #get} looks at their modification times and sizes at most once per
 * {@link #RECHECK_MILLIS} and, when they changed, builds anew. A build that fails (a half-copied
 * rotation, a wrong file) is refused: the previous value stays in use and the same files are not
 * tried again until they change once more. Thread-safe; {@code get} is cheap between checks.
 *
 * @param <T> what the files make
 */
final class ReloadingFiles<T> {
    static final long RECHECK_MILLIS = 1_000;

    private final List<Path> files;
    private final Clock clock;
    private final Function<List<Path>, T> build;
    private final Consumer<T> onReload;
    private final Consumer<SecurityConfigException> onRefused;
    private volatile T current;
    private volatile String stamp;
    private volatile long checkedAtMillis;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    /**
     * Builds the first value at once; its failure is the caller's (a node does not start on bad
     * files). {@code onReload} and {@code onRefused} report later rebuilds (logs, audit).
     */
    ReloadingFiles(List<Path> files, Clock clock, Function<List<Path>, T> build, Consumer<T> onReload,
                   Consumer<SecurityConfigException> onRefused) {
        this.files = List.copyOf(files);
        this.clock = clock;
        this.build = build;
        this.onReload = onReload;
        this.onRefused = onRefused;
        this.stamp = stamp(this.files);
        this.current = build.apply(this.files);
        this.checkedAtMillis = clock.millis();
    }

    /** The value in use, rebuilt first if the files changed since the last look (at most once a second). */
    T get() {
        long now = clock.millis();
        if (now - checkedAtMillis < RECHECK_MILLIS) {
            return current;
        }
        synchronized (this) {
            if (now - checkedAtMillis < RECHECK_MILLIS) {
                return current;
            }
            checkedAtMillis = now;
            String seen = stamp(files);
            if (Objects.equals(seen, stamp)) {
                return current;
            }
            stamp = seen;
            try {
                T built = build.apply(files);
                current = built;
                reloads.incrementAndGet();
                onReload.accept(built);
            } catch (SecurityConfigException e) {
                failures.incrementAndGet();
                onRefused.accept(e);
            }
            return current;
        }
    }

    /** The value in use, without looking at the files. */
    T current() {
        return current;
    }

    long reloads() {
        return reloads.get();
    }

    long failures() {
        return failures.get();
    }

    private static String stamp(List<Path> files) {
        StringBuilder b = new StringBuilder();
        for (Path f : files) {
            try {
                b.append(Files.getLastModifiedTime(f).toMillis()).append('/').append(Files.size(f)).append(';');
            } catch (IOException e) {
                b.append("missing;");
            }
        }
        return b.toString();
    }
}
