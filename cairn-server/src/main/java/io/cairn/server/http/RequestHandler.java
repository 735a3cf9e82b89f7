package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.server.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Per-connection HTTP/1.1 plumbing: assembles requests under a per-route body limit, answers in
 * request order, and keeps connections alive.
 *
 * <p>Body limits are enforced before buffering: a Content-Length over the route's limit is
 * answered with 413 at once (and the connection closed, so the body is never read); a chunked
 * body is refused as soon as it grows past the limit. {@code Expect: 100-continue} is honoured.
 *
 * <p>Ordering: HTTP/1.1 requires responses in request order, but writes complete later than
 * reads. A connection therefore handles one request at a time; pipelined requests wait in a small
 * bounded queue and reading pauses while they do (backpressure instead of unbounded buffering).
 *
 * <p>Runs on the connection's event loop; completions from other threads hop back onto it.
 */
final class RequestHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
    private static final int MAX_PIPELINED = 16;

    private final Api api;
    private final NodeMetrics metrics;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private HttpRequest head;
    private ByteBuf body;
    private Api.BodyLimit limit;
    private boolean discarding;
    private boolean busy;
    private long startNanos;

    RequestHandler(Api api, NodeMetrics metrics) {
        this.api = api;
        this.metrics = metrics;
    }

    /** A request waiting its turn, or (when {@code ready} is set) a refusal to send in its turn and then close. */
    private record Waiting(HttpCall call, boolean keepAlive, long startNanos, FullHttpResponse ready) {}

    // Set once a request was refused in a way that ends the connection: nothing after it is read.
    private boolean closing;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof HttpRequest request) {
                onHead(ctx, request);
            }
            if (msg instanceof HttpContent content && !discarding && head != null) {
                onContent(ctx, content);
            }
            if (msg instanceof LastHttpContent && discarding) {
                discarding = false;
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private void onHead(ChannelHandlerContext ctx, HttpRequest request) {
        if (closing) {
            discarding = true;
            return;
        }
        startNanos = System.nanoTime();
        if (request.decoderResult().isFailure()) {
            Throwable cause = request.decoderResult().cause();
            boolean tooLong = cause instanceof TooLongFrameException;
            ErrorCode code = tooLong ? ErrorCode.HEADERS_TOO_LARGE : ErrorCode.MALFORMED_REQUEST;
            reject(ctx, Responses.error(code, tooLong ? "the request line or headers are too large" : "malformed HTTP request: " + cause.getMessage()));
            return;
        }
        String uri = request.uri();
        int q = uri.indexOf('?');
        limit = api.bodyLimit(request.method(), q >= 0 ? uri.substring(0, q) : uri);
        long declared = HttpUtil.getContentLength(request, -1L);
        if (declared > limit.maxBytes()) {
            reject(ctx, Responses.error(limit.code(), tooLarge(declared)));
            return;
        }
        // While an earlier response is pending, "100 Continue" would overtake it; the client then
        // sends the body after its own expect timeout instead.
        if (HttpUtil.is100ContinueExpected(request) && !busy) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
        head = request;
        body = ctx.alloc().heapBuffer((int) Math.min(Math.max(declared, 0), 64 * 1024));
    }

    private void onContent(ChannelHandlerContext ctx, HttpContent content) {
        ByteBuf chunk = content.content();
        if ((long) body.readableBytes() + chunk.readableBytes() > limit.maxBytes()) {
            reject(ctx, Responses.error(limit.code(), tooLarge(body.readableBytes() + chunk.readableBytes())));
            return;
        }
        body.writeBytes(chunk);
        if (content instanceof LastHttpContent) {
            byte[] bytes = new byte[body.readableBytes()];
            body.readBytes(bytes);
            body.release();
            body = null;
            HttpRequest request = head;
            head = null;
            Waiting w = new Waiting(HttpCall.of(request.method(), request.uri(), request.headers(), bytes),
                    HttpUtil.isKeepAlive(request), startNanos, null);
            if (busy) {
                if (waiting.size() >= MAX_PIPELINED) {
                    reject(ctx, Responses.error(ErrorCode.OVERLOADED, "too many pipelined requests on one connection"));
                    return;
                }
                waiting.add(w);
                ctx.channel().config().setAutoRead(false);
            } else {
                process(ctx, w);
            }
        }
    }

    private String tooLarge(long bytes) {
        return "the " + limit.what() + " is " + (bytes >= 0 ? bytes + " bytes or more" : "too large") + "; the limit is " + limit.maxBytes() + " bytes";
    }

    /**
     * Answers an error that ends the connection: the rest of the request is never read. The
     * refusal waits for the answers to earlier pipelined requests, so it never overtakes them.
     */
    private void reject(ChannelHandlerContext ctx, FullHttpResponse response) {
        discarding = true;
        closing = true;
        head = null;
        if (body != null) {
            body.release();
            body = null;
        }
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        Waiting refusal = new Waiting(null, false, startNanos, response);
        if (busy) {
            waiting.add(refusal);
            ctx.channel().config().setAutoRead(false);
        } else {
            process(ctx, refusal);
        }
    }

    private void process(ChannelHandlerContext ctx, Waiting w) {
        busy = true;
        if (w.ready != null) {
            respond(ctx, w, "rejected", w.ready);
            return;
        }
        CompletableFuture<FullHttpResponse> f;
        String op;
        try {
            op = api.operation(w.call);
            f = api.handle(w.call, ctx.channel().eventLoop());
        } catch (CairnException e) {
            op = "invalid";
            f = CompletableFuture.completedFuture(Responses.error(e));
        } catch (RuntimeException e) {
            log.atError().setCause(e).addKeyValue("uri", w.call.path()).log("request handler failed");
            op = "invalid";
            f = CompletableFuture.completedFuture(Responses.error(ErrorCode.INTERNAL, "internal error: " + e));
        }
        String operation = op;
        if (f.isDone()) {
            respond(ctx, w, operation, f.join());
        } else {
            f.whenComplete((response, error) -> {
                FullHttpResponse r = error == null ? response : Responses.error(ErrorCode.INTERNAL, "internal error: " + error);
                if (ctx.channel().eventLoop().inEventLoop()) {
                    respond(ctx, w, operation, r);
                } else {
                    ctx.channel().eventLoop().execute(() -> respond(ctx, w, operation, r));
                }
            });
        }
    }

    private void respond(ChannelHandlerContext ctx, Waiting w, String op, FullHttpResponse response) {
        metrics.request(op, response.status().code(), System.nanoTime() - w.startNanos);
        if (!ctx.channel().isActive()) {
            ReferenceCountUtil.release(response);
            waiting.clear();
            return;
        }
        if (w.keepAlive) {
            HttpUtil.setKeepAlive(response, true);
            ctx.writeAndFlush(response);
        } else {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            waiting.clear();
            busy = false;
            return;
        }
        busy = false;
        Waiting next = waiting.poll();
        if (next != null) {
            process(ctx, next);
        } else if (!ctx.channel().config().isAutoRead()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (body != null) {
            body.release();
            body = null;
        }
        waiting.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.atDebug().setCause(cause).log("connection error");
        ctx.close();
    }
}
