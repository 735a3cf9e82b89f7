package io.cairn.server.http;

import static io.cairn.server.http.TestNode.etag;
import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.cairn.message.Message;
import io.cairn.message.Protocol;
import io.cairn.message.MessageCodec;
import io.cairn.namespace.Namespace;
import io.cairn.record.Record;
import io.cairn.server.TestPorts;
import io.cairn.clock.Version;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.zip.CRC32C;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The attack from the external report, against three real nodes over the real internode
 * transport: a raw TCP client that passes the handshake as a member sends replica writes and a
 * hinted write stamped at {@code Long.MAX_VALUE} and an hour ahead, in frames that claim sender
 * clocks as far ahead. Every node refuses the records and the clocks alike and counts them
 * ({@code cairn_clock_offset_refusals_total}), no clock moves, the data is untouched,
 * every node stays ready, and quorum writes and reads through every node keep working. A frame
 * whose payload does not decode (a negative sender clock among them) is refused: the connection is closed and counted
 * ({@code cairn_internode_bad_frames_total}), and the cluster is unharmed.
 *
 * <p>The wire format is written out by hand here, so that this test pins it independently of the
 * transport's own encoder (as {@code InternodeTransportTest} does).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HostilePeerHttpTest {
    private static final int BUDGET_MILLIS = 5_000;
    /** Per attacked node: three records stamped far ahead, and the three sender clocks of their frames. */
    private static final int REFUSED_PER_ATTACK = 6;

    @TempDir
    static Path tmp;

    private final List<TestNode> nodes = new ArrayList<>();
    private final int[] internodePorts = new int[3];

    @BeforeAll
    void startCluster() throws Exception {
        int[] http = new int[3];
        List<String> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            http[i] = TestPorts.free();
            internodePorts[i] = TestPorts.free();
            members.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + internodePorts[i]);
        }
        for (int i = 0; i < 3; i++) {
            nodes.add(TestNode.start(tmp.resolve("n" + (i + 1)), "node.id", Integer.toString(i + 1), "http.port", Integer.toString(http[i]),
                    "cluster.members", String.join(",", members), "cluster.heartbeatInterval", "100ms"));
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
    }

    @AfterAll
    void stopCluster() {
        nodes.forEach(TestNode::close);
    }

    private TestNode node(int id) {
        return nodes.get(id - 1);
    }

    @Test
    void recordsStampedFarAheadAreRefusedCountedAndMoveNoClockNorAnyData() throws Exception {
        HttpResponse<byte[]> put = node(1).put("/kv/target?w=all", "genuine");
        assertThat(put.statusCode()).as(TestNode.describe(put)).isEqualTo(200);
        String genuine = etag(put);
        byte[] key = "target".getBytes(StandardCharsets.UTF_8);
        double[] refusedBefore = new double[3];
        double[] badBefore = new double[3];
        for (int id = 1; id <= 3; id++) {
            refusedBefore[id - 1] = node(id).metric("cairn_clock_offset_refusals_total");
            badBefore[id - 1] = node(id).metric("cairn_internode_bad_frames_total");
        }

        for (int victim = 1; victim <= 3; victim++) {
            int impersonated = victim % 3 + 1;
            int third = impersonated % 3 + 1;
            long hourAhead = Version.pack(System.currentTimeMillis() + 3_600_000, 0);
            try (Socket s = connect(victim, impersonated)) {
                OutputStream out = s.getOutputStream();
                out.write(frame(clocked(Long.MAX_VALUE, MessageCodec.encode(new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 42,
                        Namespace.DEFAULT_ID, key, Record.value(new Version(Long.MAX_VALUE, impersonated), Record.NO_EXPIRY, "text/plain", bytes("poison")))))));
                out.write(frame(clocked(hourAhead, MessageCodec.encode(new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 43,
                        Namespace.DEFAULT_ID, key, Record.tombstone(new Version(hourAhead, impersonated)))))));
                out.write(frame(clocked(hourAhead, MessageCodec.encode(new Message.HintedWrite(Message.FIRST_EPOCH, 44, third, Namespace.DEFAULT_ID, key,
                        Record.value(new Version(hourAhead, impersonated), Record.NO_EXPIRY, null, bytes("poison-hint")))))));
                out.flush();
                TestNode target = node(victim);
                double expected = refusedBefore[victim - 1] + REFUSED_PER_ATTACK;
                await("node " + victim + " refused all three records and their frames' clocks",
                        () -> target.metric("cairn_clock_offset_refusals_total") == expected);
            }
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }

        for (int id = 1; id <= 3; id++) {
            TestNode n = node(id);
            assertThat(n.metric("cairn_clock_offset_refusals_total")).isEqualTo(refusedBefore[id - 1] + REFUSED_PER_ATTACK);
            assertThat(n.metric("cairn_clock_hlc_lead_seconds")).as("node %d's clock stayed with its wall clock", id).isLessThan(0.5);
            assertThat(n.metric("cairn_internode_bad_frames_total")).as("well-formed frames are refused, not cut off")
                    .isEqualTo(badBefore[id - 1]);
            HttpResponse<byte[]> ready = n.get("/ready");
            assertThat(ready.statusCode()).as(TestNode.describe(ready)).isEqualTo(200);
            assertThat(json(ready).path("clockUnsafe").isNull()).isTrue();

            HttpResponse<byte[]> read = n.get("/kv/target?r=quorum");
            assertThat(read.statusCode()).as(TestNode.describe(read)).isEqualTo(200);
            assertThat(text(read)).isEqualTo("genuine");
            assertThat(etag(read)).isEqualTo(genuine);

            long before = System.currentTimeMillis();
            HttpResponse<byte[]> write = n.put("/kv/after-attack-" + id + "?w=quorum", "fine");
            assertThat(write.statusCode()).as(TestNode.describe(write)).isEqualTo(200);
            long stamped = versionOf(etag(write)).physicalMillis();
            assertThat(stamped).as("node %d stamps new writes at the wall clock, not in the future", id)
                    .isBetween(before - 1_000, System.currentTimeMillis() + 1_000);
            assertThat(text(n.get("/kv/after-attack-" + id + "?r=quorum"))).isEqualTo("fine");
        }
        for (JsonNode replica : json(node(2).get("/admin/keys/target")).path("replicas")) {
            assertThat(replica.path("etag").asText()).as("every replica still holds the genuine version").isEqualTo(genuine);
        }
        assertThat(node(1).get("/kv/target?r=all").statusCode()).isEqualTo(200);
    }

    @Test
    void aFrameThatDoesNotDecodeClosesTheConnectionIsCountedAndHarmsNothing() throws Exception {
        TestNode victim = node(2);
        double badBefore = victim.metric("cairn_internode_bad_frames_total");
        long now = Version.pack(System.currentTimeMillis(), 0);
        List<byte[]> undecodable = List.of(
                // Shorter than the sender clock every payload opens with.
                new byte[] {42, 1, 2, 3},
                // A write request whose key is empty: well framed, but not a valid message.
                clocked(now, ByteBuffer.allocate(1 + 1 + 8 + 8 + 4 + 4 + 4).put((byte) 1).put((byte) Protocol.REPLICATION.wire())
                        .putLong(Message.FIRST_EPOCH).putLong(7).putInt(Namespace.DEFAULT_ID).putInt(0).putInt(0).array()),
                // A valid ping, but the sender clock before it is negative.
                clocked(-1, MessageCodec.encode(new Message.Ping(Message.FIRST_EPOCH, 1, System.currentTimeMillis()))));
        for (byte[] payload : undecodable) {
            try (Socket s = connect(2, 3)) {
                s.getOutputStream().write(frame(payload));
                assertClosedByPeer(s);
            }
        }

        await("all three counted", () -> victim.metric("cairn_internode_bad_frames_total") == badBefore + undecodable.size());
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
        for (int id = 1; id <= 3; id++) {
            HttpResponse<byte[]> write = node(id).put("/kv/after-garbage-" + id + "?w=quorum", "ok");
            assertThat(write.statusCode()).as(TestNode.describe(write)).isEqualTo(200);
            assertThat(text(node(id % 3 + 1).get("/kv/after-garbage-" + id + "?r=quorum"))).isEqualTo("ok");
            assertThat(node(id).get("/ready").statusCode()).isEqualTo(200);
        }
    }

    /**
     * A raw connection to node {@code to}'s internode port that has passed the handshake as member
     * {@code as}: a compromised member, holding that member's own certificate.
     */
    private Socket connect(int to, int as) throws Exception {
        SSLSocket s = (SSLSocket) TestCertificates.context(tmp.resolve("n" + as).resolve("tls")).getSocketFactory()
                .createSocket("127.0.0.1", internodePorts[to - 1]);
        s.setSoTimeout(10_000);
        s.startHandshake();
        s.getOutputStream().write(ByteBuffer.allocate(14).put("CAIRN".getBytes(StandardCharsets.US_ASCII)).put((byte) io.cairn.server.internode.InternodeTransport.WIRE_VERSION)
                .putInt(as).putInt(to).array());
        return s;
    }

    /** A payload: {@code i64 sender's hybrid clock | message}. */
    private static byte[] clocked(long senderClock, byte[] message) {
        return ByteBuffer.allocate(8 + message.length).putLong(senderClock).put(message).array();
    }

    /** {@code u32 length | u32 CRC32C of budget and payload | u32 budget ms | payload}. */
    private static byte[] frame(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(ByteBuffer.allocate(4).putInt(BUDGET_MILLIS).array());
        crc.update(payload);
        return ByteBuffer.allocate(12 + payload.length).putInt(payload.length).putInt((int) crc.getValue()).putInt(BUDGET_MILLIS)
                .put(payload).array();
    }

    private static void assertClosedByPeer(Socket s) throws IOException {
        InputStream in = s.getInputStream();
        try {
            assertThat(in.read()).isEqualTo(-1);
        } catch (SocketTimeoutException e) {
            fail("connection still open after a bad frame");
        } catch (SocketException e) {
            assertThat(e.getMessage()).containsIgnoringCase("reset");
        } catch (SSLException e) {
            // The node closed the TLS connection under us: closed, as expected.
        }
    }

    private static Version versionOf(String etag) {
        Version v = Version.parseToken(etag.substring(1, etag.length() - 1));
        assertThat(v).as("etag %s", etag).isNotNull();
        return v;
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for: " + what);
            }
            Thread.sleep(20);
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
