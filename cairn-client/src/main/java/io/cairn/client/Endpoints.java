package io.cairn.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The nodes a client talks to and what it knows of their health. An endpoint that failed at the
 * connection level (or said it cannot serve: {@code not_ready}, {@code storage_failed}, ...) is
 * marked down for a back-off period and skipped while it lasts; any answer marks it up again.
 * When every endpoint is down, the one whose back-off ends first is tried anyway: a client never
 * refuses to try.
 *
 * <p>A retry never goes back to the endpoint that just failed if another is available, so a
 * request fails over at once. Thread-safe: health is one volatile timestamp per endpoint.
 */
final class Endpoints {
    /** One node's base URI and the instant (nanoTime) until which it counts as down; 0: up. */
    static final class Endpoint {
        final URI base;
        private volatile long downUntilNanos;

        Endpoint(URI base) {
            this.base = base;
        }

        @Override
        public String toString() {
            return base.toString();
        }
    }

    private final List<Endpoint> all;
    private final EndpointSelection selection;
    private final long downNanos;
    private final LongSupplier nanoTime;
    private final AtomicInteger next = new AtomicInteger();

    Endpoints(List<URI> bases, EndpointSelection selection, long downNanos, LongSupplier nanoTime) {
        if (bases.isEmpty()) {
            throw new IllegalArgumentException("at least one endpoint is needed");
        }
        List<Endpoint> list = new ArrayList<>();
        for (URI b : bases) {
            list.add(new Endpoint(b));
        }
        this.all = List.copyOf(list);
        this.selection = selection;
        this.downNanos = downNanos;
        this.nanoTime = nanoTime;
    }

    /**
     * Parses {@code http://host:port}, {@code https://host:port} or {@code host:port} (plain
     * HTTP) into a base URI without a path.
     */
    static URI parse(String endpoint) {
        String text = endpoint.trim();
        if (!text.contains("://")) {
            text = "http://" + text;
        }
        URI uri;
        try {
            uri = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not an endpoint (http://host:port or host:port): " + endpoint, e);
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("an endpoint is http:// or https://, got " + endpoint);
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("an endpoint names a host: " + endpoint);
        }
        String path = uri.getRawPath();
        if ((path != null && !path.isEmpty() && !path.equals("/")) || uri.getRawQuery() != null || uri.getRawFragment() != null
                || uri.getRawUserInfo() != null) {
            throw new IllegalArgumentException("an endpoint is scheme, host and port only, got " + endpoint);
        }
        int port = uri.getPort() != -1 ? uri.getPort() : scheme.equals("https") ? 443 : 80;
        try {
            return new URI(scheme, null, uri.getHost(), port, null, null, null);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not an endpoint: " + endpoint, e);
        }
    }

    List<Endpoint> all() {
        return all;
    }

    /** The endpoint for an attempt; {@code previous} is the one the last attempt failed on, or null for a first attempt. */
    Endpoint pick(Endpoint previous) {
        long now = nanoTime.getAsLong();
        int n = all.size();
        int start = switch (selection) {
            case ROUND_ROBIN -> previous == null ? Math.floorMod(next.getAndIncrement(), n) : (all.indexOf(previous) + 1) % n;
            case PREFERRED_FIRST -> previous == null ? 0 : (all.indexOf(previous) + 1) % n;
        };
        for (int i = 0; i < n; i++) {
            Endpoint e = all.get((start + i) % n);
            if (e != previous && up(e, now)) {
                return e;
            }
        }
        if (previous != null && up(previous, now)) {
            // It answered (contention, say) and is the only healthy one: ask it again.
            return previous;
        }
        // Every other endpoint is down: the one whose back-off ends first, the failed one last.
        Endpoint best = null;
        for (int i = 0; i < n; i++) {
            Endpoint e = all.get((start + i) % n);
            if (e != previous && (best == null || e.downUntilNanos - best.downUntilNanos < 0)) {
                best = e;
            }
        }
        return best != null ? best : previous;
    }

    private static boolean up(Endpoint e, long now) {
        long until = e.downUntilNanos;
        return until == 0 || now - until >= 0;
    }

    boolean isUp(Endpoint e) {
        return up(e, nanoTime.getAsLong());
    }

    void markDown(Endpoint e) {
        long until = nanoTime.getAsLong() + downNanos;
        // 0 means up: never store it as a deadline.
        e.downUntilNanos = until == 0 ? 1 : until;
    }

    void markUp(Endpoint e) {
        if (e.downUntilNanos != 0) {
            e.downUntilNanos = 0;
        }
    }
}
