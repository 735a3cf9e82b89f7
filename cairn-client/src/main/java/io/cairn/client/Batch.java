package io.cairn.client;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Several operations sent as one request ({@code BATCH /kv}): they run in order, each sees the
 * ones before it on the same key, and each gets its own result. <b>A batch is not a
 * transaction</b>: one operation's failed condition fails only that operation, and on a cluster
 * operations on different keys are replicated on their own. Use conditions per operation.
 *
 * <pre>{@code
 * Batch batch = Batch.builder()
 *         .put("a", bytes)
 *         .put("b", other, WriteOptions.defaults().ifAbsent())
 *         .get("a")
 *         .delete("c")
 *         .build();
 * }</pre>
 */
public final class Batch {
    /** One operation: {@code put} (with its value), {@code get} or {@code delete}. */
    record Op(String kind, String key, byte[] value, WriteOptions options) {
        boolean isWrite() {
            return !kind.equals("get");
        }
    }

    private final List<Op> ops;
    private final Quorum r;
    private final Quorum w;
    private final String idempotencyKey;

    private Batch(Builder b) {
        this.ops = List.copyOf(b.ops);
        this.r = b.r;
        this.w = b.w;
        this.idempotencyKey = b.idempotencyKey;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** How many operations the batch holds. */
    public int size() {
        return ops.size();
    }

    List<Op> ops() {
        return ops;
    }

    Quorum readQuorum() {
        return r;
    }

    Quorum writeQuorum() {
        return w;
    }

    String idempotencyKeyOrNull() {
        return idempotencyKey;
    }

    boolean writes() {
        return ops.stream().anyMatch(Op::isWrite);
    }

    /** Collects a batch's operations in order. */
    public static final class Builder {
        private final List<Op> ops = new ArrayList<>();
        private Quorum r;
        private Quorum w;
        private String idempotencyKey;

        private Builder() {}

        public Builder put(String key, byte[] value) {
            return put(key, value, WriteOptions.defaults());
        }

        /**
         * A put with its condition, TTL and content type; the write quorum and the idempotency
         * key belong to the whole batch ({@link #w(Quorum)}, {@link #idempotencyKey(String)}).
         */
        public Builder put(String key, byte[] value, WriteOptions options) {
            Objects.requireNonNull(value, "value");
            perOperation(options);
            return add(new Op("put", key, value.clone(), options));
        }

        public Builder get(String key) {
            return add(new Op("get", key, null, WriteOptions.defaults()));
        }

        public Builder delete(String key) {
            return delete(key, WriteOptions.defaults());
        }

        /** A delete, optionally with {@link WriteOptions#ifMatch(String)} or {@link WriteOptions#ifExists()}. */
        public Builder delete(String key, WriteOptions options) {
            perOperation(options);
            if (options.condition() == WriteOptions.Condition.IF_ABSENT) {
                throw new IllegalArgumentException("a delete takes no ifAbsent condition");
            }
            if (options.ttlText() != null || options.contentTypeOrNull() != null) {
                throw new IllegalArgumentException("a delete takes no TTL or content type");
            }
            return add(new Op("delete", key, null, options));
        }

        /** The read quorum of the batch's gets. */
        public Builder r(Quorum r) {
            this.r = Objects.requireNonNull(r, "r");
            return this;
        }

        /** The write quorum of the batch's puts and deletes. */
        public Builder w(Quorum w) {
            this.w = Objects.requireNonNull(w, "w");
            return this;
        }

        /** The batch's own idempotency key instead of a random one (see {@link WriteOptions#idempotencyKey(String)}). */
        public Builder idempotencyKey(String key) {
            this.idempotencyKey = WriteOptions.defaults().idempotencyKey(key).idempotencyKeyOrNull();
            return this;
        }

        public Batch build() {
            if (ops.isEmpty()) {
                throw new IllegalArgumentException("a batch has at least one operation");
            }
            return new Batch(this);
        }

        private Builder add(Op op) {
            Keys.utf8(op.key());
            ops.add(op);
            return this;
        }

        private static void perOperation(WriteOptions options) {
            Objects.requireNonNull(options, "options");
            if (options.writeQuorum() != null || options.idempotencyKeyOrNull() != null) {
                throw new IllegalArgumentException("w and the idempotency key belong to the whole batch: set them on Batch.Builder");
            }
        }
    }
}
