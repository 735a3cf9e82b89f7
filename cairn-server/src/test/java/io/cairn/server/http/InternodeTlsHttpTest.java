package io.cairn.server.http;

import static io.cairn.server.http.TestNode.json;
import static io.cairn.server.http.TestNode.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.clock.Version;
import io.cairn.message.Message;
import io.cairn.message.MessageCodec;
import io.cairn.message.Protocol;
import io.cairn.record.Record;
import io.cairn.server.TestPorts;
import io.cairn.server.security.CertificateAuthority;
import io.cairn.server.security.SecurityConfigException;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS between nodes, tried as an outsider would on a real three-node cluster: a peer
 * without a certificate, with one from another CA, or with a valid certificate of one member
 * claiming to be another is refused and counted, and nothing it sends is applied; a process that
 * takes over a stopped member's address is never sent anything; a member's certificate is
 * rotated while quorum writes keep succeeding.
 */
class InternodeTlsHttpTest {
    @TempDir
    Path tmp;

    private final TestNode[] nodes = new TestNode[3];
    private final int[] http = new int[3];
    private final int[] internode = new int[3];
    private final List<String> specs = new ArrayList<>();

    @AfterEach
    void stop() {
        for (TestNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
    }

    private TestNode start(int id) {
        nodes[id - 1] = TestNode.start(tmp.resolve("n" + id), "node.id", Integer.toString(id), "http.port", Integer.toString(http[id - 1]),
                "cluster.members", String.join(",", specs), "cluster.heartbeatInterval", "100ms",
                "cluster.tls.dir", tmp.resolve("certs/n" + id).toString());
        return nodes[id - 1];
    }

    private void startCluster() throws Exception {
        CertificateAuthority.init(tmp.resolve("ca"), "test", CertificateAuthority.DEFAULT_CA_VALIDITY);
        for (int i = 0; i < 3; i++) {
            http[i] = TestPorts.free();
            internode[i] = TestPorts.free();
            specs.add((i + 1) + "/zone-" + (i + 1) + "/127.0.0.1:" + http[i] + "/127.0.0.1:" + internode[i]);
            CertificateAuthority.issueNode(tmp.resolve("ca"), i + 1, List.of("127.0.0.1"), tmp.resolve("certs/n" + (i + 1)),
                    CertificateAuthority.DEFAULT_NODE_VALIDITY);
        }
        for (int id = 1; id <= 3; id++) {
            start(id);
        }
        for (TestNode n : nodes) {
            n.awaitAllMembersAlive();
        }
    }

    @Test
    void membersTalkOverMutualTlsAndOutsidersAreRefusedAndCounted() throws Exception {
        startCluster();
        assertThat(nodes[0].put("/kv/k?w=all", "v").statusCode()).isEqualTo(200);
        assertThat(text(nodes[1].get("/kv/k?r=all"))).isEqualTo("v");
        assertThat(json(nodes[0].get("/admin/status")).path("cluster").path("internodeTls").path("mutualTls").asBoolean()).isTrue();
        TestNode target = nodes[0];

        // No TLS at all: a plaintext handshake and a forged write.
        double before = refusals(target);
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", internode[0]), 2_000);
            assertRefused(plain, 2, "plaintext");
        }
        awaitRefusals(target, before + 1);

        // A certificate from another CA, for a member id that exists.
        CertificateAuthority.init(tmp.resolve("rogue-ca"), "rogue", CertificateAuthority.DEFAULT_CA_VALIDITY);
        CertificateAuthority.issueNode(tmp.resolve("rogue-ca"), 2, List.of("127.0.0.1"), tmp.resolve("rogue"), CertificateAuthority.DEFAULT_NODE_VALIDITY);
        before = refusals(target);
        try (SSLSocket s = dial(tmp.resolve("rogue"), internode[0])) {
            assertRefused(s, 2, "another CA");
        }
        awaitRefusals(target, before + 1);

        // A valid certificate of node 3 claiming, in the handshake, to be node 2.
        before = refusals(target);
        try (SSLSocket s = dial(tmp.resolve("certs/n3"), internode[0])) {
            assertRefused(s, 2, "node 3 posing as node 2");
        }
        awaitRefusals(target, before + 1);

        assertThat(target.get("/kv/forged?r=all").statusCode()).as("no forged write was applied").isEqualTo(404);
        target.awaitAudit("\"event\":\"internode.connection\",\"outcome\":\"refused\",\"who\":\"node 3\"");
        target.awaitAudit("claimed to be node 2");
        assertThat(nodes[0].put("/kv/after?w=all", "ok").statusCode()).as("the cluster is unharmed").isEqualTo(200);
        assertThat(text(nodes[2].get("/kv/after?r=all"))).isEqualTo("ok");
    }

