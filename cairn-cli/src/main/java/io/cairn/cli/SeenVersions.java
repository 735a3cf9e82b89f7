package io.cairn.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The newest ETag the command line saw per (namespace, key), kept between calls in a small file
 * ({@code $CAIRN_STATE_DIR}, else {@code $XDG_STATE_HOME/cairn}, else {@code ~/.local/state/cairn}),
 * so that {@code cairn put k v2} after {@code cairn put k v1} carries v1's ETag as its causal
 * token ({@code Cairn-After}) and cannot lose to it, whichever nodes the two calls reach.
 *
 * <p>At most {@link #MAX_ENTRIES} keys, the most recently used kept. The file is advisory: a
 * missing, unreadable or damaged one is an empty memory, and a failure to write it is ignored
 * (the write itself already happened). Concurrent calls may each keep their own last view.
 */
final class SeenVersions {
    static final int MAX_ENTRIES = 1_000;
    private static final Pattern ETAG = Pattern.compile("\"[0-9a-f]{1,16}-[0-9a-f]{1,8}\"");

    private final Path file;

    SeenVersions(Path file) {
        this.file = file;
    }

    /** The memory at its usual place, or null when there is no place for it (no home, or turned off). */
    static SeenVersions open() {
        if (System.getenv("CAIRN_NO_CAUSAL_TOKENS") != null) {
            return null;
        }
        String dir = System.getProperty("cairn.stateDir", System.getenv("CAIRN_STATE_DIR"));
        if (dir == null) {
            String state = System.getenv("XDG_STATE_HOME");
            String home = System.getProperty("user.home");
            if (state != null && !state.isBlank()) {
                dir = Path.of(state, "cairn").toString();
            } else if (home != null && !home.isBlank() && !home.equals("?")) {
                dir = Path.of(home, ".local", "state", "cairn").toString();
            } else {
                return null;
            }
        }
        return new SeenVersions(Path.of(dir, "seen-etags"));
    }

    /** The ETag last seen for {@code key} of {@code namespace}, or null. */
    String get(String namespace, byte[] key) {
        return read().get(entry(namespace, key));
    }

    /** Remembers {@code etag} as the newest seen for {@code key} of {@code namespace}. */
    void put(String namespace, byte[] key, String etag) {
        if (etag == null || !ETAG.matcher(etag).matches()) {
            return;
        }
        LinkedHashMap<String, String> all = read();
        all.remove(entry(namespace, key));
        all.put(entry(namespace, key), etag);
        while (all.size() > MAX_ENTRIES) {
            all.remove(all.keySet().iterator().next());
        }
        StringBuilder out = new StringBuilder();
        all.forEach((k, v) -> out.append(k).append(' ').append(v).append('\n'));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = Files.createTempFile(file.getParent(), "seen-etags", ".tmp");
            Files.writeString(tmp, out, StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException | SecurityException e) {
            // Advisory: the write the caller made stands; only the token for its next write is lost.
        }
    }

    private static String entry(String namespace, byte[] key) {
        return (namespace == null ? "default" : namespace) + ":" + HexFormat.of().formatHex(key);
    }

    private LinkedHashMap<String, String> read() {
        LinkedHashMap<String, String> all = new LinkedHashMap<>();
        try {
            if (Files.size(file) > 4L << 20) {
                return all;
            }
            List<String> lines = Files.readAllLines(file, StandardCharsets.US_ASCII);
            for (String line : lines) {
                int space = line.indexOf(' ');
                if (space > 0 && ETAG.matcher(line.substring(space + 1)).matches()) {
                    all.put(line.substring(0, space), line.substring(space + 1));
                }
            }
        } catch (IOException | RuntimeException e) {
            return new LinkedHashMap<>(Map.of());
        }
        return all;
    }
}
