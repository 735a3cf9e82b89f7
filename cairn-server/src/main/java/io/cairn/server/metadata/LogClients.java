package io.cairn.server.metadata;

import io.cairn.membership.Member;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.rpc.SupportedRpcType;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Ratis client this node talks to the metadata group through, kept pointed at the group's
 * members as they change.
 *
 * <p>A client knows a list of peers to try; it finds the leader by following "not leader" hints.
 * Its list is the members with a metadata address (listeners answer with the leader they follow)
 * plus the voters this node was started with; when that set changes, a new client replaces the
 * old one, which is closed once the requests already on it had their time.
 *
 * <p>Retries are bounded so a request gives up near the request timeout: a fixed pause between
 * attempts, as many attempts as fit. The caller's own timer still answers on time if an attempt
 * hangs.
 */
final class LogClients implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LogClients.class);
    private static final Duration RETRY_PAUSE = Duration.ofMillis(100);
    private static final Duration ATTEMPT_TIMEOUT_MAX = Duration.ofSeconds(3);

    private final List<Member> startVoters;
    private final ScheduledExecutorService scheduler;
    private final Duration requestTimeout;
    private final RaftProperties properties = new RaftProperties();
    private final Parameters parameters;
    /** Guarded by this. */
    private Set<Integer> contactIds = Set.of();
    /** The peers the current client asks, in order; guarded by this. */
    private List<Member> contacts = List.of();
    private RaftClient client;
    private final List<RaftClient> retired = new ArrayList<>();
    private boolean closed;

    LogClients(List<Member> startVoters, ScheduledExecutorService scheduler, Duration requestTimeout, Parameters parameters) {
        this.parameters = parameters;
        this.startVoters = List.copyOf(startVoters);
        this.scheduler = scheduler;
        this.requestTimeout = requestTimeout;
        RaftConfigKeys.Rpc.setType(properties, SupportedRpcType.GRPC);
        Duration attempt = requestTimeout.compareTo(ATTEMPT_TIMEOUT_MAX) < 0 ? requestTimeout : ATTEMPT_TIMEOUT_MAX;
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(attempt.toMillis(), TimeUnit.MILLISECONDS));
    }

    /** The client for the group whose members with a metadata address are {@code members} (in the order to ask them). */
    synchronized RaftClient client(Collection<Member> members) {
        if (closed) {
            throw new IllegalStateException("the metadata log is closed");
        }
        // Each id once, the first address given for it kept (a joining node's contacts come before its state's members).
        List<Member> contacts = new ArrayList<>();
        Set<Integer> ids = new java.util.HashSet<>();
        for (Member m : members) {
            if (m.metadataVoter() && ids.add(m.id())) {
                contacts.add(m);
            }
        }
        for (Member v : startVoters) {
            if (ids.add(v.id())) {
                contacts.add(v);
            }
        }
        if (client != null && ids.equals(contactIds)) {
            return client;
        }
        if (client != null) {
            retire(client);
        }
        int attempts = (int) Math.max(1, requestTimeout.toMillis() / RETRY_PAUSE.toMillis());
        client = RaftClient.newBuilder()
                .setClientId(ClientId.randomId())
                .setRaftGroup(RaftGroup.valueOf(RaftPeers.GROUP_ID, RaftPeers.peers(contacts, RaftPeerRole.FOLLOWER)))
                .setProperties(properties)
                .setParameters(parameters)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(attempts,
                        TimeDuration.valueOf(RETRY_PAUSE.toMillis(), TimeUnit.MILLISECONDS)))
                .build();
        contactIds = ids;
        this.contacts = List.copyOf(contacts);
        return client;
    }

    /** The peers the newest client asks ({@code n<id>@<metadata address>}), or the start voters before there is one. */
    synchronized String describeContacts() {
        List<Member> tried = client != null ? contacts : startVoters;
        return tried.stream().map(m -> RaftPeers.peerId(m.id()) + "@" + m.metadataAddress()).collect(Collectors.joining(", "));
    }

    private void retire(RaftClient old) {
        retired.add(old);
        scheduler.schedule(() -> {
            synchronized (this) {
                if (retired.remove(old)) {
                    closeQuietly(old);
                }
            }
        }, requestTimeout.toMillis() * 2, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (client != null) {
            closeQuietly(client);
        }
        retired.forEach(LogClients::closeQuietly);
        retired.clear();
    }

    private static void closeQuietly(RaftClient c) {
        try {
            c.close();
        } catch (IOException e) {
            log.debug("closing a metadata client: {}", e.toString());
        }
    }
}