    @Test
    void aNodesCertificateIsRotatedWithoutDowntime() throws Exception {
        startCluster();
        String before = json(nodes[1].get("/admin/status")).path("cluster").path("internodeTls").path("certificateNotAfter").asText();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.ConcurrentLinkedQueue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
        java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
        Thread writer = new Thread(() -> {
            for (int i = 0; !stop.get(); i++) {
                var r = nodes[0].put("/kv/rotating-" + i + "?w=quorum", "v");
                if (r.statusCode() != 200) {
                    failures.add(TestNode.describe(r));
                }
                written.incrementAndGet();
            }
        });
        writer.start();
        try {
            // Node 2 gets a new certificate (another validity, so it is told apart) while the cluster serves.
            CertificateAuthority.issueNode(tmp.resolve("ca"), 2, List.of("127.0.0.1"), tmp.resolve("certs/n2"), java.time.Duration.ofDays(30));
            // New connections pick it up (files are looked at at most once a second): node 3 restarts
            // and dials node 2 afresh.
            Thread.sleep(1_100);
            nodes[2].close();
            start(3);
            nodes[2].awaitAllMembersAlive();
            nodes[1].awaitAllMembersAlive();
            long deadline = System.nanoTime() + 10_000_000_000L;
            String after;
            do {
                Thread.sleep(100);
                after = json(nodes[1].get("/admin/status")).path("cluster").path("internodeTls").path("certificateNotAfter").asText();
            } while (after.equals(before) && System.nanoTime() < deadline);
            assertThat(after).as("node 2 serves its new certificate").isNotEqualTo(before);
            assertThat(text(nodes[1].get("/metrics"))).contains("cairn_tls_reloads_total 1.0");
            assertThat(nodes[2].put("/kv/through-new-cert?w=all", "v").statusCode()).as("node 3 and node 2 talk with the new certificate")
                    .isEqualTo(200);
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(written.get()).isPositive();
        assertThat(failures).as("quorum writes through node 1 never failed during the rotation").isEmpty();
    }

    @Test
    void aProcessOnAStoppedMembersAddressIsNeverSentAnything() throws Exception {
        startCluster();
        nodes[2].close();
        nodes[2] = null;
        // The impostor holds a genuine certificate of the cluster, node 2's: TLS succeeds, the identity does not.
        SSLContext ctx = context(tmp.resolve("certs/n2"));
        AtomicLong applicationBytes = new AtomicLong();
        AtomicLong accepted = new AtomicLong();
        try (SSLServerSocket impostor = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket()) {
            impostor.setReuseAddress(true);
            impostor.bind(new InetSocketAddress("127.0.0.1", internode[2]));
            impostor.setWantClientAuth(true);
            Thread server = Thread.ofPlatform().daemon().start(() -> {
                while (!impostor.isClosed()) {
                    try (Socket s = impostor.accept()) {
                        accepted.incrementAndGet();
                        s.setSoTimeout(2_000);
                        InputStream in = s.getInputStream();
                        byte[] buf = new byte[4096];
                        for (int n; (n = in.read(buf)) > 0; ) {
                            applicationBytes.addAndGet(n);
                        }
                    } catch (IOException e) {
                        // The node hung up: what we want.
                    }
                }
            });
            double before = refusals(nodes[0]);
            for (int i = 0; i < 20; i++) {
                assertThat(nodes[0].put("/kv/secret-" + i + "?w=2", "s" + i).statusCode()).isEqualTo(200);
            }
            awaitRefusals(nodes[0], before + 1);
            Thread.sleep(500);
            impostor.close();
            server.join(5_000);
        }
        assertThat(accepted.get()).as("node 1 dialled the address of node 3").isPositive();
        assertThat(applicationBytes.get()).as("node 1 sent the impostor nothing, not even its handshake").isZero();
        nodes[0].awaitAudit("\"event\":\"internode.dial\",\"outcome\":\"refused\",\"who\":\"node 2\"");
    }

    @Test
    void aClusterNodeWithoutItsOwnCertificateDoesNotStartAndSaysHowToFixIt() throws Exception {
        int port = TestPorts.free();
        String member = "1/zone-a/127.0.0.1:" + port + "/127.0.0.1:" + TestPorts.free();
        assertThatThrownBy(() -> TestNode.start(tmp.resolve("bare"), "http.port", Integer.toString(port), "cluster.members", member,
                "cluster.replicationFactor", "1", "cluster.tls.dir", tmp.resolve("empty").toString()))
                .isInstanceOf(SecurityConfigException.class).hasMessageContaining("mutual TLS").hasMessageContaining("certs issue");

        CertificateAuthority.init(tmp.resolve("ca"), "test", CertificateAuthority.DEFAULT_CA_VALIDITY);
        CertificateAuthority.issueNode(tmp.resolve("ca"), 2, List.of(), tmp.resolve("other"), CertificateAuthority.DEFAULT_NODE_VALIDITY);
        assertThatThrownBy(() -> TestNode.start(tmp.resolve("bare"), "http.port", Integer.toString(port), "cluster.members", member,
                "cluster.replicationFactor", "1", "cluster.tls.dir", tmp.resolve("other").toString()))
                .isInstanceOf(SecurityConfigException.class).hasMessageContaining("node 2's certificate").hasMessageContaining("this is node 1");
        // Nothing was left listening by the refused starts.
        try (ServerSocket free = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertThat(free.getLocalPort()).isEqualTo(port);
        }
    }

    /** Sends a wire handshake from {@code claimedId} and a forged replica write, then expects the node to hang up. */
    private static void assertRefused(Socket s, int claimedId, String what) throws IOException {
        s.setSoTimeout(5_000);
        byte[] payload = MessageCodec.encode(Version.pack(System.currentTimeMillis(), 0), new Message.WriteRequest(Protocol.REPLICATION, Message.FIRST_EPOCH, 1, 1,
                "forged".getBytes(StandardCharsets.UTF_8),
                Record.value(new Version(Version.pack(System.currentTimeMillis(), 0), claimedId), Record.NO_EXPIRY, null, new byte[] {6})));
        boolean hungUp = false;
        try {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.write("CAIRN".getBytes(StandardCharsets.US_ASCII));
            out.writeByte(io.cairn.server.internode.InternodeTransport.WIRE_VERSION);
            out.writeInt(claimedId);
            out.writeInt(1);
            CRC32C crc = new CRC32C();
            crc.update(new byte[] {0, 0, 7, (byte) 0xD0});
            crc.update(payload);
            out.writeInt(payload.length);
            out.writeInt((int) crc.getValue());
            out.writeInt(2_000);
            out.write(payload);
            out.flush();
            hungUp = s.getInputStream().read() < 0;
        } catch (SocketException | javax.net.ssl.SSLException e) {
            hungUp = true;
        } catch (SocketTimeoutException e) {
            hungUp = false;
        }
        assertThat(hungUp).as("the node hung up on %s", what).isTrue();
    }

    private static double refusals(TestNode node) {
        double v = node.metric("cairn_internode_tls_refusals_total");
        return Double.isNaN(v) ? 0 : v;
    }

    private static void awaitRefusals(TestNode node, double atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (refusals(node) < atLeast) {
            assertThat(System.nanoTime()).as("refusal counted within 10 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** A TLS client presenting the certificate in {@code dir}, trusting any server (the node is the one judging). */
    private static SSLSocket dial(Path dir, int port) throws Exception {
        SSLSocket s = (SSLSocket) context(dir).getSocketFactory().createSocket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
        s.setSoTimeout(5_000);
        try {
            s.startHandshake();
        } catch (IOException e) {
            // The node refused during the handshake; assertRefused sees the closed socket.
        }
        return s;
    }

    private static SSLContext context(Path dir) throws Exception {
        return TestCertificates.context(dir);
    }

}
