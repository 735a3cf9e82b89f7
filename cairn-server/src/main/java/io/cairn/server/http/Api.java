package io.cairn.server.http;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import java.util.concurrent.CompletableFuture;

/** What the HTTP plumbing needs from the API: a body limit per route, and a handler. */
interface Api {
    /** The largest body accepted for this method and path, and the error code when exceeded. */
    BodyLimit bodyLimit(HttpMethod method, String path);

    /** The metric name of the operation this call performs ("get", "put", "batch", "ops", ...). */
    String operation(HttpCall call);

    /** Handles a call; may complete later, on any thread. Never completes exceptionally. */
    CompletableFuture<FullHttpResponse> handle(HttpCall call, EventLoop loop);

    /** A body size limit and how to name it in the 413. */
    record BodyLimit(long maxBytes, io.cairn.error.ErrorCode code, String what) {}
}
