package io.cairn.server.internode;

import io.cairn.server.security.AuditSink;
import io.cairn.server.security.NodeIdentity;
import io.cairn.server.security.NodeTls;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.ssl.SslHandler;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Queue;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The sending half of one peer link: a bounded queue of encoded messages and the one outbound
 * connection that drains it.
 *
 * <p>Senders on any thread reserve room in the queue's count and byte bounds, append, and
 * schedule a drain on the peer's event loop; everything else — connection state, backoff, the
 * jitter source — is confined to that loop. A drain writes what is queued without flushing and
 * flushes once at the end, so a burst from the core leaves in a few large writes.
 */
final class OutboundPeer {
    private static final Logger log = LoggerFactory.getLogger(OutboundPeer.class);
    // Bounds one drain turn so a busy peer cannot starve the other channels on its event loop.
    private static final int WRITES_PER_TURN = 1024;
    // Netty's own outbound buffer stays within about this much; beyond it messages wait in our
    // bounded queue, where they are counted and dropped when it overflows.
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(1 << 20, 4 << 20);
    private static final int MAX_ATTEMPT = 62;

    private enum State { IDLE, CONNECTING, CONNECTED, BACKOFF }

    private final int self;
    private final int id;
    private final String host;
    private final int port;
    private final EventLoop loop;
    private final Bootstrap bootstrap;
    private final InternodeSettings settings;
    private final PeerStats stats;
    private final InternodeTransport.Totals totals;
    private final ChannelGroup channels;
    // Null: plaintext.
    private final NodeTls tls;
    private final AuditSink audit;

    // Shared with sending threads.
    private final Queue<Outgoing> queue = new ConcurrentLinkedQueue<>();

    /** An encoded message and when it was queued, which its budget counts from. */
    private record Outgoing(byte[] payload, long queuedAtNanos) {}
    // Invariant: true from the moment a drain task is submitted until it has finished its turn.
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private volatile boolean closed;

    // Confined to loop.
    private State state = State.IDLE;
    private Channel channel; // Invariant: non-null exactly when state == CONNECTED
    private int attempt;
    private long connectedAtNanos;
    private boolean reportedDown;
    private boolean reportedTls;
    private ScheduledFuture<?> reconnect;
    private final SplittableRandom jitter;

