package io.cairn.server.http;

import io.cairn.server.health.NodeHealth;
import io.cairn.server.metrics.NodeMetrics;
import io.cairn.server.security.HttpTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.util.concurrent.EventExecutor;
import java.net.InetSocketAddress;
import io.netty.util.AttributeKey;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;

/**
 * The HTTP/1.1 listener on Netty (epoll when available): Cairn's strict {@link RequestDecoder},
 * Netty's response encoder and a {@link RequestHandler} per connection, under one node-wide
 * {@link Admission} budget.
 *
 * <p><b>Connections.</b> Up to {@code maxConnections} are served. At the limit, a new connection
 * first evicts the oldest connection that has not sent a single byte (a silent connection costs
 * its client nothing to reopen, and a flood of them is the cheapest attack there is); failing
 * that, the next {@code reservedOpsConnections} are accepted for /health, /ready and /metrics
 * only, so operators and probes still get in when clients exhaust the limit; beyond that a
 * connection is closed as soon as it is accepted, which costs established connections nothing.
 */
public final class HttpFrontEnd implements AutoCloseable {
    private static final int MAX_CHUNK_BYTES = 64 * 1024;

    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final Channel channel;
    private final Admission admission;
    private final AtomicInteger connections = new AtomicInteger();
    private final LongAdder refusedConnections = new LongAdder();
    private final LongAdder evictedConnections = new LongAdder();
    // The order connections were accepted in, stamped on the acceptor loop: child channels are
    // initialised on several loops, so initialisation order is not accept order.
    private static final AttributeKey<Long> ACCEPTED = AttributeKey.valueOf("cairn.accepted");
    private long acceptSequence; // acceptor loop only
    // Null: plain HTTP.
    private final HttpTls tls;
    // How long close() waits for the requests already admitted.
    private final java.time.Duration drainTimeout;
    // Connections that have not sent a byte yet, by accept order: the oldest goes first at the limit.
    private final TreeMap<Long, Channel> silent = new TreeMap<>();

    public HttpFrontEnd(String host, int port, int ioThreads, HttpSettings settings, Api api, NodeMetrics metrics, NodeHealth health)
            throws InterruptedException {
        this(host, port, ioThreads, settings, api, metrics, health, () -> false, null);
    }

