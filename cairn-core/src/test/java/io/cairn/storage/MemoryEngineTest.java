package io.cairn.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The in-memory engine: the storage contract plus its crash model. */
class MemoryEngineTest extends StorageEngineConformance {

    @Override
    protected StorageEngine open() {
        return new MemoryEngine();
    }

    private MemoryEngine memory() {
        return (MemoryEngine) engine;
    }

    @Test
    void syncWritesSurviveACrash() {
        engine.write(new WriteBatch().put(b("k"), b("v")), Durability.SYNC);
        memory().crash();
        assertThat(engine.get(b("k"))).isEqualTo(b("v"));
    }

    @Test
    void asyncWritesAreLostInACrashUnlessSynced() {
        engine.write(new WriteBatch().put(b("lost"), b("v")), Durability.ASYNC);
        memory().crash();
        assertThat(engine.get(b("lost"))).isNull();

        engine.write(new WriteBatch().put(b("kept"), b("v")), Durability.ASYNC);
        memory().syncWal();
        memory().crash();
        assertThat(engine.get(b("kept"))).isEqualTo(b("v"));
    }

    @Test
    void aSyncWriteMakesEarlierAsyncWritesDurableInOrder() {
        engine.write(new WriteBatch().put(b("a"), b("1")).put(b("x"), b("old")), Durability.ASYNC);
        engine.write(new WriteBatch().delete(b("x")).put(b("b"), b("2")), Durability.ASYNC);
        engine.write(new WriteBatch().put(b("c"), b("3")), Durability.SYNC);
        engine.write(new WriteBatch().put(b("d"), b("4")), Durability.ASYNC);
        memory().crash();

        assertThat(keys(engine.scan(new byte[0], null, 10))).containsExactly("a", "b", "c");
    }

    @Test
    void aCrashRestoresDeletedDurableKeysWhoseDeleteWasNotSynced() {
        put("k", "v");
        engine.write(new WriteBatch().delete(b("k")), Durability.ASYNC);
        assertThat(engine.get(b("k"))).isNull();

        memory().crash();
        assertThat(engine.get(b("k"))).isEqualTo(b("v"));
    }

    @Test
    void sizeCountsVisibleKeys() {
        put("a", "1");
        put("b", "2");
        engine.write(new WriteBatch().delete(b("a")), Durability.ASYNC);
        assertThat(memory().size()).isEqualTo(1);
    }

    @Test
    void aClosedEngineRefusesEveryOperation() {
        engine.close();
        assertThatThrownBy(() -> engine.get(b("k"))).isInstanceOf(StorageException.class);
        assertThatThrownBy(() -> put("k", "v")).isInstanceOf(StorageException.class);
        assertThatThrownBy(() -> engine.scan(new byte[0], null, 1)).isInstanceOf(StorageException.class);
    }
}
