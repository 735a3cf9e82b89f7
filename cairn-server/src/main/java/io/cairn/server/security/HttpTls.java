package io.cairn.server.security;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTPS identity of a node's client port: a certificate chain and its key from PEM files
 * ({@code http.tls.cert}, {@code http.tls.key}; any issuer — a public CA, the company's, or the
 * cluster CA through {@code bin/cairn certs issue}). Clients are not asked for certificates; they
 * authenticate at the HTTP layer. TLS 1.2 and 1.3 ({@link TlsProvider}).
 *
 * <p>Rotation as for {@link NodeTls}: the files are looked at again at most once per second when
 * a connection is accepted, and changed files that load are used for new connections; files that
 * do not load are refused, counted and logged, and the previous ones stay. Thread-safe.
 */
public final class HttpTls {
    private static final Logger log = LoggerFactory.getLogger(HttpTls.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final ReloadingFiles<Loaded> loaded;

    private record Loaded(SslContext context, X509Certificate cert) {}

    private HttpTls(Path certFile, Path keyFile, Clock clock, AuditSink audit) {
        this.loaded = new ReloadingFiles<>(List.of(certFile, keyFile), clock, files -> read(certFile, keyFile, clock.instant()),
                now -> {
                    log.atInfo().addKeyValue("cert", certFile).addKeyValue("notAfter", now.cert.getNotAfter().toInstant())
                            .log("reloaded the HTTPS certificate; new connections use it");
                    audit.record("tls.http.reloaded", "done", null, null,
                            Map.of("cert", certFile.toString(), "notAfter", now.cert.getNotAfter().toInstant().toString()));
                },
                refused -> {
                    log.atWarn().addKeyValue("cert", certFile).addKeyValue("reason", refused.getMessage())
                            .log("refused a changed HTTPS certificate; still using the previous one");
                    audit.record("tls.http.reloaded", "refused", null, null, Map.of("cert", certFile.toString(), "reason", refused.getMessage()));
                });
    }

    /** Loads and checks the files; refuses missing, malformed, mismatched or expired material. */
    public static HttpTls load(Path certFile, Path keyFile, Clock clock, AuditSink audit) {
        return new HttpTls(certFile, keyFile, clock, audit);
    }

    private static Loaded read(Path certFile, Path keyFile, Instant now) {
        for (Path f : List.of(certFile, keyFile)) {
            if (!Files.isRegularFile(f)) {
                throw new SecurityConfigException("HTTPS needs " + f.toAbsolutePath() + ", which does not exist (http.tls.cert, http.tls.key)");
            }
        }
        X509Certificate cert = Pem.readCertificates(certFile).get(0);
        if (now.isAfter(cert.getNotAfter().toInstant())) {
            throw new SecurityConfigException(certFile + " expired at " + cert.getNotAfter().toInstant());
        }
        try {
            SslContext context = SslContextBuilder.forServer(certFile.toFile(), keyFile.toFile()).sslProvider(TlsProvider.get())
                    .protocols(PROTOCOLS).build();
            return new Loaded(context, cert);
        } catch (SSLException | IllegalArgumentException e) {
            throw new SecurityConfigException("cannot use " + keyFile + " with " + certFile + " for HTTPS: " + e.getMessage(), e);
        }
    }

    /** The context for the next accepted connection, reloaded first if the files changed. */
    public SslContext context() {
        return loaded.get().context;
    }

    public Instant notAfter() {
        return loaded.current().cert.getNotAfter().toInstant();
    }

    public long reloads() {
        return loaded.reloads();
    }

    public long reloadFailures() {
        return loaded.failures();
    }
}
