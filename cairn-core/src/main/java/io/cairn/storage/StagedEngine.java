package io.cairn.storage;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A view of an engine that holds back unsynced writes so that many small jobs' writes reach the
 * engine as one batch ({@link #drain}), usually together with a group of replica writes: one
 * engine write (one WAL append) instead of one per job. Reads see what was staged (read your
 * writes) and otherwise the engine. Single-threaded: one owner stages, then drains.
 *
 * <p>Only {@link Durability#ASYNC} puts and deletes are held back. Anything that needs the staged
 * writes in the engine first — a range delete, a scan, a synced write, a WAL sync — writes the
 * staged batch through (unsynced) and then goes to the engine, so the view never disagrees with
 * the order in which its writes were made.
 *
 * <p>Unlike an engine, the view keeps the arrays it is given and hands them back from
 * {@link #get} until they are drained: its users (storage jobs that encode a fresh value per
 * write) must not change an array after writing it or after reading it.
 */
public final class StagedEngine implements StorageEngine {
    private static final byte[] DELETED = new byte[0];

    private final StorageEngine engine;
    private WriteBatch staged = new WriteBatch();
    private final Map<ByteBuffer, byte[]> overlay = new HashMap<>();
    private StorageException failure;

    public StagedEngine(StorageEngine engine) {
        this.engine = engine;
    }

    @Override
    public byte[] get(byte[] key) {
        byte[] mine = overlay.get(ByteBuffer.wrap(key));
        if (mine != null) {
            return mine == DELETED ? null : mine;
        }
        return engine.get(key);
    }

    @Override
    public void write(WriteBatch batch, Durability durability) {
        boolean holdable = durability == Durability.ASYNC
                && batch.mutations().stream().noneMatch(m -> m instanceof WriteBatch.DeleteRange);
        if (!holdable) {
            flush();
            kept(() -> engine.write(batch, durability));
            return;
        }
        for (WriteBatch.Mutation m : batch.mutations()) {
            switch (m) {
                case WriteBatch.Put p -> {
                    staged.put(p.key(), p.value());
                    overlay.put(ByteBuffer.wrap(p.key()), p.value());
                }
                case WriteBatch.Delete d -> {
                    staged.delete(d.key());
                    overlay.put(ByteBuffer.wrap(d.key()), DELETED);
                }
                case WriteBatch.DeleteRange r -> throw new IllegalStateException("range deletes are written through");
            }
        }
    }

    @Override
    public void syncWal() {
        flush();
        kept(engine::syncWal);
    }

    @Override
    public List<Entry> scan(byte[] fromInclusive, byte[] toExclusive, int limit, long maxBytes) {
        flush();
        return engine.scan(fromInclusive, toExclusive, limit, maxBytes);
    }

    /** Hands over the writes staged so far (possibly none), which the caller must write; the view then reads the engine alone. */
    public WriteBatch drain() {
        WriteBatch out = staged;
        staged = new WriteBatch();
        overlay.clear();
        return out;
    }

    /**
     * Writes the staged batch to the engine, synced when {@code sync} (then the WAL is synced even
     * when nothing was staged: what the jobs read may have been written unsynced before them).
     */
    public void commit(boolean sync) {
        if (!staged.isEmpty()) {
            engine.write(drain(), sync ? Durability.SYNC : Durability.ASYNC);
        } else if (sync) {
            engine.syncWal();
        }
    }

    /**
     * The failure of a write-through (a range delete, a scan, a synced write or a WAL sync that
     * wrote the staged batch first) since the last call, or null; cleared by the call. The job
     * that met it may have swallowed it, but earlier jobs' writes went down with it: whoever told
     * them their writes would be stored must learn it.
     */
    public StorageException takeFailure() {
        StorageException f = failure;
        failure = null;
        return f;
    }

    /** Writes the staged batch through, unsynced. */
    private void flush() {
        if (!staged.isEmpty()) {
            WriteBatch batch = drain();
            kept(() -> engine.write(batch, Durability.ASYNC));
        }
    }

    /** Runs a write-through, keeping its failure for {@link #takeFailure} before passing it on. */
    private void kept(Runnable writeThrough) {
        try {
            writeThrough.run();
        } catch (StorageException e) {
            failure = e;
            throw e;
        }
    }

    /** Not the view's to close: the engine belongs to its owner. */
    @Override
    public void close() {}
}
