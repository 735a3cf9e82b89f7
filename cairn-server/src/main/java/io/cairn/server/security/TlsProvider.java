package io.cairn.server.security;

import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslProvider;

/**
 * Which TLS implementation Cairn's connections use: BoringSSL through Netty's tcnative when its
 * native library loads (Linux x86-64, shipped in the jar), the JDK's own otherwise. Both speak
 * the same protocols with the same certificates; BoringSSL costs less CPU per record and per
 * handshake (docs/benchmarks.md has the figures). {@code -Dcairn.tls.provider=jdk} forces the JDK's.
 */
public final class TlsProvider {
    private TlsProvider() {}

    public static SslProvider get() {
        if ("jdk".equalsIgnoreCase(System.getProperty("cairn.tls.provider", ""))) {
            return SslProvider.JDK;
        }
        return OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
    }

    /** For logs and status: "BoringSSL" or "JDK". */
    public static String name() {
        return get() == SslProvider.OPENSSL ? "BoringSSL" : "JDK";
    }
}