    OutboundPeer(int self, int id, String host, int port, EventLoop loop, Class<? extends SocketChannel> channelClass,
                 boolean epoll, InternodeSettings settings, PeerStats stats, InternodeTransport.Totals totals,
                 ChannelGroup channels, NodeTls tls, AuditSink audit) {
        this.self = self;
        this.id = id;
        this.host = host;
        this.port = port;
        this.loop = loop;
        this.settings = settings;
        this.stats = stats;
        this.totals = totals;
        this.channels = channels;
        this.tls = tls;
        this.audit = audit;
        this.jitter = new SplittableRandom(settings.jitterSeed() * 0x9E3779B97F4A7C15L + id);
        this.bootstrap = new Bootstrap()
                .group(loop)
                .channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) settings.connectTimeout().toMillis())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
                .handler(tls == null ? new Handler() : new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast("tls", tls.client().newHandler(ch.alloc(), host, port)).addLast("discard", new Handler());
                    }
                });
        if (epoll) {
            bootstrap.option(EpollChannelOption.TCP_USER_TIMEOUT, (int) settings.stalledConnectionTimeout().toMillis());
        }
    }

    /** Whether the queue is at a bound already, so a sender can drop without encoding; any thread. */
    boolean full() {
        return stats.queuedMessages.get() >= settings.maxQueuedMessagesPerPeer() || stats.queuedBytes.get() >= settings.maxQueuedBytesPerPeer();
    }

    /** Queues one encoded message; called on any thread. Drops and counts it when the queue is full. */
    void enqueue(byte[] payload) {
        int n = stats.queuedMessages.incrementAndGet();
        long bytes = stats.queuedBytes.addAndGet(payload.length);
        if (n > settings.maxQueuedMessagesPerPeer() || bytes > settings.maxQueuedBytesPerPeer()) {
            unreserve(payload);
            stats.messagesDropped.incrementAndGet();
            return;
        }
        queue.add(new Outgoing(payload, System.nanoTime()));
        scheduleDrain();
    }

    /** Stops reconnecting, closes the connection and discards what is queued; called on any thread. */
    /** Where this peer is dialled, as host:port. */
    String address() {
        return host + ":" + port;
    }

    void close() {
        closed = true;
        try {
            loop.execute(this::shutDown);
        } catch (RejectedExecutionException e) {
            discardQueue(); // The loop is already gone, and with it the connection.
        }
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(this::drain);
            } catch (RejectedExecutionException e) {
                drainScheduled.set(false); // Shutting down: what is queued is discarded with the transport.
            }
        }
    }

    private void drain() {
        try {
            if (closed) {
                discardQueue();
                return;
            }
            switch (state) {
                case IDLE -> {
                    if (!queue.isEmpty()) {
                        connect();
                    }
                }
                case CONNECTED -> writeQueued();
                case CONNECTING, BACKOFF -> {
                    // The connection's outcome drains the queue.
                }
            }
        } finally {
            drainScheduled.set(false);
        }
        // A sender that appended while this turn ran saw drainScheduled set and left the rest to us.
        if (!closed && state == State.CONNECTED && channel.isWritable() && !queue.isEmpty()) {
            scheduleDrain();
        }
    }

    private void writeQueued() {
        Channel ch = channel;
        boolean wrote = false;
        Outgoing next;
        long budgetNanos = settings.messageBudget().toNanos();
        for (int turn = 0; turn < WRITES_PER_TURN && ch.isWritable() && (next = queue.poll()) != null; turn++) {
            byte[] payload = next.payload();
            unreserve(payload);
            if (stats.blocked) {
                totals.blockedDrops.incrementAndGet();
                continue;
            }
            long left = budgetNanos - (System.nanoTime() - next.queuedAtNanos());
            if (left <= 0) {
                // Waited out its budget (a reconnect, a slow link): nobody waits for it any more.
                totals.expiredDrops.incrementAndGet();
                stats.messagesDropped.incrementAndGet();
                continue;
            }
            ch.write(Wire.frame(ch.alloc(), payload, (int) Math.max(1, left / 1_000_000)), ch.voidPromise());
            stats.messagesSent.incrementAndGet();
            stats.bytesSent.addAndGet(payload.length);
            wrote = true;
        }
        if (wrote) {
            ch.flush();
        }
    }

    private void connect() {
        state = State.CONNECTING;
        // Unresolved, so every attempt resolves the name again: a peer may come back elsewhere.
        bootstrap.connect(InetSocketAddress.createUnresolved(host, port)).addListener(f -> onConnectDone((ChannelFuture) f));
    }

    private void onConnectDone(ChannelFuture f) {
        if (!f.isSuccess()) {
            stats.connectFailures.incrementAndGet();
            if (!closed && !reportedDown) {
                reportedDown = true;
                log.atInfo().addKeyValue("node", self).addKeyValue("peer", id).addKeyValue("address", host + ":" + port)
                        .addKeyValue("cause", String.valueOf(f.cause())).log("cannot connect to peer; retrying with backoff");
            }
            scheduleReconnect();
            return;
        }
        Channel ch = f.channel();
        if (closed) {
            ch.close();
            return;
        }
        if (ch.localAddress() != null && ch.localAddress().equals(ch.remoteAddress())) {
            // TCP simultaneous open: with nothing listening on a port in the ephemeral range, the
            // kernel can hand us that very port as our source and connect the socket to itself.
            ch.close();
            stats.connectFailures.incrementAndGet();
            scheduleReconnect();
            return;
        }
        channels.add(ch);
        if (tls == null) {
            established(ch);
            return;
        }
        // Nothing is written before the peer proved, by its certificate, that it is the member dialled.
        ch.pipeline().get(SslHandler.class).handshakeFuture().addListener(h -> verified(ch, h.isSuccess(), h.cause()));
    }

    /** The TLS handshake of {@code ch} ended: proceed only with the member this peer is. */
    private void verified(Channel ch, boolean success, Throwable cause) {
        if (closed) {
            ch.close();
            return;
        }
        int certified = success ? NodeIdentity.ofPeer(ch.pipeline().get(SslHandler.class).engine()) : -1;
        if (!success || certified != id) {
            totals.tlsRefusals.incrementAndGet();
            stats.connectFailures.incrementAndGet();
            String reason = !success ? "TLS handshake failed: " + cause
                    : "it presents " + (certified < 0 ? "no member's certificate" : "node " + certified + "'s certificate");
            var line = reportedTls ? log.atDebug() : log.atWarn();
            reportedTls = true;
            line.addKeyValue("node", self).addKeyValue("peer", id).addKeyValue("address", host + ":" + port).addKeyValue("reason", reason)
                    .log("refused the connection to a peer: it did not prove to be that member");
            audit.record("internode.dial", "refused", certified < 0 ? "unknown" : "node " + certified, host + ":" + port,
                    Map.of("peer", id, "reason", reason));
            ch.close();
            scheduleReconnect();
            return;
        }
        reportedTls = false;
        established(ch);
    }

    /** A connection to the right peer: handshake, then everything queued. */
    private void established(Channel ch) {
        state = State.CONNECTED;
        channel = ch;
        connectedAtNanos = System.nanoTime();
        reportedDown = false;
        stats.connects.incrementAndGet();
        stats.connected = true;
        log.atInfo().addKeyValue("node", self).addKeyValue("peer", id).addKeyValue("address", host + ":" + port)
                .log("connected to peer");
        ch.write(Wire.handshake(ch.alloc(), self, id), ch.voidPromise());
        writeQueued();
        ch.flush();
        // One turn writes at most WRITES_PER_TURN; whatever queued up while connecting beyond
        // that needs further turns even if nothing new is sent.
        if (!queue.isEmpty()) {
            scheduleDrain();
        }
        // Registered last: on an already closed channel it runs at once and resets the state.
        ch.closeFuture().addListener(x -> onClosed(ch));
    }

    private void onClosed(Channel ch) {
        if (ch != channel) {
            return;
        }
        channel = null;
        state = State.IDLE;
        stats.connected = false;
        if (closed) {
            return;
        }
        log.atInfo().addKeyValue("node", self).addKeyValue("peer", id).log("connection to peer lost");
        // A connection that lived through a full backoff period was healthy: start over fast. One
        // that dies right after connecting (a peer refusing our handshake) keeps backing off.
        if (System.nanoTime() - connectedAtNanos >= settings.reconnectBackoffMax().toNanos()) {
            attempt = 0;
        }
        scheduleReconnect();
    }

    private void scheduleReconnect() {
        if (closed) {
            return;
        }
        state = State.BACKOFF;
        long delay = backoffNanos(attempt, settings.reconnectBackoffMin().toNanos(), settings.reconnectBackoffMax().toNanos(), jitter);
        attempt = Math.min(attempt + 1, MAX_ATTEMPT);
        reconnect = loop.schedule(this::afterBackoff, delay, TimeUnit.NANOSECONDS);
    }

    private void afterBackoff() {
        reconnect = null;
        if (closed) {
            return;
        }
        // Lazy: a peer nobody has anything for is not dialled until someone does.
        state = State.IDLE;
        if (!queue.isEmpty()) {
            connect();
        }
    }

    private void shutDown() {
        if (reconnect != null) {
            reconnect.cancel(false);
            reconnect = null;
        }
        if (channel != null) {
            channel.close();
        }
        discardQueue();
    }

    private void discardQueue() {
        Outgoing next;
        while ((next = queue.poll()) != null) {
            unreserve(next.payload());
        }
    }

    private void unreserve(byte[] payload) {
        stats.queuedMessages.decrementAndGet();
        stats.queuedBytes.addAndGet(-payload.length);
    }

    /**
     * The delay before reconnect attempt {@code attempt} (0-based): uniform in [base/2, base]
     * where base = min · 2^attempt capped at max. The jitter keeps peers that lost a node at the
     * same instant from dialling it in lockstep.
     */
    static long backoffNanos(int attempt, long minNanos, long maxNanos, RandomGenerator random) {
        long base = minNanos;
        for (int i = 0; i < attempt && base < maxNanos; i++) {
            base = base > maxNanos / 2 ? maxNanos : base * 2;
        }
        base = Math.min(base, maxNanos);
        long half = base / 2;
        return half + random.nextLong(base - half + 1);
    }

    /** Acceptors never write on our connection; anything read is discarded. */
    @ChannelHandler.Sharable
    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (ctx.channel().isWritable()) {
                scheduleDrain();
            }
            ctx.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.atDebug().addKeyValue("node", self).addKeyValue("peer", id).setCause(cause).log("outbound connection error");
            ctx.close();
        }
    }
}
