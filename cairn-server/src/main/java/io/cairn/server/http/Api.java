package io.cairn.server.http;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.CompletableFuture;

/** What the HTTP plumbing needs from the API: a body limit per route, and a handler. */
interface Api {
    /** The largest body accepted for this method and path, and the error code when exceeded. */
    BodyLimit bodyLimit(HttpMethod method, String path);

    /**
     * A refusal decided from the request's head alone (a missing or malformed credential), sent
     * before its body is read; null to go on.
     */
    FullHttpResponse screen(HttpMethod method, String path, HttpHeaders headers, java.net.SocketAddress remote);

    /** The metric label of the operation this call performs ("get", "put", "batch", "health", "admin_status", ...): a fixed set. */
    String operation(HttpCall call);

    /** Handles a call; may complete later, on any thread. Never completes exceptionally. */
    CompletableFuture<FullHttpResponse> handle(HttpCall call, EventLoop loop);

    /** A body size limit and how to name it in the 413. */
    record BodyLimit(long maxBytes, io.cairn.error.ErrorCode code, String what) {}
}
