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
     * The credential check of a request with a body, started when its head arrives: null when the
     * route needs none, else completes with the refusal (a missing, malformed, unknown, expired or
     * revoked token, a missing role, or a shed lookup) or with null to go on. Completed at once
     * when the head settles it (this node's admin credential, a token its cache knows); else when
     * the token's one store read ends, while the body is still arriving: the refusal then ends the
     * request at once, so a made-up token holds its body's memory reservation for a lookup's time
     * only. The refusal is counted and audited when taken ({@code get}): only if it ends the
     * request. Never completes exceptionally.
     */
    CompletableFuture<java.util.function.Supplier<FullHttpResponse>> screen(HttpMethod method, String path, HttpHeaders headers, java.net.SocketAddress remote);

    /** The metric label of the operation this call performs ("get", "put", "batch", "health", "admin_status", ...): a fixed set. */
    String operation(HttpCall call);

    /** Handles a call; may complete later, on any thread. Never completes exceptionally. */
    CompletableFuture<FullHttpResponse> handle(HttpCall call, EventLoop loop);

    /** A body size limit and how to name it in the 413. */
    record BodyLimit(long maxBytes, io.cairn.error.ErrorCode code, String what) {}
}
