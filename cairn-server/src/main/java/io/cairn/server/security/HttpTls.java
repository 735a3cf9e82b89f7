package io.cairn.server.security;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS identity of a node's client port: a certificate chain and its key from PEM files
 * ({@code http.tls.cert}, {@code http.tls.key}; any issuer — a public CA, the company's, or the
 * cluster CA through {@code bin/cairn certs issue}). Clients are not asked for certificates; they
 * authenticate at the HTTP layer. TLS 1.2 and 1.3, the JDK's provider.
 *
 * <p>Rotation as for {@link NodeTls}: the files are looked at again at most once per second when
 * a connection is accepted, and changed files that load are used for new connections; files that
 * do not load are refused, counted and logged, and the previous ones stay. Thread-safe.
 */
public final class HttpTls {
    private static final Logger log = LoggerFactory.getLogger(HttpTls.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final Path certFile;
    private final Path keyFile;
    private final Clock clock;
    private final AuditSink audit;
    private volatile Loaded current;
    private volatile long checkedAtMillis;
    private final AtomicLong reloads = new AtomicLong();
    private final AtomicLong reloadFailures = new AtomicLong();

    private record Loaded(SslContext context, X509Certificate cert, String stamp) {}

    private HttpTls(Path certFile, Path keyFile, Clock clock, AuditSink audit, Loaded loaded) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.clock = clock;
        this.audit = audit;
        this.current = loaded;
        this.checkedAtMillis = clock.millis();
    }

    /** Loads and checks the files; refuses missing, malformed, mismatched or expired material. */
    public static HttpTls load(Path certFile, Path keyFile, Clock clock, AuditSink audit) {
        return new HttpTls(certFile, keyFile, clock, audit, read(certFile, keyFile, clock.instant()));
    }

    private static Loaded read(Path certFile, Path keyFile, Instant now) {
        for (Path f : List.of(certFile, keyFile)) {
            if (!Files.isRegularFile(f)) {
                throw new SecurityConfigException("HTTPS needs " + f.toAbsolutePath() + ", which does not exist (http.tls.cert, http.tls.key)");
            }
        }
        String stamp = stamp(certFile, keyFile);
        X509Certificate cert = Pem.readCertificates(certFile).get(0);
        if (now.isAfter(cert.getNotAfter().toInstant())) {
            throw new SecurityConfigException(certFile + " expired at " + cert.getNotAfter().toInstant());
        }
        try {
            SslContext context = SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile()).sslProvider(SslProvider.JDK)
                    .protocols(PROTOCOLS).build();
            return new Loaded(context, cert, stamp);
        } catch (SSLException | IllegalArgumentException e) {
            throw new SecurityConfigException("cannot use " + keyFile + " with " + certFile + " for HTTPS: " + e.getMessage(), e);
        }
    }

    private static String stamp(Path... files) {
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

    /** The context for the next accepted connection, reloaded first if the files changed. */
    public SslContext context() {
        long now = clock.millis();
        if (now - checkedAtMillis < NodeTls.RECHECK_MILLIS) {
            return current.context;
        }
        synchronized (this) {
            if (now - checkedAtMillis < NodeTls.RECHECK_MILLIS) {
                return current.context;
            }
            checkedAtMillis = now;
            Loaded before = current;
            String stamp = stamp(certFile, keyFile);
            if (Objects.equals(stamp, before.stamp)) {
                return before.context;
            }
            try {
                Loaded loaded = read(certFile, keyFile, clock.instant());
                current = loaded;
                reloads.incrementAndGet();
                log.atInfo().addKeyValue("cert", certFile).addKeyValue("notAfter", loaded.cert.getNotAfter().toInstant())
                        .log("reloaded the HTTPS certificate; new connections use it");
                audit.record("tls.http.reloaded", "done", null, null,
                        Map.of("cert", certFile.toString(), "notAfter", loaded.cert.getNotAfter().toInstant().toString()));
                return loaded.context;
            } catch (SecurityConfigException e) {
                current = new Loaded(before.context, before.cert, stamp);
                reloadFailures.incrementAndGet();
                log.atWarn().addKeyValue("cert", certFile).addKeyValue("reason", e.getMessage())
                        .log("refused a changed HTTPS certificate; still using the previous one");
                audit.record("tls.http.reloaded", "refused", null, null, Map.of("cert", certFile.toString(), "reason", e.getMessage()));
                return before.context;
            }
        }
    }

    public Instant notAfter() {
        return current.cert.getNotAfter().toInstant();
    }

    public long reloads() {
        return reloads.get();
    }

    public long reloadFailures() {
        return reloadFailures.get();
    }
}
