package io.cairn.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The staging view: its writes wait for {@link StagedEngine#drain}, and it reads them meanwhile. */
class StagedEngineTest {
    private final MemoryEngine engine = new MemoryEngine();
    private final StagedEngine staged = new StagedEngine(engine);

    @Test
    void unsyncedPutsAndDeletesWaitInTheViewAndAreReadFromIt() {
        engine.write(new WriteBatch().put(b("gone"), b("old")).put(b("kept"), b("old")), Durability.SYNC);

        staged.write(new WriteBatch().put(b("new"), b("1")).delete(b("gone")), Durability.ASYNC);
        staged.write(new WriteBatch().put(b("new"), b("2")), Durability.ASYNC);

        assertThat(staged.get(b("new"))).isEqualTo(b("2"));
        assertThat(staged.get(b("gone"))).isNull();
        assertThat(staged.get(b("kept"))).isEqualTo(b("old"));
        assertThat(engine.get(b("new"))).as("not in the engine yet").isNull();
        assertThat(engine.get(b("gone"))).isEqualTo(b("old"));

        WriteBatch drained = staged.drain();
        assertThat(drained.size()).isEqualTo(3);
        engine.write(drained, Durability.SYNC);
        assertThat(engine.get(b("new"))).isEqualTo(b("2"));
        assertThat(engine.get(b("gone"))).isNull();
        assertThat(staged.drain().isEmpty()).as("a drain hands the writes over once").isTrue();
    }

    @Test
    void aRangeDeleteAScanOrASyncedWriteWritesTheStagedBatchThroughFirst() {
        staged.write(new WriteBatch().put(b("r1"), b("x")), Durability.ASYNC);
        staged.write(new WriteBatch().deleteRange(b("r"), b("s")), Durability.ASYNC);
        assertThat(staged.get(b("r1"))).as("deleted after it was put, as written").isNull();

        staged.write(new WriteBatch().put(b("a"), b("1")), Durability.ASYNC);
        assertThat(keys(staged.scan(new byte[0], null, 10))).containsExactly("a");
        assertThat(engine.get(b("a"))).isEqualTo(b("1"));

        staged.write(new WriteBatch().put(b("b"), b("1")), Durability.ASYNC);
        staged.write(new WriteBatch().put(b("b"), b("2")), Durability.SYNC);
        engine.crash();
        assertThat(engine.get(b("b"))).as("the synced write came after the staged one").isEqualTo(b("2"));
        assertThat(staged.drain().isEmpty()).isTrue();
    }

    @Test
    void commitWritesTheStagedBatchAndASyncedCommitSyncsEvenWithNothingStaged() {
        engine.write(new WriteBatch().put(b("unsynced"), b("v")), Durability.ASYNC);
        staged.commit(true);
        engine.crash();
        assertThat(engine.get(b("unsynced"))).isEqualTo(b("v"));

        staged.write(new WriteBatch().put(b("async"), b("v")), Durability.ASYNC);
        staged.commit(false);
        assertThat(engine.get(b("async"))).isEqualTo(b("v"));
        engine.crash();
        assertThat(engine.get(b("async"))).isNull();

        staged.write(new WriteBatch().put(b("sync"), b("v")), Durability.ASYNC);
        staged.commit(true);
        engine.crash();
        assertThat(engine.get(b("sync"))).isEqualTo(b("v"));
    }

    @Test
    void aFailedWriteThroughIsKeptForTheOwnerEvenWhenTheJobSwallowsIt() {
        StagedEngine failing = new StagedEngine(new StorageEngine() {
            @Override
            public byte[] get(byte[] key) {
                return null;
            }

            @Override
            public void write(WriteBatch batch, Durability durability) {
                throw new StorageException("disk gone");
            }

            @Override
            public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
                return List.of();
            }

            @Override
            public void close() {}
        });
        failing.write(new WriteBatch().put(b("earlier job"), b("v")), Durability.ASYNC);
        try {
            failing.scan(new byte[0], null, 10);
        } catch (StorageException swallowed) {
            // As a job that reports its own failure would.
        }
        assertThat(failing.takeFailure()).hasMessage("disk gone");
        assertThat(failing.takeFailure()).isNull();
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static List<String> keys(List<StorageEngine.Entry> entries) {
        return entries.stream().map(e -> new String(e.key(), StandardCharsets.UTF_8)).toList();
    }
}
