package io.cairn.storage;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** An ordered list of puts, deletes and range deletes that a {@link StorageEngine} applies atomically. */
public final class WriteBatch {
    private final List<Mutation> mutations = new ArrayList<>();
    private long bytes;

    public WriteBatch put(byte[] key, byte[] value) {
        mutations.add(new Put(key, value));
        bytes += key.length + value.length;
        return this;
    }

    public WriteBatch delete(byte[] key) {
        mutations.add(new Delete(key));
        bytes += key.length;
        return this;
    }

    /** Deletes every key with {@code fromInclusive <= key < toExclusive}. */
    public WriteBatch deleteRange(byte[] fromInclusive, byte[] toExclusive) {
        mutations.add(new DeleteRange(fromInclusive, toExclusive));
        bytes += fromInclusive.length + toExclusive.length;
        return this;
    }

    /** The first problem that makes this batch invalid for any engine, or null. */
    public String invalidity() {
        for (Mutation m : mutations) {
            if (m instanceof DeleteRange r && java.util.Arrays.compareUnsigned(r.fromInclusive(), r.toExclusive()) > 0) {
                return "delete range ends before it starts";
            }
        }
        return null;
    }

    public List<Mutation> mutations() {
        return Collections.unmodifiableList(mutations);
    }

    public boolean isEmpty() {
        return mutations.isEmpty();
    }

    public int size() {
        return mutations.size();
    }

    /** Approximate payload size, for metrics and limits. */
    public long bytes() {
        return bytes;
    }

    /** One operation in a batch. */
    public sealed interface Mutation permits Put, Delete, DeleteRange {}

    public record Put(byte[] key, byte[] value) implements Mutation {}

    public record Delete(byte[] key) implements Mutation {}

    public record DeleteRange(byte[] fromInclusive, byte[] toExclusive) implements Mutation {}
}
