package io.cairn.server.service;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.metadata.MetadataCodec;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceCatalog;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.Partitioner;
import io.cairn.request.Answer;
import io.cairn.request.Condition;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.request.WriteOutcome;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A single node's namespaces, kept in its own storage: one record (key {@code namespaces} of the
 * node's system namespace) holding every definition, written through the write path like any
 * other record, so a change is as durable as the node's writes. Changes are applied one at a time,
 * in the order they arrive.
 */
public final class LocalNamespaces implements Namespaces {
    /** Where the node keeps its own records; never addressed by clients. */
    static final Namespace SYSTEM = new Namespace(4, "system", new Partitioner(1), 0);
    private static final byte[] KEY = "namespaces".getBytes(StandardCharsets.US_ASCII);

    private final Namespace defaults;
    private final NamespacedService service;
    private final int max;
    private volatile List<NamespaceSpec> specs;
    // Changes run one after another: each starts from the list the one before it left.
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

    private LocalNamespaces(Namespace defaults, NamespacedService service, int max, List<NamespaceSpec> specs) {
        this.defaults = defaults;
        this.service = service;
        this.max = max;
        this.specs = specs;
    }

    /** Reads the node's namespaces from its storage. */
    public static LocalNamespaces open(Namespace defaults, NamespacedService service, int max) {
        Answer stored = service.read(SYSTEM, KEY, null, KvService.NO_DEADLINE).join();
        List<NamespaceSpec> specs = switch (stored.result()) {
            case OpResult.Found f -> MetadataCodec.decodeNamespaces(f.record().value());
            case OpResult.NotFound n -> List.of();
            case OpResult.Failed f -> throw new CairnException(f.code(), "cannot read this node's namespaces: " + f.message());
            default -> throw new IllegalStateException("a read answered " + stored.result());
        };
        return new LocalNamespaces(defaults, service, max, List.copyOf(specs));
    }

    @Override
    public Namespace resolve(String name) {
        return Namespaces.find(name, defaults, specs, defaults.partitioner().partitions(), "");
    }

    @Override
    public List<NamespaceSpec> list() {
        return specs;
    }

    @Override
    public synchronized CompletableFuture<NamespaceSpec> put(NamespaceSpec spec) {
        CompletableFuture<NamespaceSpec> done = tail.handle((x, e) -> null).thenCompose(x -> apply(spec));
        tail = done;
        return done;
    }

    private CompletableFuture<NamespaceSpec> apply(NamespaceSpec spec) {
        NamespaceCatalog.Change change = NamespaceCatalog.put(specs, spec, 1, max);
        if (change.refusal() != null) {
            return CompletableFuture.failedFuture(new CairnException(change.refusal().kind() == NamespaceCatalog.RefusalKind.INVALID
                    ? ErrorCode.INVALID_NAMESPACE : ErrorCode.NAMESPACE_CONFLICT, change.refusal().message()));
        }
        if (!change.changed()) {
            return CompletableFuture.completedFuture(change.applied());
        }
        Op.Put write = new Op.Put(KEY, MetadataCodec.encodeNamespaces(change.next()), "application/octet-stream", Op.NO_TTL, Condition.NONE);
        return service.write(SYSTEM, List.of(write), null, null, null, KvService.NO_DEADLINE).thenApply(outcome -> {
            if (outcome instanceof WriteOutcome.Failed f) {
                throw new CairnException(f.code(), "the namespace could not be stored: " + f.message());
            }
            specs = change.next();
            return change.applied();
        });
    }

    @Override
    public int replicationFactor() {
        return 1;
    }

    @Override
    public Namespace defaultNamespace() {
        return defaults;
    }
}
