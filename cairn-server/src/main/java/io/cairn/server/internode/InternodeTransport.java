package io.cairn.server.internode;

import io.cairn.message.Message;
import io.cairn.message.MessageCodec;
import io.cairn.cluster.Transport;
import io.cairn.server.security.AuditSink;
import io.cairn.server.security.FloodGate;
import io.cairn.server.security.NodeTls;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production {@link Transport}: length-prefixed, CRC32C-checked frames over TCP between
 * nodes, on Netty.
 *
 * <h2>Design</h2>
 *
 * <p><b>Model.</b> Each node listens on one port and dials each peer it has something for over
 * one outbound connection, used only for sending; what a peer sends us arrives on the connection
 * it dialled. Two one-way connections per pair need no tie-breaking over who owns a shared one,
 * and a node restarting only ever has to redial. A connection opens with a handshake naming
 * caller and callee (see {@link Wire}); the acceptor refuses a wrong magic, version, callee or an
 * unknown caller, and keeps only the newest connection per caller. Every message is encoded with
 * this node's hybrid clock as it stands at the send, and handed to {@code inbound} with the
 * sender's, which the core moves past ({@code MessageCodec.Clocked}). A message bound for this
 * node itself goes through the codec and back through its lane, like any other.
 *
 * <p><b>Concurrency.</b> {@link #send} may be called on any thread (the core calls it on its
 * own). It encodes the message on the calling thread — the bytes, not the caller's mutable
 * arrays, are what gets queued — reserves room in the peer's bounded queue, and wakes the
 * peer's event loop. Each peer is pinned to one event loop, which alone touches that peer's
 * connection, state and backoff, and drains the queue with one flush per turn. Inbound frames
 * are verified and decoded on the receiving connection's event loop; each read's messages go to
 * their {@link Lanes lane} (a core shard's thread), one task per lane and read, so {@code inbound}
 * runs only there and, lanes being single-threaded, in per-peer order within a lane. After
 * {@link #close} begins, {@code inbound} is no longer called. When the lanes together fall
 * {@link InternodeSettings#maxPendingInboundBytes()} behind, connections stop being read until
 * they halve that backlog: TCP pushes back on the senders, whose bounded queues then drop, so a
 * slow core costs messages, never unbounded memory.
 *
 * <p><b>Failures.</b> Delivery is best effort and every loss is counted: a full queue (count or
 * bytes) drops the new message; an unknown peer or an oversized message is dropped at send; a
 * connection that fails or dies is redialled after an exponential backoff with jitter while
 * messages wait in the queue, and whatever it had already accepted is lost; a corrupted or
 * oversized incoming frame closes that connection and is never delivered. Fault injection
 * ({@link #block}) drops traffic to and from a peer at this layer, as a partition would. The
 * core's timeouts, hints and read repair make good every loss.
 */
public final class InternodeTransport implements Transport, AutoCloseable {
    /** The internode wire version this release speaks (its handshake's version byte; see {@code Wire}). */
    public static final int WIRE_VERSION = Wire.VERSION;

    private static final Logger log = LoggerFactory.getLogger(InternodeTransport.class);

    private final int nodeId;
    private final InternodeSettings settings;
    private final Inbound inbound;
    // This node's hybrid clock (its last timestamp issued or observed), stamped on every message sent.
    private final LongSupplier clock;
    private final Lanes lanes;
    // Null: plaintext (tests of the transport itself); a cluster node always runs mutual TLS.
    private final NodeTls tls;
    private final AuditSink audit;
    private final EventLoopGroup group;
    private final Channel listener;
    // Every peer and this node itself. Invariant: outbound holds exactly the peers of stats but
    // this node; both change together, under peersLock, as membership changes (addPeer, removePeer).
    private final Map<Integer, PeerStats> stats = new ConcurrentHashMap<>();
    private final Map<Integer, OutboundPeer> outbound = new ConcurrentHashMap<>();
    private final Object peersLock = new Object();
    private final Class<? extends SocketChannel> socketClass;
    private final boolean epoll;
    // Invariant: at most one handshaken inbound connection per peer, the newest.
    private final Map<Integer, Channel> inboundChannels = new ConcurrentHashMap<>();
    // Every open channel, listener included, so close() can close them all before the loops stop:
    // stopping an event loop does not reliably close the sockets registered with it.
    private final ChannelGroup channels = new DefaultChannelGroup("internode", GlobalEventExecutor.INSTANCE);
    private final Totals totals = new Totals();
    // Payload bytes handed to the lanes and not yet run. Invariant: a connection stays in
    // paused, not reading, only while this exceeds half the bound (re-checked on every change).
    private final AtomicLong pendingInboundBytes = new AtomicLong();
    private final Set<Channel> paused = ConcurrentHashMap.newKeySet();
    // Accepted connections whose handshakes are not done yet. Invariant: at most
    // settings.maxUnauthenticatedInbound(); each InboundConnection gives its slot back exactly once.
    private final AtomicInteger unauthenticated = new AtomicInteger();
    private volatile boolean closed;

    /** Counts and logs inbound TLS handshakes that fail (no certificate, another CA, not TLS at all). */
    private final class TlsOutcome extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
                totals.tlsRefusals.incrementAndGet();
                log.atWarn().addKeyValue("node", nodeId).addKeyValue("remote", ctx.channel().remoteAddress())
                        .addKeyValue("reason", String.valueOf(done.cause())).log("refused an internode connection: TLS handshake failed");
                audit.record("internode.connection", "refused", "unknown", String.valueOf(ctx.channel().remoteAddress()),
                        Map.of("reason", "TLS handshake failed: " + done.cause()));
                ctx.close();
            }
            super.userEventTriggered(ctx, evt);
        }
    }

    /** Transport-wide counters. */
    static final class Totals {
        final AtomicLong badFrames = new AtomicLong();
        final AtomicLong badHandshakes = new AtomicLong();
        final AtomicLong tlsRefusals = new AtomicLong();
        final AtomicLong unauthenticatedRefusals = new AtomicLong();
        final AtomicLong unknownPeerDrops = new AtomicLong();
        final AtomicLong blockedDrops = new AtomicLong();
        final AtomicLong oversizedDrops = new AtomicLong();
        final AtomicLong expiredDrops = new AtomicLong();
        final AtomicLong inboundPauses = new AtomicLong();
    }

    /** Receives each message from a peer, on its lane. */
    @FunctionalInterface
    public interface Inbound {
        /**
         * @param from        the sender's node id, as its handshake proved
         * @param senderClock the sender's hybrid clock when it sent the message (at least 0)
         */
        void accept(int from, long senderClock, Message message);
    }

    /**
     * Where inbound messages run: message {@code m} runs on {@code executors[route(m)]}. Each
     * executor must run its tasks in submission order (one thread) for per-peer ordering to hold
     * within it; there is no order between lanes. {@code route} must be total over decoded
     * messages and answer an index of {@code executors}.
     */
    public record Lanes(List<Executor> executors, ToIntFunction<Message> route) {
        public Lanes {
            executors = List.copyOf(executors);
            Objects.requireNonNull(route, "route");
            if (executors.isEmpty()) {
                throw new IllegalArgumentException("inbound messages need at least one lane");
            }
        }

        /** Every message on one executor. */
        public static Lanes single(Executor executor) {
            return new Lanes(List.of(executor), m -> 0);
        }

        int of(Message m) {
            int lane = route.applyAsInt(m);
            if (lane < 0 || lane >= executors.size()) {
                throw new IllegalStateException("lane " + lane + " of " + executors.size() + " for " + m.getClass().getSimpleName());
            }
            return lane;
        }
    }

    /** Every inbound message on {@code executor}; see the main constructor. */
    public InternodeTransport(int nodeId, String listenHost, int listenPort, Map<Integer, InetSocketAddress> peers, LongSupplier clock,
                              Inbound inbound, Executor executor, InternodeSettings settings) {
        this(nodeId, listenHost, listenPort, peers, clock, inbound, Lanes.single(Objects.requireNonNull(executor, "executor")), settings, null,
                AuditSink.NONE);
    }

    /**
     * Binds the listener at once (inbound messages may be delivered from then on); peers are
     * dialled lazily on the first message for them.
     *
     * @param nodeId     this node's id, announced in the handshake
     * @param listenHost address to listen on
     * @param listenPort port to listen on; 0 picks a free one, see {@link #port()}
     * @param peers      peer id to internode host:port; an entry for {@code nodeId} itself is ignored
     * @param clock      this node's hybrid clock (its last timestamp issued or observed), read as each
     *                   message is encoded and carried in its frame for the receiver to move past
     * @param inbound    receives (sender id, sender's clock, message); called only on the message's lane
     * @param lanes      which executor runs each call of {@code inbound}
     * @param tls        this node's certificates: every connection, both ways, is mutual TLS and the
     *                   peer is who its certificate names; null for plaintext
     * @param audit      where refused connections are recorded
     * @throws IllegalStateException when the port cannot be bound
     */
    public InternodeTransport(int nodeId, String listenHost, int listenPort, Map<Integer, InetSocketAddress> peers, LongSupplier clock,
                              Inbound inbound, Lanes lanes, InternodeSettings settings, NodeTls tls, AuditSink audit) {
        Objects.requireNonNull(listenHost, "listenHost");
        Objects.requireNonNull(peers, "peers");
        this.nodeId = nodeId;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.inbound = Objects.requireNonNull(inbound, "inbound");
        this.lanes = Objects.requireNonNull(lanes, "lanes");
        if (tls != null && tls.nodeId() != nodeId) {
            throw new IllegalArgumentException("TLS material of node " + tls.nodeId() + " for node " + nodeId);
        }
        this.tls = tls;
        this.audit = Objects.requireNonNull(audit, "audit");
        this.settings = Objects.requireNonNull(settings, "settings");

        this.epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(settings.ioThreads(), new DefaultThreadFactory("cairn-internode-" + nodeId, true), io);
        this.socketClass = epoll ? EpollSocketChannel.class : NioSocketChannel.class;

        PeerStats me = new PeerStats(nodeId);
        me.connected = true;
        stats.put(nodeId, me);
        for (Map.Entry<Integer, InetSocketAddress> e : peers.entrySet()) {
            if (e.getKey() != nodeId) {
                addPeer(e.getKey(), Objects.requireNonNull(e.getValue(), "address of peer " + e.getKey()));
            }
        }

        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .channel(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
                .option(ChannelOption.SO_BACKLOG, 128)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (closed) {
                            ch.close();
                            return;
                        }
                        if (unauthenticated.incrementAndGet() > settings.maxUnauthenticatedInbound()) {
                            unauthenticated.decrementAndGet();
                            totals.unauthenticatedRefusals.incrementAndGet();
                            ch.close();
                            return;
                        }
                        channels.add(ch);
                        if (tls != null) {
                            ch.pipeline().addLast("tls", tls.server().newHandler(ch.alloc())).addLast("tls-outcome", new TlsOutcome());
                        }
                        InboundConnection frames = new InboundConnection(InternodeTransport.this, settings.maxFrameBytes());
                        ch.pipeline().addLast("frames", frames).addLast("batch", frames.batcher());
                    }
                });
        try {
            this.listener = b.bind(new InetSocketAddress(listenHost, listenPort)).sync().channel();
            channels.add(listener);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            shutDownGroup();
            throw new IllegalStateException("interrupted while binding internode port " + listenHost + ":" + listenPort, e);
        } catch (Exception e) {
            shutDownGroup();
            throw new IllegalStateException("cannot listen for internode traffic on " + listenHost + ":" + listenPort + ": " + e, e);
        }
        log.atInfo().addKeyValue("node", nodeId).addKeyValue("address", listenHost + ":" + port()).addKeyValue("peers", outbound.keySet())
                .addKeyValue("epoll", epoll).log("internode transport listening");
    }

    /**
     * Sends best effort: returns at once, never throws for operating conditions. The message is
     * dropped and counted when the peer is unknown, blocked, its queue is full, or it exceeds
     * {@link InternodeSettings#maxFrameBytes()}.
     */
    @Override
    public void send(int toNode, Message message) {
        Objects.requireNonNull(message, "message");
        if (closed) {
            return;
        }
        PeerStats peer = stats.get(toNode);
        if (peer == null) {
            totals.unknownPeerDrops.incrementAndGet();
            return;
        }
        if (peer.blocked) {
            totals.blockedDrops.incrementAndGet();
            return;
        }
        OutboundPeer out = outbound.get(toNode); // null for this node itself
        if (out != null && out.full()) {
            peer.messagesDropped.incrementAndGet(); // not worth encoding
            return;
        }
        byte[] payload = MessageCodec.encode(clock.getAsLong(), message);
        if (payload.length > settings.maxFrameBytes()) {
            totals.oversizedDrops.incrementAndGet();
            peer.messagesDropped.incrementAndGet();
            log.atWarn().addKeyValue("node", nodeId).addKeyValue("peer", toNode).addKeyValue("bytes", payload.length)
                    .addKeyValue("maxFrameBytes", settings.maxFrameBytes()).log("message exceeds the frame bound; dropped");
            return;
        }
        if (toNode == nodeId) {
            peer.messagesSent.incrementAndGet();
            peer.bytesSent.addAndGet(payload.length);
            peer.messagesReceived.incrementAndGet();
            peer.bytesReceived.addAndGet(payload.length);
            deliver(nodeId, List.of(MessageCodec.decodeClocked(payload)), payload.length, null);
            return;
        }
        out.enqueue(payload);
    }

    /**
     * Starts talking to a new peer (a membership change): it is dialled on the first message for
     * it, and its inbound connections are accepted from now on. A peer already known at another
     * address is replaced (its queue and connections are dropped); at the same address, nothing
     * changes.
     */
    public void addPeer(int peer, InetSocketAddress address) {
        if (peer == nodeId) {
            throw new IllegalArgumentException("node " + peer + " is this node, not a peer");
        }
        synchronized (peersLock) {
            OutboundPeer known = outbound.get(peer);
            if (known != null && known.address().equals(address.getHostString() + ":" + address.getPort())) {
                return;
            }
            if (known != null) {
                removePeer(peer);
            }
            PeerStats s = new PeerStats(peer);
            stats.put(peer, s);
            outbound.put(peer, new OutboundPeer(nodeId, peer, address.getHostString(), address.getPort(), group.next(),
                    socketClass, epoll, settings, s, totals, channels, tls, audit));
        }
        log.atInfo().addKeyValue("node", nodeId).addKeyValue("peer", peer).addKeyValue("address", address).log("internode peer added");
    }

    /**
     * Stops talking to a peer that left the cluster: its queued messages are discarded, its
     * connections closed, and later messages to it and handshakes from it are refused as from an
     * unknown node. Unknown peers are ignored.
     */
    public void removePeer(int peer) {
        synchronized (peersLock) {
            OutboundPeer out = outbound.remove(peer);
            if (out == null) {
                return;
            }
            stats.remove(peer);
            out.close();
            Channel in = inboundChannels.remove(peer);
            if (in != null) {
                in.close();
            }
        }
        log.atInfo().addKeyValue("node", nodeId).addKeyValue("peer", peer).log("internode peer removed");
    }

    /** The peers this transport talks to now (this node excluded). */
    public Set<Integer> peers() {
        return Set.copyOf(outbound.keySet());
    }

    /** Drops everything sent to and received from {@code peer} from now on (fault injection). */
    public void block(int peer) {
        PeerStats s = stats.get(peer);
        if (s == null) {
            throw new IllegalArgumentException("unknown peer " + peer);
        }
        s.blocked = true;
        log.atWarn().addKeyValue("node", nodeId).addKeyValue("peer", peer).log("fault injection: traffic with peer blocked");
    }

    public void unblock(int peer) {
        PeerStats s = stats.get(peer);
        if (s == null) {
            throw new IllegalArgumentException("unknown peer " + peer);
        }
        if (s.blocked) {
            s.blocked = false;
            log.atInfo().addKeyValue("node", nodeId).addKeyValue("peer", peer).log("fault injection: traffic with peer unblocked");
        }
    }

    public void unblockAll() {
        stats.keySet().forEach(this::unblock);
    }

    /** The transport's event loops, for the watchdog. */
    public Iterable<io.netty.util.concurrent.EventExecutor> eventLoops() {
        return group;
    }

    /** The bound port; the real one when constructed with port 0. */
    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    public int nodeId() {
        return nodeId;
    }

    /** Most refused inbound connections logged a second; the totals count every one. */
    static final int MAX_FAILURE_LOGS_PER_SECOND = 5;
    private final FloodGate failureLogs =
            new FloodGate(MAX_FAILURE_LOGS_PER_SECOND, () -> System.nanoTime() / 1_000_000L);

    /**
     * Whether a refused inbound connection may be logged now, and if so how many were not since
     * the last one was (-1: it may not). A scanner, or a removed node that keeps dialling, must
     * not flood the log: at most {@value #MAX_FAILURE_LOGS_PER_SECOND} lines a second.
     */
    long failureLog() {
        return failureLogs.pass();
    }

    /** The live counters for {@code peer} (this node's own id included), or null for an unknown id. */
    public PeerStats stats(int peer) {
        return stats.get(peer);
    }

    /** Live counters of every current peer and of this node itself, by id (a snapshot of the peer set). */
    public Map<Integer, PeerStats> allStats() {
        return Map.copyOf(stats);
    }

    /** Incoming frames that failed the length bound, the checksum or decoding; each closed its connection. */
    public long badFrames() {
        return totals.badFrames.get();
    }

    /** Incoming connections refused at the handshake (magic, version, callee, unknown caller, timeout). */
    /**
     * Connections refused by TLS: a peer without a certificate from the cluster CA (the TLS
     * handshake failed), or whose certificate names another member than it claims or was dialled as.
     */
    public long tlsRefusals() {
        return totals.tlsRefusals.get();
    }

    /**
     * Incoming connections closed at accept because {@link InternodeSettings#maxUnauthenticatedInbound()}
     * others were still in their handshakes (a flood of idle or slow connections).
     */
    public long unauthenticatedRefusals() {
        return totals.unauthenticatedRefusals.get();
    }

    /** Accepted connections still in their handshakes. */
    int unauthenticatedConnections() {
        return unauthenticated.get();
    }

    /** Gives back the slot of an accepted connection whose handshakes ended (done, refused or closed). */
    void handshakeEnded() {
        unauthenticated.decrementAndGet();
    }

    /** Whether every connection is mutual TLS. */
    public boolean tls() {
        return tls != null;
    }

    public long badHandshakes() {
        return totals.badHandshakes.get();
    }

    /** Messages sent to a node id this transport does not know, or received from a peer removed since its connection opened. */
    public long unknownPeerDrops() {
        return totals.unknownPeerDrops.get();
    }

    /** Messages dropped in either direction because their peer was blocked. */
    public long blockedDrops() {
        return totals.blockedDrops.get();
    }

    /** Messages dropped at send for exceeding the frame bound (also in the peer's {@link PeerStats#messagesDropped()}). */
    /** Messages dropped because they outlived their budget, in a send queue or before the core ran them. */
    public long expiredDrops() {
        return totals.expiredDrops.get();
    }

    public long oversizedDrops() {
        return totals.oversizedDrops.get();
    }

    /** Payload bytes received and handed to the executor but not yet run there. */
    public long pendingInboundBytes() {
        return pendingInboundBytes.get();
    }

    /** Times a connection stopped being read because the core was too far behind. */
    public long inboundPauses() {
        return totals.inboundPauses.get();
    }

    /**
     * Stops: no more sends or deliveries, closes the listener and every connection, discards
     * queued messages, and stops the event loops; waits at most about ten seconds in all.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        outbound.values().forEach(OutboundPeer::close);
        channels.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        shutDownGroup();
        log.atInfo().addKeyValue("node", nodeId).log("internode transport closed");
    }

    private void shutDownGroup() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(8, TimeUnit.SECONDS);
    }

    InternodeSettings settings() {
        return settings;
    }

    /** This node's TLS material, or null when the transport is plaintext. */
    public NodeTls tlsMaterial() {
        return tls;
    }

    AuditSink audit() {
        return audit;
    }

    Totals totals() {
        return totals;
    }

    /**
     * Hands messages from {@code from}, in order within each lane, to their lanes. {@code source}
     * is the connection they came from, paused while the lanes are
     * {@link InternodeSettings#maxPendingInboundBytes()} behind; null for messages to this node
     * itself, which the core sent and so cannot outrun.
     */
    void deliver(int from, List<MessageCodec.Clocked> messages, long bytes, Channel source) {
        deliver(from, messages, null, bytes, source);
    }

    /**
     * @param deadlines per message, the {@link System#nanoTime()} after which it is no longer worth
     *                  running (its budget from the frame); null: no deadline
     */
    void deliver(int from, List<MessageCodec.Clocked> messages, long[] deadlines, long bytes, Channel source) {
        PeerStats peer = stats.get(from);
        if (peer == null) {
            // The peer was removed after its connection's handshake: it is no longer one.
            totals.unknownPeerDrops.addAndGet(messages.size());
            return;
        }
        long pending = pendingInboundBytes.addAndGet(bytes);
        int laneCount = lanes.executors().size();
        if (laneCount == 1) {
            submit(0, from, peer, messages, deadlines, bytes);
        } else {
            splitByLane(from, peer, messages, deadlines, bytes, laneCount);
        }
        if (source != null && pending > settings.maxPendingInboundBytes()) {
            pause(source);
        }
    }

    /** One task per lane with messages, each charged its share of the read's bytes. */
    private void splitByLane(int from, PeerStats peer, List<MessageCodec.Clocked> messages, long[] deadlines, long bytes, int laneCount) {
        int[] laneOf = new int[messages.size()];
        int[] counts = new int[laneCount];
        for (int i = 0; i < messages.size(); i++) {
            laneOf[i] = lanes.of(messages.get(i).message());
            counts[laneOf[i]]++;
        }
        long bytesLeft = bytes;
        int messagesLeft = messages.size();
        for (int lane = 0; lane < laneCount && messagesLeft > 0; lane++) {
            if (counts[lane] == 0) {
                continue;
            }
            List<MessageCodec.Clocked> part = new ArrayList<>(counts[lane]);
            long[] partDeadlines = deadlines == null ? null : new long[counts[lane]];
            for (int i = 0; i < messages.size(); i++) {
                if (laneOf[i] == lane) {
                    if (partDeadlines != null) {
                        partDeadlines[part.size()] = deadlines[i];
                    }
                    part.add(messages.get(i));
                }
            }
            long share = messagesLeft == counts[lane] ? bytesLeft : bytes * counts[lane] / messages.size();
            bytesLeft -= share;
            messagesLeft -= counts[lane];
            submit(lane, from, peer, part, partDeadlines, share);
        }
    }

    private void submit(int lane, int from, PeerStats peer, List<MessageCodec.Clocked> messages, long[] deadlines, long bytes) {
        try {
            lanes.executors().get(lane).execute(() -> {
                try {
                    long now = deadlines == null ? 0 : System.nanoTime();
                    for (int i = 0; i < messages.size(); i++) {
                        MessageCodec.Clocked m = messages.get(i);
                        if (closed) {
                            return;
                        }
                        if (deadlines != null && now - deadlines[i] > 0) {
                            totals.expiredDrops.incrementAndGet();
                            continue;
                        }
                        // Checked again here so that after block() or removePeer() returns nothing more arrives.
                        if (stats.get(from) != peer) {
                            totals.unknownPeerDrops.incrementAndGet();
                            continue;
                        }
                        if (peer.blocked) {
                            totals.blockedDrops.incrementAndGet();
                            continue;
                        }
                        inbound.accept(from, m.senderClock(), m.message());
                    }
                } finally {
                    delivered(bytes);
                }
            });
        } catch (RejectedExecutionException e) {
            delivered(bytes); // The core is shutting down; best effort allows the loss.
        }
    }

    /** Stops reading {@code channel}; called on its event loop. */
    private void pause(Channel channel) {
        paused.add(channel);
        channel.config().setAutoRead(false);
        totals.inboundPauses.incrementAndGet();
        // The core may have caught up between our add and the last delivery's look at the set.
        if (pendingInboundBytes.get() <= settings.maxPendingInboundBytes() / 2) {
            resumeAll();
        }
    }

    private void delivered(long bytes) {
        if (pendingInboundBytes.addAndGet(-bytes) <= settings.maxPendingInboundBytes() / 2 && !paused.isEmpty()) {
            resumeAll();
        }
    }

    private void resumeAll() {
        for (Channel ch : paused) {
            if (paused.remove(ch)) {
                try {
                    ch.eventLoop().execute(() -> ch.config().setAutoRead(true));
                } catch (RejectedExecutionException e) {
                    // Closing.
                }
            }
        }
    }

    /** Records a handshaken connection from {@code from}, closing the one it replaces. */
    void inboundAccepted(int from, Channel channel) {
        Channel[] previous = new Channel[1];
        synchronized (peersLock) {
            PeerStats peer = stats.get(from);
            if (peer == null) {
                // Removed between its handshake and now.
                channel.close();
                return;
            }
            inboundChannels.compute(from, (id, current) -> {
                previous[0] = current;
                peer.inboundConnected = true;
                return channel;
            });
        }
        if (previous[0] != null && previous[0] != channel) {
            previous[0].close();
        }
        log.atInfo().addKeyValue("node", nodeId).addKeyValue("peer", from).addKeyValue("remote", channel.remoteAddress())
                .log("accepted connection from peer");
    }

    void inboundClosed(int from, Channel channel) {
        PeerStats peer = stats.get(from); // null once the peer was removed
        inboundChannels.compute(from, (id, current) -> {
            Channel next = current == channel ? null : current;
            if (peer != null) {
                peer.inboundConnected = next != null;
            }
            return next;
        });
    }
}
