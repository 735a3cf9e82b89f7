package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.invariant.Invariant;
import io.cairn.server.health.NodeHealth;
import io.cairn.server.metrics.NodeMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 connection: admits requests against the node's memory budget, assembles their
 * bodies under a per-route limit, answers in request order, and enforces the connection's
 * timeouts.
 *
 * <p><b>Admission.</b> A request is admitted when its head arrives, before its body is read: a
 * declared body over the route's limit is a 413, and one that does not fit the node's budget of
 * bytes in flight ({@link Admission}) is a {@code 503 overloaded} with {@code Retry-After}. Either
 * way the connection closes after the answer and the body is never stored; a chunked body is
 * checked, and reserves memory, as it grows. A connection accepted beyond the connection limit
 * (from the reserve kept for operators) may only ask for /health, /ready or /metrics.
 *
 * <p><b>Ordering and backpressure.</b> HTTP/1.1 answers in request order, but writes complete
 * later than reads, so one request runs at a time and pipelined ones wait, at most
 * {@code maxPipelinedRequests}; at that point the decoder pauses at the next request boundary and
 * the socket is not read until answers catch up. Answers are not produced while the socket
 * cannot take more ({@code maxConnectionUnflushedBytes}), so a client that never reads its
 * answers holds a bounded amount of memory and then simply stops being served; it is dropped
 * after the idle timeout, or after the slow-reader timeout while either node-wide budget is more
 * than half used. Probes (/health and /ready without a body) are admitted whatever the memory
 * budget. A request that
 * waited past its deadline is answered {@code 503} without running.
 *
 * <p><b>Timeouts.</b> A new connection must start its first request within the header timeout;
 * a request's headers must be complete within it after the first byte; a body must keep an
 * average rate after a grace; a kept-alive connection may idle between requests for the idle
 * timeout, and a client may leave answers unread for as long. Expired requests get {@code 408};
 * idle connections are closed silently. Nothing of a timed-out request is applied.
 *
 * <p><b>Closing.</b> An answer that ends the connection before the request was fully read
 * (refusals, timeouts) is followed by a lingering close: output is shut, input is drained and
 * discarded for a moment, so the client reads the answer instead of a reset.
 *
 * <p>Runs on the connection's event loop; completions from other threads hop back onto it.
 */
