package io.cairn.request;

import java.util.Objects;

/**
 * One key operation in the internal request model that every front end translates to.
 *
 * <p>{@code ttlMillis} on a put: {@link #DEFAULT_TTL} takes the namespace default, {@link #NO_TTL}
 * stores without expiry, a positive value expires that long after the write's version time.
 */
public sealed interface Op permits Op.Put, Op.Delete, Op.Get {
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

    default boolean isWrite() {
        return !(this instanceof Get);
    }
}
