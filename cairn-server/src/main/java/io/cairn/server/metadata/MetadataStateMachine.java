package io.cairn.server.metadata;

import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import io.cairn.metadata.MetadataCodec;
import io.cairn.metadata.MetadataCommand;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.apache.ratis.io.MD5Hash;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The metadata log's Ratis state machine: applies each committed entry with
 * {@link ClusterMetadata#apply} and keeps the resulting {@link ClusterState}.
 *
 * <p><b>Threads.</b> Ratis calls {@link #applyTransaction}, {@link #takeSnapshot} and
 * {@link #reinitialize} from one thread (its state machine updater), in log order. The state and
 * the log position it reflects change together under this object's lock, so a snapshot never
 * pairs a state with the wrong index; {@link #current} and queries read the volatile state without
 * it. Every state with a new epoch goes to {@code onNewEpoch} from the updater thread, in order;
 * that callback must only hand it on (the {@link StatePublisher} queues it), never run user code.
 *
 * <p><b>Hostile entries.</b> Any client can append bytes to the log, so an entry that does not
 * decode is answered as refused ({@code INVALID}) and changes nothing, on every member alike
 * (decoding is deterministic). A snapshot file that does not decode stops the server: it came
 * from our own disk or the leader, and guessing past it would fork the state.
 *
 * <p><b>Snapshots.</b> One file per snapshot, named by Ratis's convention
 * {@code snapshot.<term>_<index>} with an MD5 beside it, holding {@code i64 term | i64 index |}
 * {@link MetadataCodec#encode(ClusterState)}; written to a temporary file and renamed, so a crash
 * leaves either the old snapshot or the new one. Ratis replays the log after the newest snapshot
 * on start, and sends it to a member that is too far behind (then calls {@link #reinitialize}).
 */
final class MetadataStateMachine extends BaseStateMachine {
    private static final Logger log = LoggerFactory.getLogger(MetadataStateMachine.class);
    private static final int SNAPSHOT_HEADER_BYTES = 16;

    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private final Consumer<ClusterState> onNewEpoch;
    /** The state after every entry applied so far; starts as the bootstrap state, the state of an empty log. */
    private volatile ClusterState state;

    MetadataStateMachine(ClusterState bootstrap, Consumer<ClusterState> onNewEpoch) {
        this.state = Objects.requireNonNull(bootstrap, "bootstrap");
        this.onNewEpoch = Objects.requireNonNull(onNewEpoch, "onNewEpoch");
    }

    ClusterState current() {
        return state;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        getLifeCycle().startAndTransition(() -> {
            super.initialize(server, groupId, raftStorage);
            storage.init(raftStorage);
            load(storage.getLatestSnapshot());
        });
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public synchronized void pause() {
        getLifeCycle().transition(LifeCycle.State.PAUSING);
        getLifeCycle().transition(LifeCycle.State.PAUSED);
    }

    /** After the leader installed a snapshot here: the state becomes the snapshot's. */
    @Override
    public synchronized void reinitialize() throws IOException {
        load(storage.loadLatestSnapshot());
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        RaftProtos.LogEntryProto entry = trx.getLogEntry();
        byte[] bytes = entry.getStateMachineLogEntry().getLogData().toByteArray();
        ClusterMetadata.Result result;
        synchronized (this) {
            ClusterState before = state;
            result = apply(before, bytes, entry.getIndex());
            state = result.state();
            updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
            if (result.state().epoch() != before.epoch()) {
                onNewEpoch.accept(result.state());
            }
        }
        // Only the leader's answer reaches the client; the others skip encoding the state.
        boolean leader = trx.getServerRole() == RaftProtos.RaftPeerRole.LEADER;
        return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(LogMessages.outcome(result, leader))));
    }

    private static ClusterMetadata.Result apply(ClusterState before, byte[] bytes, long index) {
        MetadataCommand command;
        try {
            command = MetadataCodec.decodeCommand(bytes);
        } catch (MetadataCodec.MetadataCodecException e) {
            log.warn("metadata log entry {} ({} bytes) is not a command; refused: {}", index, bytes.length, e.getMessage());
            return new ClusterMetadata.Result(before, new ClusterMetadata.Refusal(ClusterMetadata.Refusal.Kind.INVALID,
                    "log entry " + index + " is not a metadata command: " + e.getMessage()));
        }
        return ClusterMetadata.apply(before, command);
    }

    /** Answers a member without a log server that asks for a state newer than the one it has. */
    @Override
    public CompletableFuture<Message> query(Message request) {
        byte[] bytes = request.getContent().toByteArray();
        long known = LogMessages.decodeStateQuery(bytes);
        if (known < 0) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("not a metadata state query (" + bytes.length + " bytes)"));
        }
        return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(LogMessages.stateAnswer(state, known))));
    }

    @Override
    public long takeSnapshot() throws IOException {
        ClusterState snapshotState;
        TermIndex at;
        synchronized (this) {
            snapshotState = state;
            at = getLastAppliedTermIndex();
        }
        if (at == null || at.getIndex() < 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        byte[] encoded = MetadataCodec.encode(snapshotState);
        ByteBuffer content = ByteBuffer.allocate(SNAPSHOT_HEADER_BYTES + encoded.length);
        content.putLong(at.getTerm()).putLong(at.getIndex()).put(encoded).flip();
        Path file = storage.getSnapshotFile(at.getTerm(), at.getIndex()).toPath();
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            while (content.hasRemaining()) {
                out.write(content);
            }
            out.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file.toFile());
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file, md5), at));
        log.debug("metadata snapshot at {} (epoch {}, {} bytes)", at, snapshotState.epoch(), encoded.length + SNAPSHOT_HEADER_BYTES);
        return at.getIndex();
    }

    private synchronized void load(SingleFileSnapshotInfo snapshot) throws IOException {
        if (snapshot == null) {
            return;
        }
        Path file = snapshot.getFile().getPath();
        if (snapshot.getFile().getFileDigest() != null) {
            MD5FileUtil.verifySavedMD5(file.toFile(), snapshot.getFile().getFileDigest());
        }
        byte[] bytes = Files.readAllBytes(file);
        TermIndex named = SimpleStateMachineStorage.getTermIndexFromSnapshotFile(file.toFile());
        ByteBuffer in = ByteBuffer.wrap(bytes);
        if (bytes.length < SNAPSHOT_HEADER_BYTES || in.getLong() != named.getTerm() || in.getLong() != named.getIndex()) {
            throw new IOException("metadata snapshot " + file + " does not hold the term and index its name says (" + named + ")");
        }
        ClusterState loaded;
        try {
            loaded = MetadataCodec.decodeState(Arrays.copyOfRange(bytes, SNAPSHOT_HEADER_BYTES, bytes.length));
        } catch (MetadataCodec.MetadataCodecException e) {
            throw new IOException("metadata snapshot " + file + " does not decode: " + e.getMessage(), e);
        }
        ClusterState before = state;
        state = loaded;
        setLastAppliedTermIndex(named);
        log.info("metadata state loaded from snapshot {} (epoch {})", named, loaded.epoch());
        if (loaded.epoch() != before.epoch()) {
            onNewEpoch.accept(loaded);
        }
    }

    @Override
    public void close() {
        getLifeCycle().checkStateAndClose(() -> {});
    }
}
