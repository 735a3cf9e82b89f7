package io.cairn.cli;

import io.cairn.server.security.Pem;
import io.cairn.server.security.SecurityConfigException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The client subcommands that talk to a running node over HTTP.
 *
 * <p>Exit codes: 0 success, 1 the node answered with an error (the JSON error goes to stderr),
 * 2 bad usage, 3 the node could not be reached.
 */
final class ClientCommands {
    private ClientCommands() {}

    /** Where the client commands go when neither --url nor CAIRN_URL says. */
    static final String DEFAULT_URL = "http://127.0.0.1:7070";

    /** Options every client command shares. */
    static final class Target {
        @Option(names = "--url", paramLabel = "URL", description = "Node to talk to (default $CAIRN_URL or http://127.0.0.1:7070).")
        String url = System.getenv().getOrDefault("CAIRN_URL", DEFAULT_URL);

        @Option(names = {"-v", "--verbose"}, description = "Print the status line and headers to stderr.")
        boolean verbose;

        @Option(names = "--timeout", paramLabel = "DURATION", description = "Request timeout: a duration (500ms, 30s, 1m) or a number of"
                + " seconds (default 10s).")
        String timeout = "10s";

        @Option(names = "--cacert", paramLabel = "FILE",
                description = "For https URLs: trust the CA (or certificate) in this PEM file instead of the system's (default $CAIRN_CACERT).")
        Path caCert = System.getenv("CAIRN_CACERT") == null ? null : Path.of(System.getenv("CAIRN_CACERT"));

        @Option(names = "--token", paramLabel = "TOKEN", description = "Bearer token to send (default $CAIRN_TOKEN).")
        String token = System.getenv("CAIRN_TOKEN");

        @Option(names = "--token-file", paramLabel = "FILE", description = "Read the bearer token from this file (default $CAIRN_TOKEN_FILE).")
        Path tokenFile = System.getenv("CAIRN_TOKEN_FILE") == null ? null : Path.of(System.getenv("CAIRN_TOKEN_FILE"));

        @Option(names = "--data-dir", paramLabel = "DIR", description = "With no token given: use the admin credential of the node with this "
                + "data directory (<DIR>/auth/admin.token or <DIR>/tls/admin.token; default ./cairn-data, where a missing one means no token; "
                + "a DIR given without one is an error).")
        Path dataDir; // null: not given, ./cairn-data is looked in

        // Set on copies made by at(): errors are left to the caller, not printed.
        private boolean quiet;

        /** The same options aimed at another node, reporting nothing on stderr (the caller counts failures). */
        Target at(String otherUrl) {
            Target t = new Target();
            t.url = otherUrl;
            t.verbose = false;
            t.timeout = timeout;
            t.caCert = caCert;
            t.token = token;
            t.tokenFile = tokenFile;
            t.dataDir = dataDir;
            t.quiet = true;
            return t;
        }

        /** The token to send: --token, else --token-file, else the node's admin credential in --data-dir; null when none is found. */
        String credential() throws IOException {
            if (token != null && !token.isBlank()) {
                if (!io.cairn.bench.BearerToken.carriable(token.strip())) {
                    throw new IOException("the token given with --token or CAIRN_TOKEN has characters a header cannot carry");
                }
                return token.strip();
            }
            if (tokenFile != null) {
                return io.cairn.bench.BearerToken.read(tokenFile);
            }
            Path dir = dataDir != null ? dataDir : Path.of("cairn-data");
            for (Path candidate : List.of(dir.resolve("auth").resolve("admin.token"), dir.resolve("tls").resolve("admin.token"))) {
                if (Files.isReadable(candidate)) {
                    return io.cairn.bench.BearerToken.read(candidate);
                }
            }
            if (dataDir != null) {
                // Asked for by name: sending nothing instead would only turn into a 401 later.
                throw new IOException("--data-dir " + dataDir + " holds no admin credential (no readable auth/admin.token or tls/admin.token);"
                        + " is it the node's data directory?");
            }
            return null;
        }

        URI uri(String path) {
            return URI.create(base() + path);
        }

