package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.membership.Member;
import io.cairn.metadata.ClusterState;
import io.cairn.server.TestPorts;
import io.cairn.server.http.TestCertificates;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Metadata log nodes on 127.0.0.1 for tests: members with fixed ports, each node's storage under
 * one directory, every state each node published recorded in order.
 */
final class LoopbackGroup implements AutoCloseable {
    /** Short elections and requests for loopback on a shared 2-core machine: generous enough not to churn. */
    static final MetadataSettings SETTINGS = MetadataSettings.defaults()
            .withElectionTimeout(Duration.ofMillis(400), Duration.ofMillis(800))
            .withRequestTimeout(Duration.ofSeconds(3))
            .withPollInterval(Duration.ofMillis(100));

    private final Path root;
    private final MetadataSettings settings;
    /** Every member of the bootstrap state, ids 1..n, each with a metadata address. */
    final List<Member> members;
    /** The first members: the voters the group starts with. */
    final List<Member> voters;
    final ClusterState bootstrap;
    private final Map<Integer, RatisMetadataLog> nodes = new HashMap<>();
    private final Map<Integer, List<ClusterState>> published = new HashMap<>();

    LoopbackGroup(Path root, int memberCount, int voterCount, MetadataSettings settings) {
        this.root = root;
        this.settings = settings;
        List<Member> all = new ArrayList<>();
        for (int id = 1; id <= memberCount; id++) {
            all.add(member(id, true));
        }
        this.members = List.copyOf(all);
        this.voters = members.subList(0, voterCount);
        this.bootstrap = ClusterState.bootstrap(members, 8, Math.min(3, memberCount));
    }

    /** A member in zone {@code z<id mod 3>} with fresh loopback ports, and a metadata address when asked. */
    static Member member(int id, boolean metadataAddress) {
        return new Member(id, "z" + (id % 3), "127.0.0.1:" + TestPorts.free(), "127.0.0.1:" + TestPorts.free(),
                metadataAddress ? "127.0.0.1:" + TestPorts.free() : "");
    }

    /** Starts every member of the bootstrap state. */
    LoopbackGroup startAll() throws IOException {
        for (Member m : members) {
            start(m);
        }
        return this;
    }

    /** Starts {@code member}'s node (again, from its storage, if it ran before). */
    RatisMetadataLog start(Member member) throws IOException {
        // As on a cluster node: the log's gRPC under mutual TLS, with a certificate from the test CA.
        Path tls = root.resolve("tls-n" + member.id());
        TestCertificates.provide(tls, member.id());
        return start(member, MetadataTls.load(tls, member.id(), java.time.Clock.systemUTC()));
    }

    /** Starts {@code member}'s node with this TLS material (null: plaintext). */
    RatisMetadataLog start(Member member, MetadataTls tls) throws IOException {
        return start(member, tls, List.of());
    }

    /** Starts {@code member}'s node as a joining node that was given {@code joinContacts} by the member it joins through. */
    RatisMetadataLog startJoining(Member member, List<Member> joinContacts) throws IOException {
        Path tls = root.resolve("tls-n" + member.id());
        TestCertificates.provide(tls, member.id());
        return start(member, MetadataTls.load(tls, member.id(), java.time.Clock.systemUTC()), joinContacts);
    }

    /** Starts {@code member}'s node with settings of its own (the group's are for the others). */
    RatisMetadataLog startWith(Member member, MetadataSettings own) throws IOException {
        Path tls = root.resolve("tls-n" + member.id());
        TestCertificates.provide(tls, member.id());
        return start(member, MetadataTls.load(tls, member.id(), java.time.Clock.systemUTC()), List.of(), own);
    }

    private RatisMetadataLog start(Member member, MetadataTls tls, List<Member> joinContacts) throws IOException {
        return start(member, tls, joinContacts, settings);
    }

    private RatisMetadataLog start(Member member, MetadataTls tls, List<Member> joinContacts, MetadataSettings settings) throws IOException {
        RatisMetadataLog log = new RatisMetadataLog(member, voters, joinContacts, root.resolve("n" + member.id()), bootstrap, settings, tls);
        List<ClusterState> seen = new CopyOnWriteArrayList<>();
        published.put(member.id(), seen);
        log.subscribe(seen::add);
        log.start();
        nodes.put(member.id(), log);
        return log;
    }

    /** Starts the bootstrap member {@code id}. */
    RatisMetadataLog start(int id) throws IOException {
        return start(members.get(id - 1));
    }

    RatisMetadataLog node(int id) {
        return nodes.get(id);
    }

    Path storage(int id) {
        return root.resolve("n" + id);
    }

    /** The states node {@code id} published since it was last started, in order. */
    List<ClusterState> published(int id) {
        return published.get(id);
    }

    List<Long> publishedEpochs(int id) {
        return published(id).stream().map(ClusterState::epoch).toList();
    }

    void stop(int id) {
        RatisMetadataLog log = nodes.remove(id);
        if (log != null) {
            log.close();
        }
    }

    /** The id of the running node that leads, waiting up to {@code timeout} for one. */
    int leader(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (Map.Entry<Integer, RatisMetadataLog> e : nodes.entrySet()) {
                if (e.getValue().isLeader()) {
                    return e.getKey();
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no leader among " + nodes.keySet() + " within " + timeout);
    }

    /** Asserts that each state in {@code states} is exactly one epoch past the one before. */
    static void assertConsecutive(List<ClusterState> states) {
        for (int i = 1; i < states.size(); i++) {
            assertThat(states.get(i).epoch()).as("epoch after %s", states.get(i - 1).epoch()).isEqualTo(states.get(i - 1).epoch() + 1);
        }
    }

    void stopAll() {
        for (Integer id : List.copyOf(nodes.keySet())) {
            stop(id);
        }
    }

    @Override
    public void close() {
        stopAll();
    }
}
