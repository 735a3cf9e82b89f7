package io.cairn.server.metadata;

import io.cairn.invariant.Invariant;
import io.cairn.membership.Member;
import io.cairn.metadata.ClusterState;
import java.io.IOException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the metadata group's Raft configuration in line with the cluster's members: on the
 * leader only, after a state or configuration change and on a timer, it compares the
 * configuration with {@link VoterPlacement}'s target and asks Ratis for the next step.
 *
 * <p>Idempotent by construction: each check recomputes the step from the committed state and the
 * current configuration, and the request is compare-and-set against the configuration it was
 * computed from, so a stale or repeated check changes nothing. A failed step (a new voter that
 * does not catch up in time, a leader change, another change still in progress) is simply tried
 * again on the next check. Checks run on the log's scheduler thread, never on a Ratis thread,
 * one at a time.
 */
final class GroupReconfigurer {
    private static final Logger log = LoggerFactory.getLogger(GroupReconfigurer.class);

    private final RaftServer server;
    private final Supplier<ClusterState> state;
    private final ScheduledExecutorService scheduler;
    private final int maxVoters;
    private final Duration timeout;
    private final ClientId clientId = ClientId.randomId();
    private final AtomicLong callIds = new AtomicLong();
    private final AtomicBoolean checkQueued = new AtomicBoolean();

    GroupReconfigurer(RaftServer server, Supplier<ClusterState> state, ScheduledExecutorService scheduler, MetadataSettings settings) {
        this.server = server;
        this.state = state;
        this.scheduler = scheduler;
        this.maxVoters = settings.maxVoters();
        this.timeout = settings.requestTimeout();
    }

    /** Checks every {@code period} from now on, besides the checks {@link #poke()} asks for. */
    void start(Duration period) {
        scheduler.scheduleWithFixedDelay(this::check, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Asks for a check soon; any number of pokes before it runs make one check. */
    void poke() {
        if (checkQueued.compareAndSet(false, true)) {
            try {
                scheduler.execute(() -> {
                    checkQueued.set(false);
                    check();
                });
            } catch (RejectedExecutionException closing) {
                // The log is closing; nothing to reconfigure any more.
            }
        }
    }

    private void check() {
        RaftServer.Division division;
        try {
            division = server.getDivision(RaftPeers.GROUP_ID);
        } catch (IOException closing) {
            return;
        }
        if (!division.getInfo().isLeader() || !division.getInfo().isLeaderReady()) {
            return;
        }
        RaftConfiguration conf = division.getRaftConf();
        if (!conf.getPreviousPeers().isEmpty()) {
            return; // A change is being committed; check again once it is.
        }
        Collection<RaftPeer> voters = conf.getCurrentPeers(RaftPeerRole.FOLLOWER);
        Collection<RaftPeer> listeners = conf.getCurrentPeers(RaftPeerRole.LISTENER);
        List<Member> eligible = state.get().activeMembers().stream().filter(Member::metadataVoter).toList();
        VoterPlacement.Configuration next = VoterPlacement.nextStep(eligible, ids(voters), ids(listeners), maxVoters);
        if (next == null) {
            return;
        }
        SetConfigurationRequest.Arguments arguments = SetConfigurationRequest.Arguments.newBuilder()
                .setServersInNewConf(RaftPeers.peers(next.voters(), RaftPeerRole.FOLLOWER))
                .setListenersInNewConf(RaftPeers.peers(next.listeners(), RaftPeerRole.LISTENER))
                .setServersInCurrentConf(List.copyOf(voters))
                .setListenersInCurrentConf(List.copyOf(listeners))
                .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
                .build();
        SetConfigurationRequest request = new SetConfigurationRequest(clientId, server.getId(), RaftPeers.GROUP_ID, callIds.incrementAndGet(),
                arguments);
        log.info("metadata group: reconfiguring from voters {} listeners {} to voters {} listeners {}", ids(voters), ids(listeners),
                next.voterIds(), next.listenerIds());
        try {
            RaftClientReply reply = server.setConfigurationAsync(request).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (reply.isSuccess()) {
                log.info("metadata group: voters {} listeners {}", next.voterIds(), next.listenerIds());
                poke(); // The target may need another step.
            } else {
                log.info("metadata group: reconfiguration refused, will retry: {}", String.valueOf(reply.getException()));
            }
        } catch (IOException | ExecutionException | TimeoutException e) {
            log.info("metadata group: reconfiguration failed, will retry: {}", e.toString());
        } catch (IllegalStateException e) {
            // Ratis reports some races (a leader stepping down mid-request) as failed preconditions.
            // Letting one through would end the periodic check silently; a broken invariant of ours
            // still goes through.
            if (Invariant.violationIn(e) != null) {
                throw e;
            }
            log.info("metadata group: reconfiguration failed, will retry: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // Closing.
        }
    }

    private static Set<Integer> ids(Collection<RaftPeer> peers) {
        return peers.stream().map(p -> RaftPeers.memberId(p.getId())).collect(Collectors.toSet());
    }
}