        /**
         * {@code --url} as a base URL: {@code host:port} means {@code http://host:port}; anything
         * but an http(s) URL with a host is a usage error naming the value.
         */
        String base() {
            String u = url.strip();
            boolean bare = !u.contains("://");
            if (bare) {
                u = "http://" + u;
            }
            URI parsed;
            try {
                parsed = new URI(u);
            } catch (java.net.URISyntaxException e) {
                throw new Main.UsageException("--url '" + url + "' is not a URL: " + e.getReason());
            }
            if (!"http".equalsIgnoreCase(parsed.getScheme()) && !"https".equalsIgnoreCase(parsed.getScheme())) {
                throw new Main.UsageException("--url '" + url + "' must be http://HOST:PORT, https://HOST:PORT or HOST:PORT");
            }
            if (parsed.getHost() == null) {
                throw new Main.UsageException("--url '" + url + "' names no host; give HOST:PORT, e.g. 127.0.0.1:7070");
            }
            if (parsed.getPort() > 65_535) {
                throw new Main.UsageException("--url '" + url + "' names port " + parsed.getPort() + "; a port is 1..65535");
            }
            if (bare && parsed.getPort() == -1) {
                // A bare word is more likely a slip than a node listening on port 80.
                throw new Main.UsageException("--url '" + url + "' names no port; give HOST:PORT, e.g. 127.0.0.1:7070");
            }
            return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
        }

        /** {@code --timeout} as a duration: at least 1 ms, at most an hour; a usage error otherwise. */
        Duration timeout() {
            Duration d;
            try {
                d = io.cairn.clock.Durations.parse(timeout, 1000);
            } catch (IllegalArgumentException e) {
                throw new Main.UsageException("--timeout " + e.getMessage());
            }
            if (d.toMillis() < 1 || d.compareTo(Duration.ofHours(1)) > 0) {
                throw new Main.UsageException("--timeout must be between 1ms and 1h, got '" + timeout + "'");
            }
            return d;
        }

        /** A client trusting {@code --cacert} when given, else the JDK's trust store. */
        HttpClient client() {
            timeout();
            HttpClient.Builder b = HttpClient.newBuilder().connectTimeout(timeout());
            if (caCert != null) {
                b.sslContext(trusting(caCert));
            }
            return b.build();
        }

        private static SSLContext trusting(Path pem) {
            try {
                KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
                trust.load(null, null);
                int i = 0;
                for (X509Certificate c : Pem.readCertificates(pem)) {
                    trust.setCertificateEntry("ca-" + i++, c);
                }
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
                SSLContext ctx = SSLContext.getInstance("TLS");
                ctx.init(null, tmf.getTrustManagers(), null);
                return ctx;
            } catch (GeneralSecurityException | IOException e) {
                throw new IllegalStateException("cannot trust " + pem + ": " + e.getMessage(), e);
            }
        }

        private PrintStream err() {
            return quiet ? new PrintStream(java.io.OutputStream.nullOutputStream()) : System.err;
        }

        /** A request's outcome: the exit code (0 when the node answered below 400) and, when it answered, its response. */
        record Reply(int code, HttpResponse<byte[]> response) {
            String body() {
                return new String(response.body(), StandardCharsets.UTF_8);
            }
        }

        /** Sends the request; reports errors (unreachable, an error answer) on stderr as {@link #send} does. */
        Reply fetch(HttpRequest.Builder request) {
            HttpClient client;
            try {
                client = client();
            } catch (SecurityConfigException | IllegalStateException e) {
                err().println("cairn: " + e.getMessage());
                return new Reply(2, null);
            }
            base(); // A malformed --url is a usage error before anything is sent.
            String credential;
            try {
                credential = credential();
            } catch (IOException e) {
                err().println("cairn: no usable token: " + e.getMessage());
                return new Reply(2, null);
            }
            if (credential != null) {
                request.setHeader("Authorization", "Bearer " + credential);
            }
            HttpResponse<byte[]> response;
            try {
                response = client.send(request.timeout(timeout()).build(), HttpResponse.BodyHandlers.ofByteArray());
            } catch (IOException e) {
                return new Reply(unreachable(e), null);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Reply(3, null);
            }
            if (verbose) {
                err().println("HTTP " + response.statusCode());
                response.headers().map().forEach((k, v) -> v.forEach(x -> err().println(k + ": " + x)));
            }
            int status = response.statusCode();
            if (status >= 400) {
                refused(status, response.body(), credential);
                return new Reply(1, response);
            }
            return new Reply(0, response);
        }

