package io.cairn.server.internode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.MessageCodec;
import io.cairn.record.Record;
import io.cairn.server.security.AuditSink;
import io.cairn.clock.Version;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Netty internode transport on real 127.0.0.1 sockets: every message kind round trips with
 * its sender's hybrid clock, order holds per peer, queued messages survive a late or restarted peer, bounds drop and count,
 * corrupted frames and bad handshakes close the connection without delivering anything, fault
 * injection cuts both directions, and inbound messages run only on the given executor.
 */
class InternodeTransportTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final InternodeSettings FAST = InternodeSettings.defaults()
            .withReconnectBackoff(Duration.ofMillis(10), Duration.ofMillis(100))
            .withConnectTimeout(Duration.ofSeconds(1))
            .withJitterSeed(42);
    private static final int A = 1;
    private static final int B = 2;
    private static final int C = 3;
    /** A ping's payload: the sender's clock, then type, epoch, sequence and clock reading. */
    private static final int PING_BYTES = 8 + 1 + 8 + 8 + 8;

    private final Deque<Node> nodes = new ArrayDeque<>();

    @AfterEach
    void closeNodes() {
        List<String> offThread = new ArrayList<>();
        while (!nodes.isEmpty()) {
            Node n = nodes.pop();
            n.close();
            if (n.offThread.get() != 0) {
                offThread.add("node " + n.id + ": " + n.offThread.get() + " deliveries off the core thread");
            }
        }
        assertThat(offThread).isEmpty();
    }

    // ---------------------------------------------------------------- round trips and ordering

    @Test
    void everyMessageKindRoundTripsBothWays() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST);
        a.clock.set(Version.pack(1_700_000_000_000L, 7));
        b.clock.set(Version.pack(1_700_000_000_123L, 0));

        List<Message> sent = everyKind();
        sent.forEach(m -> a.transport.send(B, m));
        sent.forEach(m -> b.transport.send(A, m));

        List<Delivery> atB = b.take(sent.size());
        List<Delivery> atA = a.take(sent.size());
        assertSameMessages(atB, A, sent);
        assertSameMessages(atA, B, sent);
        assertThat(atB).extracting(Delivery::senderClock).containsOnly(a.clock.get());
        assertThat(atA).extracting(Delivery::senderClock).containsOnly(b.clock.get());
        long payloadBytes = sent.stream().mapToLong(m -> MessageCodec.encode(0, m).length).sum();
        assertThat(a.transport.stats(B).messagesSent()).isEqualTo(sent.size());
        assertThat(a.transport.stats(B).bytesSent()).isEqualTo(payloadBytes);
        assertThat(b.transport.stats(A).messagesReceived()).isEqualTo(sent.size());
        assertThat(b.transport.stats(A).bytesReceived()).isEqualTo(payloadBytes);
        assertThat(a.transport.stats(B).connected()).isTrue();
        assertThat(b.transport.stats(A).inboundConnected()).isTrue();
        assertThat(a.transport.badFrames() + b.transport.badFrames()).isZero();
    }

    @Test
    void eachMessageCarriesTheSendersClockAsItStoodWhenItWasSent() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST);

        for (int i = 0; i < 3; i++) {
            a.clock.set(Version.pack(1_700_000_000_000L + i, 0));
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }

        assertThat(b.take(3)).extracting(Delivery::senderClock)
                .containsExactly(Version.pack(1_700_000_000_000L, 0), Version.pack(1_700_000_000_001L, 0), Version.pack(1_700_000_000_002L, 0));
    }

    @Test
    void threeNodesKeepPerPeerOrder() throws Exception {
        int count = 2_000;
        Map<Integer, Integer> ports = ports(A, B, C);
        List<Node> cluster = List.of(start(A, ports, FAST), start(B, ports, FAST), start(C, ports, FAST));

        // Each node sends from its own core thread, as the core does.
        for (Node from : cluster) {
            from.core.execute(() -> {
                for (int i = 0; i < count; i++) {
                    for (Node to : cluster) {
                        if (to != from) {
                            Message m = i % 2 == 0 ? new Message.Ping(Message.FIRST_EPOCH, i, 0)
                                    : new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, i, 1, key("k" + i), Record.value(version(i), 0, null, new byte[i % 300]));
                            from.transport.send(to.id, m);
                        }
                    }
                }
            });
        }

        for (Node to : cluster) {
            Map<Integer, List<Long>> sequences = new HashMap<>();
            for (Delivery d : to.take(2 * count)) {
                long seq = switch (d.message()) {
                    case Message.Ping p -> p.sequence();
                    case Message.WriteRequest w -> w.requestId();
                    default -> throw new AssertionError("unexpected " + d.message());
                };
                sequences.computeIfAbsent(d.from(), k -> new ArrayList<>()).add(seq);
            }
            List<Long> expected = java.util.stream.LongStream.range(0, count).boxed().toList();
            assertThat(sequences).hasSize(2);
            sequences.forEach((from, seqs) -> assertThat(seqs).as("from %d to %d", from, to.id).isEqualTo(expected));
            to.assertNothingMore();
        }
    }

    @Test
    void largeMessagesStreamInOrder() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST);
        byte[] value = new byte[1 << 20];
        new Random(1).nextBytes(value);

        int count = 40; // 40 MiB: beyond Netty's write-buffer high water mark many times over
        for (int i = 0; i < count; i++) {
            a.transport.send(B, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, i, 1, key("big"), Record.value(version(i), 0, "application/octet-stream", value)));
        }

        List<Delivery> got = b.take(count);
        for (int i = 0; i < count; i++) {
            Message.WriteRequest w = (Message.WriteRequest) got.get(i).message();
            assertThat(w.requestId()).isEqualTo(i);
            assertThat(w.record().value()).isEqualTo(value);
        }
        assertThat(a.transport.stats(B).messagesDropped()).isZero();
    }

    @Test
    void slowCorePausesReadingInsteadOfBufferingWithoutBound() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        long bound = 4 << 20;
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST.withMaxPendingInboundBytes(bound));
        CountDownLatch coreStuck = new CountDownLatch(1);
        b.core.execute(() -> {
            try {
                coreStuck.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        byte[] value = new byte[1 << 20];

        int count = 40;
        for (int i = 0; i < count; i++) {
            a.transport.send(B, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, i, 1, key("big"), Record.value(version(i), 0, null, value)));
        }

        await("B stops reading", () -> b.transport.inboundPauses() >= 1);
        sleep(Duration.ofMillis(200));
        // The bound, plus at most what one read had decoded when it crossed it.
        assertThat(b.transport.pendingInboundBytes()).isBetween(bound, 2 * bound);
        assertThat(b.transport.stats(A).messagesReceived()).isLessThan(count);

        coreStuck.countDown();
        assertThat(b.take(count)).extracting(d -> ((Message.WriteRequest) d.message()).requestId())
                .isEqualTo(java.util.stream.LongStream.range(0, count).boxed().toList());
        await("backlog run", () -> b.transport.pendingInboundBytes() == 0);
        assertThat(a.transport.stats(B).messagesDropped()).isZero();
    }

    @Test
    void inboundRunsOnlyOnTheGivenExecutor() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST);

        for (int i = 0; i < 100; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }
        b.transport.send(B, new Message.Pong(7, 0, 0));

        List<Delivery> got = b.take(101);
        assertThat(got).extracting(Delivery::thread).containsOnly(b.coreThread);
        assertThat(b.offThread).hasValue(0);
    }

    /** Found by reading the TLS change: connections that never finish their handshakes held buffers without bound. */
    @Test
    void connectionsStillInTheirHandshakesAreBoundedAndAFreedSlotIsReused() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST.withMaxUnauthenticatedInbound(3).withConnectTimeout(Duration.ofSeconds(10)));
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                idle.add(new Socket("127.0.0.1", ports.get(B)));
            }
            await("B accepted the three", () -> b.transport.unauthenticatedConnections() == 3);
            try (Socket fourth = new Socket("127.0.0.1", ports.get(B))) {
                fourth.setSoTimeout(5_000);
                assertThat(fourth.getInputStream().read()).as("closed at once: three are still in their handshakes").isEqualTo(-1);
            }
            assertThat(b.transport.unauthenticatedRefusals()).isEqualTo(1);
        } finally {
            for (Socket s : idle) {
                s.close();
            }
        }
        await("the idle connections gave their slots back", () -> b.transport.unauthenticatedConnections() == 0);
        Node a = start(A, ports, FAST);
        await("a member gets in", () -> {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 1, 0));
            return !b.inbox.isEmpty();
        });
        assertThat(b.transport.unauthenticatedRefusals()).as("the member got in").isEqualTo(1);
        b.inbox.clear();
    }

    /** A node of several core shards: each message runs on its lane's thread, in per-peer order within the lane. */
    @Test
    void lanesGetTheirOwnMessagesInOrderAndShareTheInboundBound() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        int laneCount = 3;
        List<ExecutorService> lanes = new ArrayList<>();
        List<Thread> laneThreads = new ArrayList<>();
        for (int i = 0; i < laneCount; i++) {
            ExecutorService lane = Executors.newSingleThreadExecutor();
            lanes.add(lane);
            laneThreads.add(lane.submit(Thread::currentThread).get(5, TimeUnit.SECONDS));
        }
        BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        Map<Integer, InetSocketAddress> peers = Map.of(A, new InetSocketAddress("127.0.0.1", ports.get(A)));
        InternodeTransport.Lanes route = new InternodeTransport.Lanes(List.copyOf(lanes), m -> switch (m) {
            case Message.Ping p -> (int) (p.sequence() % laneCount);
            case Message.WriteRequest w -> (int) (w.requestId() % laneCount);
            default -> 0;
        });
        try (InternodeTransport b = new InternodeTransport(B, "127.0.0.1", ports.get(B), peers, () -> 0,
                (from, senderClock, m) -> inbox.add(new Delivery(from, senderClock, m, Thread.currentThread())), route, FAST, null, AuditSink.NONE)) {
            int count = 3_000;
            a.core.execute(() -> {
                for (int i = 0; i < count; i++) {
                    a.transport.send(B, i % 2 == 0 ? new Message.Ping(Message.FIRST_EPOCH, i, 0)
                            : new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, i, 1, key("k" + i),
                                    Record.value(version(i), 0, null, new byte[i % 500])));
                }
            });
            Map<Integer, List<Long>> perLane = new HashMap<>();
            for (int i = 0; i < count; i++) {
                Delivery d = inbox.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
                assertThat(d).as("delivery %d of %d", i, count).isNotNull();
                long id = d.message() instanceof Message.Ping p ? p.sequence() : ((Message.WriteRequest) d.message()).requestId();
                int lane = (int) (id % laneCount);
                assertThat(d.thread()).as("message %d runs on lane %d", id, lane).isSameAs(laneThreads.get(lane));
                perLane.computeIfAbsent(lane, k -> new ArrayList<>()).add(id);
            }
            for (int lane = 0; lane < laneCount; lane++) {
                assertThat(perLane.get(lane)).as("lane %d in the order sent", lane).isSorted().hasSize(count / laneCount);
            }
            await("every lane's share of the inbound bytes given back", () -> b.pendingInboundBytes() == 0);
        } finally {
            lanes.forEach(ExecutorService::shutdownNow);
        }
    }

    @Test
    void sendToSelfLoopsBackThroughTheExecutor() {
        Map<Integer, Integer> ports = ports(A);
        Node a = start(A, ports, FAST);

        List<Message> sent = everyKind();
        sent.forEach(m -> a.transport.send(A, m));

        List<Delivery> got = a.take(sent.size());
        assertSameMessages(got, A, sent);
        assertThat(got).extracting(Delivery::thread).containsOnly(a.coreThread);
        // A copy through the codec, never the sender's own arrays.
        assertThat(((Message.WriteRequest) got.get(0).message()).key()).isNotSameAs(((Message.WriteRequest) sent.get(0)).key());
        assertThat(a.transport.stats(A).messagesSent()).isEqualTo(sent.size());
        assertThat(a.transport.stats(A).connected()).isTrue();
    }

    @Test
    void unknownPeerIsDroppedAndCounted() {
        Node a = start(A, ports(A, B), FAST);

        a.transport.send(99, new Message.Ping(Message.FIRST_EPOCH, 1, 0));
        a.transport.send(-1, new Message.Ping(Message.FIRST_EPOCH, 2, 0));

        assertThat(a.transport.unknownPeerDrops()).isEqualTo(2);
        assertThat(a.transport.stats(99)).isNull();
    }

    // ---------------------------------------------------------------- reconnects and bounds

    @Test
    void peerStartingLaterReceivesWhatWasQueuedBeforeItCameUp() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);

        for (int i = 0; i < 10; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }
        PeerStats toB = a.transport.stats(B);
        await("a connect failure", () -> toB.connectFailures() >= 2);
        assertThat(toB.queueDepth()).isEqualTo(10);
        assertThat(toB.connected()).isFalse();

        Node b = start(B, ports, FAST);

        assertThat(b.take(10)).extracting(d -> ((Message.Ping) d.message()).sequence())
                .containsExactly(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L);
        assertThat(toB.queueDepth()).isZero();
        assertThat(toB.queuedBytes()).isZero();
        assertThat(toB.connected()).isTrue();
        assertThat(toB.connects()).isEqualTo(1);
    }

    @Test
    void restartedPeerReceivesAgainAfterReconnect() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b1 = start(B, ports, FAST);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 0, 0));
        assertThat(b1.take(1)).extracting(Delivery::message).first().isInstanceOf(Message.Ping.class);

        b1.close();
        PeerStats toB = a.transport.stats(B);
        await("A notices B is gone", () -> !toB.connected());
        for (int i = 1; i <= 5; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }
        await("A retries while B is down", () -> toB.connectFailures() >= 1);

        Node b2 = start(B, ports, FAST);

        assertThat(b2.take(5)).extracting(d -> ((Message.Ping) d.message()).sequence()).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(toB.connects()).isEqualTo(2);
        assertThat(b1.inbox).isEmpty();
    }

    @Test
    void fullQueueDropsTheNewestAndCounts() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST.withQueueBounds(5, 1 << 20));

        for (int i = 0; i < 8; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }

        PeerStats toB = a.transport.stats(B);
        assertThat(toB.messagesDropped()).isEqualTo(3);
        assertThat(toB.queueDepth()).isEqualTo(5);
        assertThat(toB.queuedBytes()).isEqualTo(5 * PING_BYTES);

        Node b = start(B, ports, FAST);
        assertThat(b.take(5)).extracting(d -> ((Message.Ping) d.message()).sequence()).containsExactly(0L, 1L, 2L, 3L, 4L);
        b.assertNothingMore();
        assertThat(toB.messagesSent()).isEqualTo(5);
    }

    @Test
    void queueByteBoundDropsAndCounts() {
        Map<Integer, Integer> ports = ports(A, B);
        Message m = new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, key("k"), Record.value(version(1), 0, null, new byte[1_000]));
        int size = MessageCodec.encode(0, m).length;
        Node a = start(A, ports, FAST.withQueueBounds(100, 2L * size + size / 2));

        a.transport.send(B, m);
        a.transport.send(B, m);
        a.transport.send(B, m);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 9, 0)); // small enough to fit beside the two

        PeerStats toB = a.transport.stats(B);
        assertThat(toB.messagesDropped()).isEqualTo(1);
        assertThat(toB.queueDepth()).isEqualTo(3);
        assertThat(toB.queuedBytes()).isEqualTo(2L * size + PING_BYTES);
    }

    @Test
    void oversizedMessageIsDroppedAtSend() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST.withMaxFrameBytes(1_024));
        Node b = start(B, ports, FAST.withMaxFrameBytes(1_024));

        a.transport.send(B, new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, key("k"), Record.value(version(1), 0, null, new byte[2_000])));
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 2, 0));

        assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 2, 0));
        assertThat(a.transport.oversizedDrops()).isEqualTo(1);
        assertThat(a.transport.stats(B).messagesDropped()).isEqualTo(1);
    }

    @Test
    void closeIsPromptWithAPeerDownAndMessagesQueued() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        for (int i = 0; i < 100; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0));
        }

        long start = System.nanoTime();
        a.transport.close();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));

        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 100, 0)); // a no-op, not an exception
        a.transport.close(); // idempotent
        await("queue discarded", () -> a.transport.stats(B).queueDepth() == 0);
    }

    // ---------------------------------------------------------------- corruption and handshakes

    @Test
    void aMessageThatArrivesWithItsBudgetSpentIsDroppedNotRun() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST);
        try (Socket s = raw(b)) {
            s.getOutputStream().write(handshake("CAIRN", Wire.VERSION, A, B));
            s.getOutputStream().write(frame(MessageCodec.encode(0, new Message.Ping(Message.FIRST_EPOCH, 1, 0)), 0));
            s.getOutputStream().write(frame(MessageCodec.encode(0, new Message.Ping(Message.FIRST_EPOCH, 2, 0))));
            assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 2, 0));
        }
        assertThat(b.transport.expiredDrops()).isEqualTo(1);
        b.assertNothingMore();
    }

    @Test
    void messagesThatWaitedOutTheirBudgetForAPeerAreDroppedNotSent() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST.withMessageBudget(Duration.ofMillis(100)));
        for (int i = 0; i < 5; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0)); // B is down: these wait in the queue
        }
        sleep(Duration.ofMillis(300));
        Node b = start(B, ports, FAST);
        await("stale messages dropped at the sender", () -> a.transport.expiredDrops() == 5);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 99, 0));
        assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 99, 0));
        b.assertNothingMore();
    }

    enum BadFrame { WRONG_CRC, LENGTH_OVER_BOUND, HUGE_LENGTH, ZERO_LENGTH, UNDECODABLE_PAYLOAD, NEGATIVE_SENDER_CLOCK, TRUNCATED_SENDER_CLOCK }

    @ParameterizedTest
    @EnumSource(BadFrame.class)
    void badFrameClosesTheConnectionIsCountedAndNothingIsDelivered(BadFrame kind) throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST.withMaxFrameBytes(4_096));
        byte[] ping = MessageCodec.encode(0, new Message.Ping(Message.FIRST_EPOCH, 1, 0));

        ByteBuffer bytes = ByteBuffer.allocate(256);
        bytes.put(handshake("CAIRN", Wire.VERSION, A, B));
        switch (kind) {
            case WRONG_CRC -> bytes.putInt(ping.length).putInt(crc(BUDGET, ping) ^ 1).putInt(BUDGET).put(ping);
            case LENGTH_OVER_BOUND -> bytes.putInt(4_097).putInt(0).putInt(BUDGET);
            case HUGE_LENGTH -> bytes.putInt(0xFFFF_FFF0).putInt(0).putInt(BUDGET);
            case ZERO_LENGTH -> bytes.putInt(0).putInt(crc(BUDGET, new byte[0])).putInt(BUDGET);
            case UNDECODABLE_PAYLOAD -> {
                byte[] garbage = {0, 0, 0, 0, 0, 0, 0, 1, 42, 1, 2, 3}; // a sender clock, then no message type there is
                bytes.putInt(garbage.length).putInt(crc(BUDGET, garbage)).putInt(BUDGET).put(garbage);
            }
            case NEGATIVE_SENDER_CLOCK -> {
                byte[] negative = ping.clone();
                ByteBuffer.wrap(negative).putLong(0, -1);
                bytes.putInt(negative.length).putInt(crc(BUDGET, negative)).putInt(BUDGET).put(negative);
            }
            case TRUNCATED_SENDER_CLOCK -> {
                byte[] truncated = {0, 0, 0, 1};
                bytes.putInt(truncated.length).putInt(crc(BUDGET, truncated)).putInt(BUDGET).put(truncated);
            }
        }
        bytes.put(frame(ping)); // a valid frame behind the bad one is not delivered either

        try (Socket s = raw(b)) {
            s.getOutputStream().write(bytes.array(), 0, bytes.position());
            assertClosedByPeer(s);
        }
        await("the connection is gone", () -> !b.transport.stats(A).inboundConnected());
        b.assertNothingMore();
        assertThat(b.transport.badFrames()).isEqualTo(1);
        assertThat(b.transport.badHandshakes()).isZero();
        assertThat(b.transport.stats(A).messagesReceived()).isZero();
    }

    @Test
    void rawValidFrameIsDelivered() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST);

        try (Socket s = raw(b)) {
            s.getOutputStream().write(handshake("CAIRN", Wire.VERSION, A, B));
            s.getOutputStream().write(frame(MessageCodec.encode(42, new Message.Ping(Message.FIRST_EPOCH, 5, 0))));
            assertThat(b.take(1)).containsExactly(new Delivery(A, 42, new Message.Ping(Message.FIRST_EPOCH, 5, 0), b.coreThread));
        }
    }

    enum BadHandshake { WRONG_MAGIC, WRONG_VERSION, WRONG_CALLEE, UNKNOWN_CALLER, CALLER_IS_CALLEE }

    @ParameterizedTest
    @EnumSource(BadHandshake.class)
    void badHandshakeCloses(BadHandshake kind) throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST);
        byte[] hello = switch (kind) {
            case WRONG_MAGIC -> handshake("CAIRX", 2, A, B);
            case WRONG_VERSION -> handshake("CAIRN", 3, A, B); // the version before replica failures were typed
            case WRONG_CALLEE -> handshake("CAIRN", Wire.VERSION, A, C);
            case UNKNOWN_CALLER -> handshake("CAIRN", Wire.VERSION, 99, B);
            case CALLER_IS_CALLEE -> handshake("CAIRN", Wire.VERSION, B, B);
        };

        try (Socket s = raw(b)) {
            s.getOutputStream().write(ByteBuffer.allocate(64).put(hello).put(frame(MessageCodec.encode(0, new Message.Ping(Message.FIRST_EPOCH, 1, 0)))).array());
            assertClosedByPeer(s);
        }
        b.assertNothingMore();
        assertThat(b.transport.badHandshakes()).isEqualTo(1);
        assertThat(b.transport.badFrames()).isZero();
    }

    @Test
    void silentConnectionIsClosedAfterTheHandshakeTimeout() throws Exception {
        Node b = start(B, ports(A, B), FAST.withConnectTimeout(Duration.ofMillis(200)));

        try (Socket s = raw(b)) {
            s.getOutputStream().write(new byte[] {'C', 'A', 'I'});
            assertClosedByPeer(s);
        }
        assertThat(b.transport.badHandshakes()).isEqualTo(1);
    }

    @Test
    void newerConnectionFromAPeerReplacesTheOlder() throws Exception {
        Map<Integer, Integer> ports = ports(A, B);
        Node b = start(B, ports, FAST);

        try (Socket first = raw(b); Socket second = raw(b)) {
            first.getOutputStream().write(handshake("CAIRN", Wire.VERSION, A, B));
            await("first connection accepted", () -> b.transport.stats(A).inboundConnected());
            second.getOutputStream().write(handshake("CAIRN", Wire.VERSION, A, B));
            assertClosedByPeer(first);

            second.getOutputStream().write(frame(MessageCodec.encode(0, new Message.Ping(Message.FIRST_EPOCH, 3, 0))));
            assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 3, 0));
            assertThat(b.transport.stats(A).inboundConnected()).isTrue();
        }
        assertThat(b.transport.badHandshakes()).isZero();
    }

    // ---------------------------------------------------------------- membership changes

    @Test
    void peersAreAddedAndRemovedAtRunTime() {
        Map<Integer, Integer> ports = ports(A, B, C);
        Node a = start(A, Map.of(A, ports.get(A), B, ports.get(B)), FAST);
        Node b = start(B, ports, FAST);
        Node c = start(C, ports, FAST);
        Message ping = new Message.Ping(Message.FIRST_EPOCH, 1, 0);

        a.transport.send(C, ping);
        assertThat(a.transport.unknownPeerDrops()).as("C is not a peer of A yet").isEqualTo(1);
        c.transport.send(A, ping);
        await("A refuses C's handshake", () -> a.transport.badHandshakes() >= 1);

        a.transport.addPeer(C, new InetSocketAddress("127.0.0.1", ports.get(C)));
        assertThat(a.transport.peers()).containsExactlyInAnyOrder(B, C);
        a.transport.send(C, ping);
        assertThat(c.take(1).get(0).from()).isEqualTo(A);
        pingUntilHeard(c, A, a, "C is heard once it is added");
        a.inbox.clear();

        a.transport.removePeer(B);
        assertThat(a.transport.peers()).containsExactly(C);
        assertThat(a.transport.stats(B)).isNull();
        long dropsBefore = a.transport.unknownPeerDrops();
        a.transport.send(B, ping);
        assertThat(a.transport.unknownPeerDrops()).isEqualTo(dropsBefore + 1);
        long refusedBefore = a.transport.badHandshakes();
        b.transport.send(A, ping);
        await("A refuses B's handshake once B is removed", () -> a.transport.badHandshakes() > refusedBefore);
        try {
            a.core.submit(() -> {}).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(a.inbox).as("nothing from a removed peer").noneMatch(d -> d.from() == B);
        a.inbox.clear();

        a.transport.addPeer(B, new InetSocketAddress("127.0.0.1", ports.get(B)));
        pingUntilHeard(b, A, a, "B is heard again after it is added back");
    }

    // ---------------------------------------------------------------- fault injection

    @Test
    void blockCutsTrafficBothWaysAndUnblockRestoresIt() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        Node b = start(B, ports, FAST);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 1, 0));
        b.transport.send(A, new Message.Ping(Message.FIRST_EPOCH, 2, 0));
        b.take(1);
        a.take(1);

        a.transport.block(B);
        assertThat(a.transport.stats(B).blocked()).isTrue();
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 10, 0)); // cut at A's send
        b.transport.send(A, new Message.Ping(Message.FIRST_EPOCH, 20, 0)); // crosses the wire, cut at A's receive
        await("A drops both", () -> a.transport.blockedDrops() == 2);

        a.transport.unblock(B);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 11, 0));
        b.transport.send(A, new Message.Ping(Message.FIRST_EPOCH, 21, 0));
        assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 11, 0));
        assertThat(a.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 21, 0));

        a.transport.block(B);
        a.transport.unblockAll();
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 12, 0));
        assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 12, 0));
        a.assertNothingMore();
        b.assertNothingMore();
        assertThat(b.transport.blockedDrops()).isZero();
    }

    @Test
    void messagesQueuedBeforeABlockAreDroppedWhenDrained() {
        Map<Integer, Integer> ports = ports(A, B);
        Node a = start(A, ports, FAST);
        for (int i = 0; i < 5; i++) {
            a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, i, 0)); // B is down: these wait in the queue
        }
        a.transport.block(B);
        Node b = start(B, ports, FAST);

        // The queue is written only once connected; a ping after unblock proves it drained first.
        await("queue drained into drops", () -> a.transport.blockedDrops() == 5);
        a.transport.unblock(B);
        a.transport.send(B, new Message.Ping(Message.FIRST_EPOCH, 99, 0));
        assertThat(b.take(1)).extracting(Delivery::message).containsExactly(new Message.Ping(Message.FIRST_EPOCH, 99, 0));
    }

    // ---------------------------------------------------------------- backoff

    @Test
    void backoffDoublesWithJitterUpToTheCap() {
        long min = Duration.ofMillis(50).toNanos();
        long max = Duration.ofSeconds(2).toNanos();
        SplittableRandom random = new SplittableRandom(7);
        for (int attempt = 0; attempt < 70; attempt++) {
            long base = Math.min(max, attempt < 20 ? min << attempt : max);
            for (int i = 0; i < 200; i++) {
                assertThat(OutboundPeer.backoffNanos(attempt, min, max, random)).as("attempt %d", attempt).isBetween(base / 2, base);
            }
        }
        SplittableRandom r1 = new SplittableRandom(3);
        SplittableRandom r2 = new SplittableRandom(3);
        for (int attempt = 0; attempt < 10; attempt++) {
            assertThat(OutboundPeer.backoffNanos(attempt, min, max, r1)).isEqualTo(OutboundPeer.backoffNanos(attempt, min, max, r2));
        }
        assertThat(OutboundPeer.backoffNanos(Integer.MAX_VALUE, 1, Long.MAX_VALUE, random)).isPositive();
    }

    // ---------------------------------------------------------------- helpers

    record Delivery(int from, long senderClock, Message message, Thread thread) {}

    /** A transport with its own single-threaded core executor, recording what it receives. */
    static final class Node implements AutoCloseable {
        final int id;
        final ExecutorService core;
        final Thread coreThread;
        final InternodeTransport transport;
        final BlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
        final AtomicInteger offThread = new AtomicInteger();
        /** This node's hybrid clock as its transport reads it at each send. */
        final AtomicLong clock = new AtomicLong();

        Node(int id, int port, Map<Integer, InetSocketAddress> peers, InternodeSettings settings) {
            this.id = id;
            this.core = Executors.newSingleThreadExecutor(r -> new Thread(r, "test-core-" + id));
            try {
                this.coreThread = core.submit(Thread::currentThread).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            try {
                this.transport = new InternodeTransport(id, "127.0.0.1", port, peers, clock::get, (from, senderClock, m) -> {
                    if (Thread.currentThread() != coreThread) {
                        offThread.incrementAndGet();
                    }
                    inbox.add(new Delivery(from, senderClock, m, Thread.currentThread()));
                }, core, settings);
            } catch (RuntimeException e) {
                core.shutdownNow();
                throw e;
            }
        }

        List<Delivery> take(int n) {
            List<Delivery> got = new ArrayList<>(n);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (got.size() < n) {
                Delivery d;
                try {
                    d = inbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
                if (d == null) {
                    fail("node " + id + " received " + got.size() + " of " + n + " messages within " + WAIT + "; " + transport.allStats().values());
                }
                got.add(d);
            }
            return got;
        }

        /** Waits until the core has run every delivery handed to it so far, then expects none unread. */
        void assertNothingMore() {
            try {
                core.submit(() -> {}).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
            assertThat(inbox).as("unexpected deliveries at node %d", id).isEmpty();
        }

        @Override
        public void close() {
            transport.close();
            core.shutdownNow();
            try {
                core.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Node start(int id, Map<Integer, Integer> ports, InternodeSettings settings) {
        Map<Integer, InetSocketAddress> peers = new HashMap<>();
        ports.forEach((peer, port) -> peers.put(peer, new InetSocketAddress("127.0.0.1", port)));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            try {
                Node n = new Node(id, ports.get(id), peers, settings);
                nodes.push(n);
                return n;
            } catch (IllegalStateException e) {
                // A port reserved for a peer that was down can be held for a moment by a socket
                // the kernel connected to itself while a sender dialled it; the transport closes it.
                if (!String.valueOf(e.getMessage()).contains("already in use") || System.nanoTime() > deadline) {
                    throw e;
                }
                sleep(Duration.ofMillis(20));
            }
        }
    }

    /** Free ports for the given node ids; a node not started yet is a peer that is down. */
    private static Map<Integer, Integer> ports(int... ids) {
        Map<Integer, Integer> ports = new HashMap<>();
        for (int id : ids) {
            ports.put(id, io.cairn.server.TestPorts.free());
        }
        return ports;
    }

    /**
     * {@code from} pings {@code to} every 50 ms until {@code receiver} has heard it: a sender may
     * not have noticed yet that its earlier, refused connection was closed, and a message written
     * to that connection is lost, as any message may be.
     */
    private static void pingUntilHeard(Node from, int to, Node receiver, String what) {
        long[] nextPing = {System.nanoTime()};
        await(what, () -> {
            if (System.nanoTime() - nextPing[0] >= 0) {
                from.transport.send(to, new Message.Ping(Message.FIRST_EPOCH, 3, 0));
                nextPing[0] = System.nanoTime() + Duration.ofMillis(50).toNanos();
            }
            return receiver.inbox.stream().anyMatch(d -> d.from() == from.id);
        });
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + WAIT + " waiting for: " + what);
            }
            sleep(Duration.ofMillis(2));
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    private static Socket raw(Node n) throws IOException {
        Socket s = new Socket("127.0.0.1", n.transport.port());
        s.setSoTimeout((int) WAIT.toMillis());
        return s;
    }

    /** The acceptor closed its end: EOF, or a reset when it closed with our bytes unread. */
    private static void assertClosedByPeer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            assertThat(in.read()).isEqualTo(-1);
        } catch (SocketTimeoutException e) {
            fail("connection still open after " + WAIT);
        } catch (SocketException e) {
            assertThat(e.getMessage()).containsIgnoringCase("reset");
        }
    }

    /** The handshake written out by hand, so the test pins the wire format independently of {@link Wire}. */
    private static byte[] handshake(String magic, int version, int from, int to) {
        return ByteBuffer.allocate(14).put(magic.getBytes(StandardCharsets.US_ASCII)).put((byte) version).putInt(from).putInt(to).array();
    }

    private static final int BUDGET = 5_000;

    private static byte[] frame(byte[] payload) {
        return frame(payload, BUDGET);
    }

    private static byte[] frame(byte[] payload, int budgetMillis) {
        return ByteBuffer.allocate(12 + payload.length).putInt(payload.length).putInt(crc(budgetMillis, payload)).putInt(budgetMillis)
                .put(payload).array();
    }

    private static int crc(int budgetMillis, byte[] payload) {
        CRC32C c = new CRC32C();
        c.update(ByteBuffer.allocate(4).putInt(budgetMillis).array());
        c.update(payload);
        return (int) c.getValue();
    }

    private static void assertSameMessages(List<Delivery> got, int from, List<Message> expected) {
        assertThat(got).extracting(Delivery::from).containsOnly(from);
        assertThat(got).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(got.get(i).message()).as("message %d", i).usingRecursiveComparison().withStrictTypeChecking()
                    .withComparatorForType(java.util.Arrays::compare, byte[].class) // element-wise walking of 1 MiB is slow
                    .isEqualTo(expected.get(i));
        }
    }

    private static List<Message> everyKind() {
        Version v = version(3);
        byte[] mebibyte = new byte[1 << 20];
        new Random(7).nextBytes(mebibyte);
        return List.of(
                new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1, key("k1"), Record.value(v, Record.NO_EXPIRY, "text/plain; charset=utf-8", key("hello"))),
                new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 2, 1, key("big"), Record.value(v, 1_800_000_000_000L, null, mebibyte)),
                new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 3, 7, new byte[] {0, (byte) 0xFF}, Record.tombstone(new Version(Version.pack(1_700_000_000_001L, 9), 65_535))),
                new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 4, 1, key("empty"), Record.value(v, 0, "", new byte[0])),
                new Message.WriteResponse(Protocol.REPLICATION, 5, true, null),
                new Message.WriteResponse(Protocol.REPLICATION, 6, false, new Message.Failure(io.cairn.error.ErrorCode.STORAGE_FAILED, "disk full — ünïcødé ✓")),
                new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 7, 1, key("k1")),
                new Message.ReadRequest(Protocol.READ, Message.FIRST_EPOCH, 8, Integer.MAX_VALUE, new byte[] {0}),
                new Message.ReadResponse(Protocol.READ, 9, Record.value(v, 0, "application/octet-stream", mebibyte), null),
                new Message.ReadResponse(Protocol.READ, 10, Record.tombstone(v), null),
                new Message.ReadResponse(Protocol.READ, 11, null, null),
                new Message.ReadResponse(Protocol.READ, 12, null, new Message.Failure(io.cairn.error.ErrorCode.CORRUPT_RECORD, "read failed")),
                new Message.Ping(Message.FIRST_EPOCH, 13, 1_700_000_000_000L),
                new Message.Pong(Long.MAX_VALUE, 1_700_000_000_000L, Long.MAX_VALUE),
                new Message.Ping(Message.FIRST_EPOCH, Long.MIN_VALUE, 0));
    }

    private static Version version(long logical) {
        return new Version(Version.pack(1_700_000_000_000L, (int) (logical & Version.LOGICAL_MASK)), 2);
    }

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
