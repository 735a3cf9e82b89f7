package io.cairn.server.metadata;

import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCommand;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The cluster's metadata log: a replicated, totally ordered log of {@link MetadataCommand}s whose
 * applied state ({@link ClusterState}, one epoch per change) every node follows.
 *
 * <p>How a driver uses it:
 * <ol>
 *   <li>Construct it ({@link RatisMetadataLog}) with this node's member, the voters it was
 *       configured with, a storage directory of its own and the bootstrap state (the state of an
 *       empty log: the same on every node). Then {@link #start()}: a restarted node recovers its
 *       state from that directory (the newest snapshot plus the log after it).</li>
 *   <li>{@link #subscribe} before acting on metadata: the subscriber is handed the current state,
 *       then every state with a new epoch, in order, on the log's own publisher thread. Route by
 *       {@link ClusterState#membership()} of the newest one.</li>
 *   <li>{@link #submit} a command from any node; the future answers whether it was applied (and
 *       the state it made) or refused (the refusal says why), or fails with
 *       {@link MetadataUnavailableException} when no majority of voters could commit it in time.
 *       Commands are idempotent: one whose outcome was lost may be submitted again.</li>
 *   <li>{@link #awaitEpoch} to wait until this node has seen a given epoch, say before answering
 *       an operator or before acting on a move the leader started.</li>
 *   <li>{@link #close()} on shutdown.</li>
 * </ol>
 */
public interface MetadataLog extends AutoCloseable {
    /** Starts taking part in the log (its server, or polling for members without a metadata address). */
    void start() throws IOException;

    /** The newest state this node applied. */
    ClusterState current();

    /**
     * Hands {@code subscriber} the newest delivered state, then every later state with a new epoch
     * in increasing order, on one dedicated thread shared by all subscribers. A subscriber that
     * throws is logged and stays subscribed; a slow one holds up the others.
     */
    void subscribe(Consumer<ClusterState> subscriber);

    /**
     * Where to read the newest membership epoch this node's peers have shown it (their
     * heartbeats): a log that finds its own state older than that for a moment asks the group for
     * the newer one at once, rather than waiting to learn it from its own server. Requests from that
     * epoch wait on this node meanwhile (see {@code ClusterNode}'s catch-up hold).
     */
    default void followPeers(java.util.function.LongSupplier newestPeerEpoch) {}

    /**
     * Whether this node should run a log server (it has a metadata address) and it does not run:
     * the group has one member fewer than it lists, and this node follows by polling meanwhile.
     */
    default boolean serverDown() {
        return false;
    }

    /**
     * Test clusters only ({@code /admin/faults?metadata=cut}): holds this node's view of the log
     * where it is, as if the node were cut off from the group: {@link #current} stands still,
     * nothing newer is delivered, and {@link #submit} fails as unavailable. {@code false} heals:
     * the newest state is delivered at once.
     */
    default void cut(boolean cut) {
        throw new UnsupportedOperationException("this metadata log cannot be cut");
    }

    /**
     * Appends {@code command} to the log through its leader, wherever that is. Completes with the
     * result of applying it ({@link ClusterMetadata.Result#refused()} if it was refused), or fails
     * with {@link MetadataUnavailableException} within the request timeout.
     */
    CompletableFuture<ClusterMetadata.Result> submit(MetadataCommand command);

    /**
     * Completes with this node's state once it reached at least {@code epoch} (and the subscribers
     * were handed it); fails with a {@link java.util.concurrent.TimeoutException} after
     * {@code timeout}.
     */
    CompletableFuture<ClusterState> awaitEpoch(long epoch, Duration timeout);

    /**
     * The metadata group as this node's log server sees it: {@code voters} and {@code listeners}
     * (node ids), and {@code leader} (a node id, or 0 when none is known); empty for a node that
     * runs no log server.
     */
    java.util.Map<String, Object> group();

    @Override
    void close();
}