        /** Reports a request that got no answer (either transport's failure) in one line; the exit code for it. */
        private int unreachable(IOException e) {
            switch (e) {
                case ConnectException c -> err().println("cairn: cannot reach " + base() + " (is a node running? start one with: bin/cairn start)");
                case SSLHandshakeException h -> err().println("cairn: " + url + " did not prove who it is (" + h.getMessage()
                        + "); if it uses the cluster's own CA, pass --cacert <ca.crt> or set CAIRN_CACERT");
                case java.net.http.HttpTimeoutException t -> timedOut();
                case java.net.SocketTimeoutException t -> timedOut();
                default -> err().println("cairn: request to " + base() + " failed: " + Main.oneLine(e));
            }
            return Main.UNREACHABLE;
        }

        private void timedOut() {
            err().println("cairn: " + base() + " did not answer within " + timeout.strip() + " (--timeout)");
        }

        private void refused(int status, byte[] body, String credential) {
            err().println(new String(body, StandardCharsets.UTF_8));
            if (status == 401 && credential == null) {
                err().println("cairn: no token found: pass --token or --token-file, set CAIRN_TOKEN, or point --data-dir at the node's"
                        + " data directory (its auth/admin.token is the node's admin credential)");
            }
        }

        /**
         * One short request ({@code get}, {@code put}, {@code delete}): over a plain socket for an
         * {@code http://} node (see {@link SlimHttp}), through {@link #send} for {@code https://};
         * prints and answers as {@link #send} does.
         */
        int exchange(String method, String path, Map<String, String> headers, byte[] body, PrintStream out, boolean printBody) {
            String base = base();
            if (!base.regionMatches(true, 0, "http://", 0, "http://".length())) {
                HttpRequest.Builder r = HttpRequest.newBuilder(uri(path))
                        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                headers.forEach(r::header);
                return send(r, out, printBody);
            }
            timeout();
            String credential;
            try {
                credential = credential();
            } catch (IOException e) {
                err().println("cairn: no usable token: " + e.getMessage());
                return Main.USAGE;
            }
            Map<String, String> all = new LinkedHashMap<>(headers);
            if (credential != null) {
                all.put("Authorization", "Bearer " + credential);
            }
            SlimHttp.Response response;
            try {
                response = SlimHttp.exchange(URI.create(base + path), method, all, body, (int) timeout().toMillis());
            } catch (IOException e) {
                return unreachable(e);
            }
            if (verbose) {
                err().println("HTTP " + response.status());
                response.headers().forEach((k, v) -> v.forEach(x -> err().println(k + ": " + x)));
            }
            if (response.status() >= 400) {
                refused(response.status(), response.body(), credential);
                return Main.NODE_ERROR;
            }
            lastEtag = response.first("etag");
            if (printBody) {
                out.write(response.body(), 0, response.body().length);
                out.flush();
            } else if (response.first("etag") != null) {
                out.println(response.first("etag"));
            }
            return Main.OK;
        }

        // The ETag of the last successful exchange() over plain HTTP (null: none, or over https).
        private String lastEtag;

        /**
         * {@link #exchange} for one key, with its causal token: a write sends the newest ETag this
         * command line saw for the key ({@link SeenVersions}) unless {@code token} or a condition is
         * given, and every success remembers the ETag it got.
         */
        int exchangeKey(String method, String namespace, String key, String query, Map<String, String> headers, byte[] body, PrintStream out,
                        boolean printBody, boolean conditional) {
            if (key.isEmpty()) {
                // An empty key would address the namespace's batch route, not a key.
                err().println("cairn " + method.toLowerCase(java.util.Locale.ROOT) + ": the key is empty; a key is 1 or more bytes");
                return Main.USAGE;
            }
            SeenVersions seen = SeenVersions.open();
            byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
            Map<String, String> h = new LinkedHashMap<>(headers);
            if (seen != null && !method.equals("GET") && !conditional && !h.containsKey("Cairn-After")) {
                String token = seen.get(namespace, keyBytes);
                if (token != null) {
                    h.put("Cairn-After", token);
                }
            }
            lastEtag = null;
            int code = exchange(method, kvPath(namespace) + segment(key) + query, h, body, out, printBody);
            if (code == Main.OK && seen != null && lastEtag != null) {
                seen.put(namespace, keyBytes, lastEtag);
            }
            return code;
        }

