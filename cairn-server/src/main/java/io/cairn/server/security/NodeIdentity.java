package io.cairn.server.security;

import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Which cluster member a certificate speaks for: its subject alternative name
 * {@code urn:cairn:node:<id>} (a URI name, so it can never be mistaken for a host name). A node
 * certificate carries exactly one; a certificate with none or several names no member.
 */
public final class NodeIdentity {
    static final String URI_PREFIX = "urn:cairn:node:";
    private static final int URI_NAME = 6;

    private NodeIdentity() {}

    static String uriOf(int nodeId) {
        return URI_PREFIX + nodeId;
    }

    /**
     * The member id the peer's certificate names on a connection whose TLS handshake is done, or
     * -1 when the peer presented none, or one naming no member.
     */
    public static int ofPeer(SSLEngine engine) {
        try {
            Certificate[] chain = engine.getSession().getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? of(x) : -1;
        } catch (SSLPeerUnverifiedException e) {
            return -1;
        }
    }

    /** The member id the certificate names, or -1 when it names none (or more than one). */
    public static int of(X509Certificate cert) {
        Collection<List<?>> names;
        try {
            names = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return -1;
        }
        if (names == null) {
            return -1;
        }
        int found = -1;
        for (List<?> name : names) {
            if (name.size() < 2 || !(name.get(0) instanceof Integer type) || type != URI_NAME || !(name.get(1) instanceof String uri)
                    || !uri.startsWith(URI_PREFIX)) {
                continue;
            }
            int id;
            try {
                id = Integer.parseInt(uri.substring(URI_PREFIX.length()));
            } catch (NumberFormatException e) {
                return -1;
            }
            if (found >= 0 || id < 0) {
                return -1;
            }
            found = id;
        }
        return found;
    }
}
