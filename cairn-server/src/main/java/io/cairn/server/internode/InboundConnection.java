package io.cairn.server.internode;

import io.cairn.message.MessageCodec;
import io.cairn.record.CorruptRecordException;
import io.cairn.server.security.NodeIdentity;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The receiving end of one accepted connection: checks the handshake, then cuts, verifies and
 * decodes frames; its {@link #batcher()} hands each read's messages to the transport as one batch.
 *
 * <p>Anything wrong — bad magic or version, a caller we do not know, a frame over the bound, a
 * checksum mismatch, a payload that does not decode — closes the connection and is counted; the
 * offending frame and everything after it on that connection is never delivered. The caller
 * reconnects, so one corrupted frame costs at most what was in flight.
 */
final class InboundConnection extends ByteToMessageDecoder {
    private static final Logger log = LoggerFactory.getLogger(InboundConnection.class);
    // Bounds the messages held between two hand-offs to the core executor.
    private static final int MAX_BATCH = 256;

    private final InternodeTransport transport;
    private final int maxFrameBytes;
    private int from = -1; // the authenticated caller; -1 until the handshake is accepted
    private PeerStats peer; // non-null exactly when from != -1
    private boolean failed;
    private ScheduledFuture<?> handshakeTimeout;
    // Whether this connection still holds one of the transport's unauthenticated slots.
    private boolean holdsSlot = true;

    InboundConnection(InternodeTransport transport, int maxFrameBytes) {
        this.transport = transport;
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        handshakeTimeout = ctx.executor().schedule(() -> {
            if (from < 0 && !failed) {
                reject(ctx, "no handshake within " + transport.settings().connectTimeout());
            }
        }, transport.settings().connectTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        if (from < 0 && !handshake(ctx, in)) {
            return;
        }
        while (!failed && in.readableBytes() >= Wire.FRAME_HEADER_BYTES) {
            long length = in.getUnsignedInt(in.readerIndex());
            if (length < 1 || length > maxFrameBytes) {
                badFrame(ctx, "frame length " + length + " outside 1.." + maxFrameBytes);
                return;
            }
            if (in.readableBytes() < Wire.FRAME_HEADER_BYTES + length) {
                return;
            }
            in.skipBytes(4);
            int crc = in.readInt();
            int budgetMillis = in.readInt();
            byte[] payload = new byte[(int) length];
            in.readBytes(payload);
            if (Wire.crc(budgetMillis, payload) != crc) {
                badFrame(ctx, "frame checksum mismatch");
                return;
            }
            MessageCodec.Clocked m;
            try {
                m = MessageCodec.decodeClocked(payload);
            } catch (CorruptRecordException e) {
                badFrame(ctx, e.getMessage());
                return;
            }
            if (peer.blocked) {
                transport.totals().blockedDrops.incrementAndGet();
                continue;
            }
            peer.messagesReceived.incrementAndGet();
            peer.bytesReceived.addAndGet(length);
            out.add(new Received(m, (int) length, System.nanoTime() + Math.max(0, budgetMillis) * 1_000_000L));
        }
    }

    /** Consumes the handshake when it is complete; false while it is not (or was refused). */
    private boolean handshake(ChannelHandlerContext ctx, ByteBuf in) {
        if (in.readableBytes() < Wire.HANDSHAKE_BYTES) {
            return false;
        }
        byte[] magic = new byte[Wire.MAGIC.length];
        in.readBytes(magic);
        int version = in.readUnsignedByte();
        int caller = in.readInt();
        int callee = in.readInt();
        if (!Arrays.equals(magic, Wire.MAGIC)) {
            reject(ctx, "bad magic " + ByteBufUtil.hexDump(magic));
            return false;
        }
        if (version != Wire.VERSION) {
            reject(ctx, "unsupported protocol version " + version);
            return false;
        }
        if (callee != transport.nodeId()) {
            reject(ctx, "caller " + caller + " meant to reach node " + callee + ", this is node " + transport.nodeId());
            return false;
        }
        PeerStats stats = caller == transport.nodeId() ? null : transport.stats(caller);
        if (stats == null) {
            reject(ctx, "unknown caller node " + caller);
            return false;
        }
        if (transport.tlsMaterial() != null) {
            int certified = NodeIdentity.ofPeer(ctx.pipeline().get(SslHandler.class).engine());
            if (certified != caller) {
                transport.totals().tlsRefusals.incrementAndGet();
                transport.audit().record("internode.connection", "refused", certified < 0 ? "unknown" : "node " + certified,
                        String.valueOf(ctx.channel().remoteAddress()), Map.of("reason", "claimed to be node " + caller));
                reject(ctx, "caller claims to be node " + caller + " but its certificate is "
                        + (certified < 0 ? "no member's" : "node " + certified + "'s"));
                return false;
            }
        }
        from = caller;
        peer = stats;
        handshakeTimeout.cancel(false);
        releaseSlot();
        transport.inboundAccepted(caller, ctx.channel());
        return true;
    }

    private void releaseSlot() {
        if (holdsSlot) {
            holdsSlot = false;
            transport.handshakeEnded();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            super.channelInactive(ctx); // decodes what is left and lets the batcher hand it off
        } finally {
            handshakeTimeout.cancel(false);
            releaseSlot();
            if (from >= 0) {
                transport.inboundClosed(from, ctx.channel());
            }
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.atDebug().addKeyValue("node", transport.nodeId()).addKeyValue("peer", from).addKeyValue("remote", ctx.channel().remoteAddress())
                .setCause(cause).log("inbound connection error");
        ctx.close();
    }

    /** The handler to place after this one; it batches what this one decodes. */
    ChannelHandler batcher() {
        return new Batcher();
    }

    /** One decoded message with its sender's clock, its payload size, and the nanoTime after which it is not worth running. */
    private record Received(MessageCodec.Clocked message, int bytes, long deadlineNanos) {}

    /**
     * Collects a read's messages and hands them to the transport as one executor task. Messages
     * travel to it through the pipeline, rather than being batched inside the decoder, because
     * the decoder asks for another read whenever it passed nothing on — which would defeat the
     * transport pausing this connection while the core is behind.
     */
    private final class Batcher extends ChannelInboundHandlerAdapter {
        private List<MessageCodec.Clocked> batch = new ArrayList<>();
        private long[] deadlines = new long[MAX_BATCH];
        private long batchBytes;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Received r = (Received) msg;
            deadlines[batch.size()] = r.deadlineNanos();
            batch.add(r.message());
            batchBytes += r.bytes();
            if (batch.size() >= MAX_BATCH) {
                handOff(ctx);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            handOff(ctx);
            ctx.fireChannelReadComplete();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            handOff(ctx);
            ctx.fireChannelInactive();
        }

        private void handOff(ChannelHandlerContext ctx) {
            if (!batch.isEmpty()) {
                List<MessageCodec.Clocked> messages = batch;
                long[] due = java.util.Arrays.copyOf(deadlines, messages.size());
                batch = new ArrayList<>();
                transport.deliver(from, messages, due, batchBytes, ctx.channel());
                batchBytes = 0;
            }
        }
    }

    private void badFrame(ChannelHandlerContext ctx, String reason) {
        transport.totals().badFrames.incrementAndGet();
        fail(ctx, reason, "bad frame; closing connection");
    }

    private void reject(ChannelHandlerContext ctx, String reason) {
        transport.totals().badHandshakes.incrementAndGet();
        fail(ctx, reason, "bad handshake; closing connection");
    }

    private void fail(ChannelHandlerContext ctx, String reason, String what) {
        failed = true;
        long suppressed = transport.failureLog();
        if (suppressed >= 0) {
            log.atWarn().addKeyValue("node", transport.nodeId()).addKeyValue("peer", from).addKeyValue("remote", ctx.channel().remoteAddress())
                    .addKeyValue("reason", reason).addKeyValue("notLoggedBefore", suppressed).log(what);
        }
        ctx.close();
    }
}