        int send(HttpRequest.Builder request, PrintStream out, boolean printBody) {
            Reply reply = fetch(request);
            if (reply.code() != 0) {
                return reply.code();
            }
            HttpResponse<byte[]> response = reply.response();
            if (printBody) {
                out.write(response.body(), 0, response.body().length);
                out.flush();
            }
            response.headers().firstValue("etag").ifPresent(etag -> {
                if (!printBody) {
                    out.println(etag);
                }
            });
            return 0;
        }
    }

    /** Where a namespace's keys are: {@code /kv/} for the default one, {@code /ns/NAME/kv/} for the others. */
    static String kvPath(String namespace) {
        if (namespace == null || namespace.equals("default")) {
            return "/kv/";
        }
        if (!namespace.matches("[a-z][a-z0-9_-]{0,62}")) {
            throw new Main.UsageException("--namespace '" + namespace + "' is not a namespace name ([a-z][a-z0-9_-]{0,62})");
        }
        return "/ns/" + namespace + "/kv/";
    }

    /** Encodes a key as one path segment: everything but unreserved characters is escaped. */
    static String segment(String key) {
        StringBuilder sb = new StringBuilder();
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~') {
                sb.append((char) c);
            } else {
                sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16))).append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return sb.toString();
    }

    @Command(name = "put", mixinStandardHelpOptions = true, description = "Write a value; prints the new ETag.")
    static final class Put implements Callable<Integer> {
        @Mixin Target target;
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Parameters(index = "1", paramLabel = "VALUE", arity = "0..1", description = "The value; omit or '-' to read stdin.") String value;
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Read the value from a file.") Path file;
        @Option(names = "--ttl", description = "Expire after this long: seconds or 500ms, 30s, 5m, 2h, 1d; 'none' for no expiry.") String ttl;
        @Option(names = "--if-match", paramLabel = "ETAG", description = "Write only if the current version is this ETag.") String ifMatch;
        @Option(names = "--if-absent", description = "Write only if the key has no live value.") boolean ifAbsent;
        @Option(names = "--content-type", paramLabel = "TYPE", description = "Stored with the value and returned on reads (default application/octet-stream).")
        String contentType;
        @Option(names = "--idempotency-key", paramLabel = "KEY", description = "Make retries safe: the same key replays the first outcome.") String idempotencyKey;
        @Option(names = {"-n", "--namespace"}, paramLabel = "NAME", description = "The namespace (default: the default namespace).") String namespace;
        @Option(names = "--after", paramLabel = "ETAG", description = "Causal token: the write is stamped newer than this ETag (default: the"
                + " newest ETag this command line saw for the key; CAIRN_NO_CAUSAL_TOKENS=1 turns that off).")
        String after;
        @Option(names = "-w", paramLabel = "QUORUM", description = "Write quorum: one, quorum, all or a number (default: the namespace's).") String w;

        @Override
        public Integer call() throws IOException {
            byte[] body;
            if (file != null && value != null) {
                throw new Main.UsageException("give the value once: as VALUE, with --file, or on stdin ('-' or nothing), not both '"
                        + value + "' and --file " + file);
            }
            if (file != null) {
                body = Files.readAllBytes(file);
            } else if (value == null || value.equals("-")) {
                try (InputStream in = System.in) {
                    body = in.readAllBytes();
                }
            } else {
                body = value.getBytes(StandardCharsets.UTF_8);
            }
            Map<String, String> h = new LinkedHashMap<>();
            if (after != null) {
                h.put("Cairn-After", after);
            }
            if (ttl != null) {
                h.put("Cairn-TTL", ttl);
            }
            if (ifMatch != null) {
                h.put("If-Match", ifMatch);
            }
            if (ifAbsent) {
                h.put("If-None-Match", "*");
            }
            if (contentType != null) {
                h.put("Content-Type", contentType);
            }
            if (idempotencyKey != null) {
                h.put("Idempotency-Key", idempotencyKey);
            }
            return target.exchangeKey("PUT", namespace, key, w == null ? "" : "?w=" + segment(w), h, body, System.out, false,
                    ifMatch != null || ifAbsent);
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Print a key's value to stdout (-v shows ETag and expiry).")
    static final class Get implements Callable<Integer> {
        @Mixin Target target;
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Option(names = {"-n", "--namespace"}, paramLabel = "NAME", description = "The namespace (default: the default namespace).") String namespace;
        @Option(names = "--serial", description = "A linearizable read (consistency=serial): sees every write that finished before it.") boolean serial;
        @Option(names = "-r", paramLabel = "QUORUM", description = "Read quorum: one, quorum, all or a number (default: the namespace's).") String r;

        @Override
        public Integer call() {
            if (serial && r != null) {
                target.err().println("cairn get: --serial and -r exclude each other (a serial read is a Paxos round on a majority)");
                return Main.USAGE;
            }
            String query = serial ? "?consistency=serial" : r != null ? "?r=" + segment(r) : "";
            return target.exchangeKey("GET", namespace, key, query, Map.of(), null, System.out, true, false);
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a key; prints the tombstone's ETag.")
    static final class Delete implements Callable<Integer> {
        @Mixin Target target;
        @Parameters(index = "0", paramLabel = "KEY") String key;
        @Option(names = "--if-match", paramLabel = "ETAG", description = "Delete only if the current version is this ETag.") String ifMatch;
        @Option(names = "--idempotency-key", paramLabel = "KEY", description = "Make retries safe: the same key replays the first outcome.")
        String idempotencyKey;
        @Option(names = {"-n", "--namespace"}, paramLabel = "NAME", description = "The namespace (default: the default namespace).") String namespace;
        @Option(names = "--after", paramLabel = "ETAG", description = "Causal token: the tombstone is stamped newer than this ETag.") String after;

        @Override
        public Integer call() {
            Map<String, String> h = new LinkedHashMap<>();
            if (after != null) {
                h.put("Cairn-After", after);
            }
            if (ifMatch != null) {
                h.put("If-Match", ifMatch);
            }
            if (idempotencyKey != null) {
                h.put("Idempotency-Key", idempotencyKey);
            }
            return target.exchangeKey("DELETE", namespace, key, "", h, null, System.out, false, ifMatch != null);
        }
    }

    @Command(name = "batch", mixinStandardHelpOptions = true, description = "Send a JSON batch (file or '-' for stdin); prints the results.")
    static final class Batch implements Callable<Integer> {
        @Mixin Target target;
        @Parameters(index = "0", paramLabel = "FILE", defaultValue = "-", description = "The batch as JSON (docs/api.md, BATCH); '-' reads stdin.")
        String file;
        @Option(names = "--idempotency-key", paramLabel = "KEY", description = "Make retries safe: the same key replays the first outcome.")
        String idempotencyKey;
        @Option(names = {"-n", "--namespace"}, paramLabel = "NAME", description = "The namespace (default: the default namespace).") String namespace;

        @Override
        public Integer call() throws IOException {
            byte[] body;
            if (file.equals("-")) {
                try (InputStream in = System.in) {
                    body = in.readAllBytes();
                }
            } else {
                body = Files.readAllBytes(Path.of(file));
            }
            HttpRequest.Builder r = HttpRequest.newBuilder(target.uri(kvPath(namespace) + "_batch"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", "application/json");
            if (idempotencyKey != null) {
                r.header("Idempotency-Key", idempotencyKey);
            }
            int code = target.send(r, System.out, true);
            System.out.println();
            return code;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Print the node's status (indented JSON; --json for one line).")
    static final class Status implements Callable<Integer> {
        @Mixin Target target;
        @Option(names = "--json", description = "Print the status as one line of JSON, for scripts (default: indented for reading).") boolean json;

        @Override
        public Integer call() {
            Target.Reply reply = target.fetch(HttpRequest.newBuilder(target.uri("/admin/status")).GET());
            if (reply.code() != 0) {
                return reply.code();
            }
            if (json) {
                System.out.println(reply.body());
            } else {
                com.fasterxml.jackson.databind.ObjectMapper mapper = new com.fasterxml.jackson.databind.ObjectMapper();
                try {
                    System.out.println(mapper.writerWithDefaultPrettyPrinter().writeValueAsString(mapper.readTree(reply.response().body())));
                } catch (IOException e) {
                    System.out.println(reply.body());
                }
            }
            return 0;
        }
    }
}
