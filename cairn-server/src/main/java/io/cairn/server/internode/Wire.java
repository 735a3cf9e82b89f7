package io.cairn.server.internode;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * The internode wire format. A connection carries traffic one way, from caller to acceptor:
 *
 * <pre>
 *   handshake: "CAIRN" | u8 version (9) | u32 sender node id | u32 intended receiver node id
 *   frame:     u32 payload length | u32 CRC32C of budget and payload | u32 budget ms
 *              | payload (MessageCodec: i64 sender's hybrid clock | message)
 * </pre>
 *
 * The budget is how many more milliseconds the message is worth delivering, counted from when it
 * leaves the sender (its request's deadline, relative, so clocks need not agree); the receiver
 * drops a message it could not hand to its core within that time.
 *
 * Version 3 (heartbeats carrying clocks, stricter payload validation) refuses version 2 peers at
 * the handshake; version 4 (replica failures carry a typed error code) refuses version 3 peers;
 * version 5 (requests carry their protocol and the sender's membership epoch) refuses version 4;
 * version 6 (every payload opens with the sender's hybrid clock) refuses version 5; version 7 (a
 * Paxos prepare's answer names the newest commit its replica dropped from its list) refuses version 6;
 * version 8 (a Paxos proposal may carry a lease: a next ballot to promise, and an expected version)
 * refuses version 7; version 9 (a streamed Paxos state comes with the owner's record of its key)
 * refuses version 8.
 * A cluster moves to a new wire version all at once (stop every node, start every node); rolling
 * upgrades need a negotiated version, which membership changes will bring.
 *
 * All integers big-endian. The receiver id lets an acceptor refuse a caller whose configuration
 * maps this address to some other node, instead of applying writes meant for that node.
 */
final class Wire {
    static final byte[] MAGIC = "CAIRN".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 9;
    static final int HANDSHAKE_BYTES = MAGIC.length + 1 + 4 + 4;
    static final int FRAME_HEADER_BYTES = 12;

    private Wire() {}

    static ByteBuf handshake(ByteBufAllocator alloc, int from, int to) {
        return alloc.ioBuffer(HANDSHAKE_BYTES).writeBytes(MAGIC).writeByte(VERSION).writeInt(from).writeInt(to);
    }

    static ByteBuf frame(ByteBufAllocator alloc, byte[] payload, int budgetMillis) {
        return alloc.ioBuffer(FRAME_HEADER_BYTES + payload.length)
                .writeInt(payload.length).writeInt(crc(budgetMillis, payload)).writeInt(budgetMillis).writeBytes(payload);
    }

    static int crc(int budgetMillis, byte[] payload) {
        CRC32C c = new CRC32C();
        c.update(new byte[] {(byte) (budgetMillis >>> 24), (byte) (budgetMillis >>> 16), (byte) (budgetMillis >>> 8), (byte) budgetMillis});
        c.update(payload, 0, payload.length);
        return (int) c.getValue();
    }
}
