package io.cairn.request;

import java.util.Objects;

/**
 * One key operation in the internal request model that every front end translates to.
 *
 * <p>{@code ttlMillis} on a put: {@link #DEFAULT_TTL} takes the namespace default, {@link #NO_TTL}
 * stores without expiry, a positive value expires that long after the write's version time.
 */
public sealed interface Op permits Op.Put, Op.Delete, Op.Get, Op.Apply {
    long DEFAULT_TTL = -1;
    long NO_TTL = 0;

    byte[] key();

    record Put(byte[] key, byte[] value, String contentType, long ttlMillis, Condition condition) implements Op {
        public Put {
            Objects.requireNonNull(key);
            Objects.requireNonNull(value);
            Objects.requireNonNull(condition);
            if (ttlMillis < DEFAULT_TTL) {
                throw new IllegalArgumentException("bad ttl " + ttlMillis);
            }
        }
    }

    record Delete(byte[] key, Condition condition) implements Op {
        public Delete {
            Objects.requireNonNull(key);
            Objects.requireNonNull(condition);
        }
    }

    record Get(byte[] key) implements Op {
        public Get {
            Objects.requireNonNull(key);
        }
    }

    /**
     * A replica write: store this already-versioned record if it is newer than the stored one
     * (last-writer-wins). Used by replication, hinted handoff and read repair.
     */
    record Apply(byte[] key, io.cairn.record.Record record) implements Op {
        public Apply {
            Objects.requireNonNull(key);
            Objects.requireNonNull(record);
        }
    }

    default boolean isWrite() {
        return !(this instanceof Get);
    }
}