final class RequestHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
    /** Routes served on connections beyond the connection limit. */
    static final Set<String> OPS_PATHS = Set.of("/health", "/ready", "/livez", "/readyz", "/metrics");
    /** Routes admitted whatever the memory budget (small, fixed-size answers). */
    static final Set<String> PROBE_PATHS = Set.of("/health", "/ready", "/livez", "/readyz");
    private static final long LINGER_MILLIS = 2000;
    private static final int RESPONSE_HEAD_BYTES = 256;
    private static final byte[] EMPTY = new byte[0];

    private final Api api;
    private final NodeMetrics metrics;
    private final NodeHealth health;
    private final HttpSettings settings;
    private final Admission admission;
    private final boolean opsOnly;
    private final long tickNanos;
    private RequestDecoder decoder;

    // The request being received: head, body so far, its body limit and reserved bytes.
    private RequestDecoder.Head head;
    private ByteBuf body;
    private Api.BodyLimit limit;
    private long reserved;
    private long headNanos;

    // Requests (and at most one final refusal) waiting for their turn, in arrival order.
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    // The request whose answer is being produced; null when none. Invariant: at most one.
    private Waiting running;
    private boolean draining;
    private boolean paused;
    // Set once no further request will be read: a refusal, a timeout or Connection: close.
    private boolean closing;
    // Set once a refusal is queued: the connection's last answer.
    private boolean refused;
    private boolean served;
    private long idleSinceNanos;
    private long unwritableSinceNanos;
    private ScheduledFuture<?> tick;

    RequestHandler(Api api, NodeMetrics metrics, NodeHealth health, HttpSettings settings, Admission admission, boolean opsOnly) {
        this.api = api;
        this.metrics = metrics;
        this.health = health;
        this.settings = settings;
        this.admission = admission;
        this.opsOnly = opsOnly;
        long shortest = Math.min(settings.headerTimeout().toNanos(), Math.min(settings.idleTimeout().toNanos(), settings.bodyTimeout().toNanos()));
        this.tickNanos = Math.max(TimeUnit.MILLISECONDS.toNanos(10), Math.min(TimeUnit.SECONDS.toNanos(1), shortest / 4));
    }

    /**
     * A request waiting its turn, or (when {@code ready} is set) a refusal to send in its turn,
     * after which the connection closes.
     */
    private record Waiting(HttpCall call, boolean keepAlive, boolean http10, boolean headOnly, long startNanos,
                           long reserved, FullHttpResponse ready) {}

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        decoder = ctx.pipeline().get(RequestDecoder.class);
        Invariant.check(decoder != null, "RequestHandler needs a RequestDecoder before it in the pipeline");
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        idleSinceNanos = System.nanoTime();
        scheduleTick(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        switch (msg) {
            case RequestDecoder.Head h -> onHead(ctx, h);
            case RequestDecoder.Body b -> {
                try {
                    onBody(ctx, b.content());
                } finally {
                    b.content().release();
                }
            }
            case RequestDecoder.Malformed m -> {
                metrics.malformedRequest();
                reject(ctx, Responses.error(m.code(), m.message()));
            }
            default -> {
                if (msg == RequestDecoder.END) {
                    onEnd(ctx);
                } else {
                    ReferenceCountUtil.release(msg);
                }
            }
        }
    }

    private void onHead(ChannelHandlerContext ctx, RequestDecoder.Head h) {
        if (closing) {
            return;
        }
        if (admission.draining()) {
            // The node is stopping: what it admitted before finishes; a new request on a kept
            // connection is told so (and the connection closes), rather than cut without an answer.
            reject(ctx, Responses.error(ErrorCode.NOT_READY, "the node is shutting down; nothing was done; send the request to another node"));
            return;
        }
        headNanos = System.nanoTime();
        String uri = h.uri();
        int q = uri.indexOf('?');
        String path = q >= 0 ? uri.substring(0, q) : uri;
        if (opsOnly && !OPS_PATHS.contains(path)) {
            metrics.shed("connections");
            reject(ctx, Responses.error(ErrorCode.OVERLOADED, "the node is at its connection limit (" + settings.maxConnections()
                    + "); connections beyond it may only ask for " + OPS_PATHS));
            return;
        }
        // A request with a body is authenticated while the body arrives: refused before it is
        // read or admitted when its head settles it, else as soon as the token's lookup ends.
        CompletableFuture<Supplier<FullHttpResponse>> screened = h.hasBody()
                ? api.screen(h.method(), path, h.headers(), ctx.channel().remoteAddress()) : null;
        if (screened != null && screened.isDone()) {
            Supplier<FullHttpResponse> refused = screened.join();
            if (refused != null) {
                reject(ctx, refused.get());
                return;
            }
            screened = null;
        }
        limit = api.bodyLimit(h.method(), path);
        if (h.contentLength() > limit.maxBytes()) {
            reject(ctx, Responses.error(limit.code(), tooLarge(h.contentLength())));
            return;
        }
        if (admission.shedForStorage(h.contentLength())) {
            metrics.shed("storage");
            reject(ctx, Responses.error(ErrorCode.OVERLOADED, "the storage engine is throttling writes; requests with bodies over "
                    + settings.largeRequestBytes() + " bytes are refused until it catches up; retry shortly"));
            return;
        }
        long want = Admission.REQUEST_OVERHEAD_BYTES + Math.max(0, h.contentLength());
        if (PROBE_PATHS.contains(path) && h.contentLength() <= 0 && !h.chunked()) {
            // Probes answer even at the memory budget: that is when they matter most. Their
            // answers are a few hundred bytes; /metrics, which can be large, stays under admission.
            admission.admitAlways(want);
        } else if (!admission.admit(want)) {
            metrics.shed("memory");
            reject(ctx, Responses.error(ErrorCode.OVERLOADED, "the node is at its memory budget for requests in flight ("
                    + settings.maxInflightBytes() + " bytes of requests, " + settings.maxUnflushedBytes() + " of unsent answers); retry shortly"));
            return;
        }
        reserved = want;
        head = h;
        if (h.hasBody()) {
            body = ctx.alloc().heapBuffer((int) Math.min(h.chunked() ? 1024 : h.contentLength(), 64 * 1024));
        }
        if (screened == null) {
            continueIfExpected(ctx, h);
            return;
        }
        screened.whenCompleteAsync((refused, error) -> {
            if (head != h || closing) {
                return; // The body ended first (the request's own check decides it), or the connection did.
            }
            if (refused != null) {
                reject(ctx, refused.get());
            } else {
                continueIfExpected(ctx, h);
            }
        }, ctx.executor());
    }

    /**
     * "100 Continue" for a request that asks for it, once it is admitted (and authenticated).
     * While an earlier answer is pending it would overtake that answer; the client then sends the
     * body after its own expect timeout instead.
     */
    private void continueIfExpected(ChannelHandlerContext ctx, RequestDecoder.Head h) {
        if (h.expectContinue() && running == null && waiting.isEmpty()) {
            ctx.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
        }
    }

    private void onBody(ChannelHandlerContext ctx, ByteBuf chunk) {
        if (head == null) {
            return;
        }
        long size = (long) body.readableBytes() + chunk.readableBytes();
        if (size > limit.maxBytes()) {
            reject(ctx, Responses.error(limit.code(), tooLarge(size)));
            return;
        }
        if (head.chunked() && admission.shedForStorage(size)) {
            metrics.shed("storage");
            reject(ctx, Responses.error(ErrorCode.OVERLOADED, "the storage engine is throttling writes; requests with bodies over "
                    + settings.largeRequestBytes() + " bytes are refused until it catches up; retry shortly"));
            return;
        }
        long more = Admission.REQUEST_OVERHEAD_BYTES + size - reserved;
        if (more > 0) {
            if (!admission.grow(more)) {
                metrics.shed("memory");
                reject(ctx, Responses.error(ErrorCode.OVERLOADED, "the node is at its memory budget for requests in flight; retry shortly"));
                return;
            }
            reserved += more;
        }
        body.writeBytes(chunk);
    }

    private void onEnd(ChannelHandlerContext ctx) {
        if (head == null) {
            return;
        }
        byte[] bytes = EMPTY;
        if (body != null) {
            bytes = new byte[body.readableBytes()];
            body.readBytes(bytes);
            body.release();
            body = null;
        }
        RequestDecoder.Head h = head;
        head = null;
        long now = System.nanoTime();
        HttpCall call = HttpCall.of(h.method(), h.uri(), h.headers(), bytes, now + settings.requestTimeout().toNanos(),
                ctx.channel().remoteAddress());
        Waiting w = new Waiting(call, h.keepAlive(), h.version() == HttpVersion.HTTP_1_0, h.method().equals(HttpMethod.HEAD),
                headNanos, reserved, null);
        reserved = 0;
        if (!h.keepAlive()) {
            // Nothing after a request that closes the connection is read.
            closing = true;
            decoder.stop();
        }
        waiting.add(w);
        if (waiting.size() >= settings.maxPipelinedRequests() && !paused) {
            paused = true;
            decoder.pause();
            ctx.channel().config().setAutoRead(false);
        }
        drain(ctx);
    }

    private String tooLarge(long bytes) {
        return "the " + limit.what() + " is " + (bytes >= 0 ? bytes + " bytes or more" : "too large") + "; the limit is " + limit.maxBytes() + " bytes";
    }

    /**
     * Answers an error that ends the connection: nothing after it is read. The refusal waits for
     * the answers to earlier pipelined requests, so it never overtakes them.
     */
    private void reject(ChannelHandlerContext ctx, FullHttpResponse response) {
        if (refused) {
            ReferenceCountUtil.release(response);
            return;
        }
        refused = true;
        closing = true;
        decoder.stop();
        long start = head != null ? headNanos : System.nanoTime();
        releaseCurrent();
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        waiting.add(new Waiting(null, false, false, false, start, 0, response));
        drain(ctx);
    }

    /** Runs waiting requests one at a time while the socket can take their answers. */
    private void drain(ChannelHandlerContext ctx) {
        if (draining) {
            return;
        }
        draining = true;
        try {
            boolean again = true;
            while (again) {
                again = false;
                while (running == null && !waiting.isEmpty() && ctx.channel().isActive()
                        && (ctx.channel().isWritable() || waiting.peek().ready != null)) {
                    process(ctx, waiting.poll());
                }
                if (paused && !closing && waiting.size() < settings.maxPipelinedRequests() && ctx.channel().isWritable()) {
                    // Parses what arrived meanwhile; the requests it completes join the queue.
                    paused = false;
                    ctx.channel().config().setAutoRead(true);
                    decoder.resume(ctx);
                    again = true;
                }
            }
        } finally {
            draining = false;
        }
    }

    private void process(ChannelHandlerContext ctx, Waiting w) {
        running = w;
        if (w.ready != null) {
            respond(ctx, w, "rejected", w.ready);
            return;
        }
        if (System.nanoTime() - w.call.deadlineNanos() > 0) {
            metrics.shed("deadline");
            respond(ctx, w, "expired", Responses.error(ErrorCode.OVERLOADED, "the request waited past its deadline ("
                    + settings.requestTimeout().toMillis() + " ms) behind earlier requests on this connection and was not executed"));
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
            if (Invariant.violationIn(e) != null) {
                throw e; // To exceptionCaught: fatal.
            }
            // A bug in one request's handling: that request fails, the connection and node go on.
            log.atError().setCause(e).addKeyValue("uri", w.call.path()).log("request handler failed");
            op = "invalid";
            f = CompletableFuture.completedFuture(Responses.error(ErrorCode.INTERNAL, "internal error: " + e));
        }
        String operation = op;
        if (f.isDone()) {
            respond(ctx, w, operation, f.join());
            return;
        }
        // A safety net, not a timeout: every route answers by its own deadline. Should a bug lose
        // an answer, the connection must not hang with its memory reserved for ever.
        ScheduledFuture<?> lost = ctx.executor().schedule(() -> {
            if (running == w) {
                log.atError().addKeyValue("uri", w.call.path()).log("no answer long after the request deadline; answering 504");
                respond(ctx, w, operation, Responses.error(ErrorCode.OUTCOME_UNKNOWN,
                        "the node produced no answer in time; the request may or may not have been applied"));
            }
        }, Math.max(0, w.call.deadlineNanos() - System.nanoTime()) + 2 * settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
        f.whenComplete((response, error) -> {
            lost.cancel(false);
            Throwable cause = error instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : error;
            if (cause instanceof Error || Invariant.violationIn(cause) != null) {
                // No thread to rethrow on: report it as the thread would have, then answer.
                health.fatal("http", cause);
            }
            if (error != null) {
                log.atError().setCause(cause).addKeyValue("uri", w.call.path()).log("request failed with an internal error");
            }
            FullHttpResponse r = error == null ? response : Responses.error(ErrorCode.INTERNAL, "internal error: " + error);
            if (ctx.channel().eventLoop().inEventLoop()) {
                answerLate(ctx, w, operation, r);
            } else {
                ctx.channel().eventLoop().execute(() -> answerLate(ctx, w, operation, r));
            }
        });
    }

    /** Delivers an answer that completed after {@link #process} returned, reporting what a callback would swallow. */
    private void answerLate(ChannelHandlerContext ctx, Waiting w, String op, FullHttpResponse response) {
        try {
            respond(ctx, w, op, response);
        } catch (Error | Invariant.InvariantViolation e) {
            health.fatal("http", e);
            throw e;
        }
    }

    private void respond(ChannelHandlerContext ctx, Waiting w, String op, FullHttpResponse response) {
        if (running != w) {
            // The safety net answered already; this answer is too late to send.
            ReferenceCountUtil.release(response);
            return;
        }
        running = null;
        long now = System.nanoTime();
        metrics.request(op, response.status().code(), now - w.startNanos);
        admission.release(w.reserved);
        Channel channel = ctx.channel();
        if (!channel.isActive()) {
            ReferenceCountUtil.release(response);
            releaseWaiting();
            return;
        }
        if (w.headOnly) {
            FullHttpResponse headers = response.replace(Unpooled.EMPTY_BUFFER);
            response.release();
            response = headers;
        }
        boolean last = w.ready != null || !w.keepAlive;
        if (last) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (w.http10) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        long size = response.content().readableBytes() + RESPONSE_HEAD_BYTES;
        admission.written(size);
        ChannelFuture written = ctx.writeAndFlush(response);
        written.addListener(x -> admission.flushed(size));
        served = true;
        idleSinceNanos = now;
        if (last) {
            releaseWaiting();
            if (w.ready != null) {
                written.addListener(x -> linger(ctx));
            } else {
                written.addListener(x -> channel.close());
            }
            return;
        }
        drain(ctx);
    }

    /**
     * Closes after an answer sent before the request was read to its end: shuts output, then
     * discards input until the client closes or a short linger passes, so the client is not
     * reset before it reads the answer.
     */
    private void linger(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        if (!channel.isActive()) {
            return;
        }
        if (channel instanceof DuplexChannel duplex) {
            duplex.shutdownOutput();
            channel.config().setAutoRead(true);
            ctx.executor().schedule(() -> {
                channel.close();
            }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
        } else {
            channel.close();
        }
    }

    /** Drops the request being received, if any, and its reservation. */
    private void releaseCurrent() {
        head = null;
        if (body != null) {
            body.release();
            body = null;
        }
        if (reserved > 0) {
            admission.release(reserved);
            reserved = 0;
        }
    }

    private void releaseWaiting() {
        Waiting w;
        while ((w = waiting.poll()) != null) {
            admission.release(w.reserved);
            if (w.ready != null) {
                ReferenceCountUtil.release(w.ready);
            }
        }
    }

    private void scheduleTick(ChannelHandlerContext ctx) {
        tick = ctx.executor().schedule(() -> onTick(ctx), tickNanos, TimeUnit.NANOSECONDS);
    }

    /** Enforces the timeouts; runs every {@code tickNanos} while the connection is open. */
    private void onTick(ChannelHandlerContext ctx) {
        Channel channel = ctx.channel();
        if (!channel.isActive()) {
            return;
        }
        long now = System.nanoTime();
        if (channel.isWritable()) {
            unwritableSinceNanos = 0;
        } else if (unwritableSinceNanos == 0) {
            unwritableSinceNanos = now;
        } else if (now - unwritableSinceNanos > (admission.underPressure() ? settings.slowReaderTimeout() : settings.idleTimeout()).toNanos()) {
            // The client has not read its answers for the idle timeout, or for the slow-reader
            // timeout while memory is short: what it holds is better spent on clients that read.
            metrics.timeout("unread");
            channel.close();
            return;
        }
        if (running == null && waiting.isEmpty()) {
            switch (decoder.phase()) {
                case IDLE -> {
                    long allowed = served ? settings.idleTimeout().toNanos() : settings.headerTimeout().toNanos();
                    if (now - idleSinceNanos > allowed) {
                        // A connection that never sent a byte ran out of header time, not idle time.
                        metrics.timeout(served ? "idle" : "header");
                        channel.close();
                        return;
                    }
                }
                case HEAD -> {
                    if (now - decoder.requestStartNanos() > settings.headerTimeout().toNanos()) {
                        timeout(ctx, "header", "the request line and headers did not arrive within " + settings.headerTimeout().toMillis() + " ms");
                    }
                }
                case BODY -> {
                    if (head != null && bodyTooSlow(now)) {
                        timeout(ctx, "body", "the request body arrived slower than " + settings.minBodyBytesPerSecond()
                                + " bytes/s after a grace of " + settings.bodyTimeout().toMillis() + " ms");
                    }
                }
                case STOPPED -> { }
            }
        }
        scheduleTick(ctx);
    }

    private boolean bodyTooSlow(long now) {
        double late = (now - headNanos - settings.bodyTimeout().toNanos()) / 1e9;
        long received = body == null ? 0 : body.readableBytes();
        return late > 0 && received < late * settings.minBodyBytesPerSecond();
    }

    private void timeout(ChannelHandlerContext ctx, String phase, String message) {
        metrics.timeout(phase);
        reject(ctx, Responses.error(ErrorCode.REQUEST_TIMEOUT, message + "; nothing of it was applied"));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            drain(ctx);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releaseCurrent();
        releaseWaiting();
        if (tick != null) {
            tick.cancel(false);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        // An Error thrown where a future was joined arrives wrapped (a CompletionException around
        // an OutOfMemoryError): still fatal, as docs/operations.md says.
        Throwable root = cause;
        while ((root instanceof java.util.concurrent.CompletionException || root instanceof java.util.concurrent.ExecutionException)
                && root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root instanceof Error || Invariant.violationIn(cause) != null) {
            health.fatal("http", cause);
        } else if (cause instanceof IOException) {
            log.atDebug().setCause(cause).log("connection error");
        } else {
            log.atWarn().setCause(cause).log("unexpected error on an HTTP connection; closing it");
        }
        ctx.close();
    }
}