    /**
     * @param storageThrottled whether the storage engine is throttling writes now; while it is,
     *                         requests with bodies over {@code largeRequestBytes} are shed first
     * @param tls              the HTTPS certificate, or null for plain HTTP
     */
    public HttpFrontEnd(String host, int port, int ioThreads, HttpSettings settings, Api api, NodeMetrics metrics, NodeHealth health,
                        BooleanSupplier storageThrottled, HttpTls tls) throws InterruptedException {
        this.tls = tls;
        this.drainTimeout = settings.requestTimeout().plusSeconds(1);
        boolean epoll = Epoll.isAvailable();
        boss = new MultiThreadIoEventLoopGroup(1, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        workers = new MultiThreadIoEventLoopGroup(ioThreads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        Class<? extends ServerSocketChannel> channelClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        admission = new Admission(settings.maxInflightBytes(), settings.maxUnflushedBytes(), settings.largeRequestBytes(), storageThrottled);
        int maxLine = Math.min(settings.maxHeaderBytes(), 16 * 1024);
        long high = settings.maxConnectionUnflushedBytes();
        ServerBootstrap b = new ServerBootstrap()
                .group(boss, workers)
                .channel(channelClass)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(ChannelHandlerContext ctx, Object msg) {
                        if (msg instanceof Channel child) {
                            child.attr(ACCEPTED).set(acceptSequence++);
                        }
                        ctx.fireChannelRead(msg);
                    }
                })
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark((int) Math.max(1, high / 2), (int) high))
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        int n = connections.incrementAndGet();
                        ch.closeFuture().addListener(f -> {
                            connections.decrementAndGet();
                            spoke(ch);
                        });
                        boolean opsOnly = false;
                        if (n > settings.maxConnections() && !evictSilent()) {
                            if (n > settings.maxConnections() + settings.reservedOpsConnections()) {
                                refusedConnections.increment();
                                ch.close();
                                return;
                            }
                            opsOnly = true;
                        }
                        synchronized (silent) {
                            silent.put(ch.attr(ACCEPTED).get(), ch);
                        }
                        if (tls != null) {
                            // Decrypted bytes reach "first-byte": a connection that completes a TLS
                            // handshake but sends no request stays silent, and so evictable.
                            ch.pipeline().addLast("tls", tls.context().newHandler(ch.alloc()));
                        }
                        ch.pipeline()
                                .addLast("first-byte", new FirstByte())
                                .addLast("decoder", new RequestDecoder(maxLine, settings.maxHeaderBytes(), MAX_CHUNK_BYTES))
                                .addLast("encoder", new HttpResponseEncoder())
                                .addLast("api", new RequestHandler(api, metrics, health, settings, admission, opsOnly));
                    }
                });
        try {
            channel = b.bind(new InetSocketAddress(host, port)).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutdown();
            throw new IllegalStateException("interrupted while binding the HTTP port " + host + ":" + port, e);
        } catch (Exception e) {
            // sync() rethrows the bind failure as it is, checked or not (a BindException is an
            // IOException): name the address and what failed in one line the operator can act on.
            shutdown();
            String hint = String.valueOf(e.getMessage()).contains("Address already in use")
                    ? " (another process listens there; choose another port with --http-port or http.port)" : "";
            throw new IllegalStateException("cannot listen for HTTP on " + host + ":" + port + ": " + e.getMessage() + hint, e);
        }
    }

    /** Closes the oldest connection that never sent a byte; false when there is none. */
    private boolean evictSilent() {
        Channel victim = null;
        synchronized (silent) {
            var oldest = silent.pollFirstEntry();
            if (oldest != null) {
                victim = oldest.getValue();
            }
        }
        if (victim == null) {
            return false;
        }
        evictedConnections.increment();
        victim.close();
        return true;
    }

    private void spoke(Channel ch) {
        Long accepted = ch.attr(ACCEPTED).get();
        if (accepted == null) {
            return;
        }
        synchronized (silent) {
            silent.remove(accepted, ch);
        }
    }

    /** Takes a connection off the silent list at its first byte, then leaves the pipeline. */
    private final class FirstByte extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            spoke(ctx.channel());
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /** The HTTPS certificate in use, or null for plain HTTP. */
    public HttpTls tls() {
        return tls;
    }

    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    public int connections() {
        return connections.get();
    }

    /** Silent connections closed to make room for a new one at the limit. */
    public long evictedConnections() {
        return evictedConnections.sum();
    }

    /** Connections closed at accept because even the operators' reserve was full. */
    public long refusedConnections() {
        return refusedConnections.sum();
    }

    public long inflightRequestBytes() {
        return admission.requestBytes();
    }

    public long unflushedResponseBytes() {
        return admission.unflushedBytes();
    }

    public long shedRequests() {
        return admission.shedRequests();
    }

    /** The event loops serving connections, and the one accepting them, for the watchdog. */
    public Iterable<EventExecutor> eventLoops() {
        java.util.List<EventExecutor> all = new java.util.ArrayList<>();
        boss.forEach(all::add);
        workers.forEach(all::add);
        return all;
    }

    /**
     * Stops serving, gracefully: no new connection is accepted, a request arriving on an open one
     * is answered {@code 503 not_ready} and its connection closed, and the requests already
     * admitted get up to the request timeout (plus a second) to be answered and flushed before the
     * remaining connections close. A rolling restart then cuts no request without an answer.
     */
    @Override
    public void close() {
        close(true);
    }

    /** Stops serving; {@code drain} false cuts every connection at once (as a crash would; tests). */
    public void close(boolean drain) {
        channel.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        admission.drain();
        long deadline = System.nanoTime() + (drain ? drainTimeout.toNanos() : 0);
        while ((admission.requestBytes() > 0 || admission.unflushedBytes() > 0) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        shutdown();
    }

    private void shutdown() {
        boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
        workers.shutdownGracefully(0, 5, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }
}
