package io.cairn.server.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.net.SocketAddress;

/**
 * One complete HTTP request as the API sees it: method, path, raw query, headers, body, and the
 * {@link System#nanoTime()} by which it must be answered (its last byte's arrival plus the request
 * timeout); work still waiting to start past it is refused, never executed; and the client's
 * address, for the audit log.
 */
public record HttpCall(HttpMethod method, String path, String query, HttpHeaders headers, byte[] body, long deadlineNanos, SocketAddress remote) {
    static HttpCall of(HttpMethod method, String uri, HttpHeaders headers, byte[] body, long deadlineNanos, SocketAddress remote) {
        int q = uri.indexOf('?');
        int hash = uri.indexOf('#');
        String withoutFragment = hash >= 0 ? uri.substring(0, hash) : uri;
        if (q >= 0 && (hash < 0 || q < hash)) {
            return new HttpCall(method, withoutFragment.substring(0, q), withoutFragment.substring(q + 1), headers, body, deadlineNanos, remote);
        }
        return new HttpCall(method, withoutFragment, "", headers, body, deadlineNanos, remote);
    }
}
