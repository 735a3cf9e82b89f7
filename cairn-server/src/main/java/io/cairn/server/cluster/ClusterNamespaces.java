package io.cairn.server.cluster;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.membership.Membership;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.MetadataCommand;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.server.service.Namespaces;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A cluster's namespaces: defined in the metadata log (one entry per change, each a new epoch),
 * served by every node from the epoch it applies. A cluster started from a fixed member list has
 * no log to agree on a change, so it serves the default namespace only and refuses changes.
 */
public final class ClusterNamespaces implements Namespaces {
    private final ClusterDriver driver;
    // Null on a cluster with a fixed member list.
    private final ElasticMembership elastic;
    private final int max;
    private final Duration timeout;
    private volatile Defined defined;

    public ClusterNamespaces(ClusterDriver driver, ElasticMembership elastic, int max, Duration timeout) {
        this.driver = driver;
        this.elastic = elastic;
        this.max = max;
        this.timeout = timeout;
    }

    @Override
    public Namespace resolve(String name) {
        Membership m = driver.membership();
        return Namespaces.find(name, defaultNamespace(), m.namespaces(), m.map().partitions(), " at membership epoch " + m.epoch());
    }

    @Override
    public List<NamespaceSpec> list() {
        return driver.membership().namespaces();
    }

    @Override
    public CompletableFuture<NamespaceSpec> put(NamespaceSpec spec) {
        if (elastic == null) {
            return CompletableFuture.failedFuture(new CairnException(ErrorCode.NAMESPACE_CONFLICT,
                    "this cluster was started from a fixed member list and has no metadata log to agree on namespaces;"
                            + " give every member a metadata address (see docs/operations.md) to define namespaces"));
        }
        return elastic.change(new MetadataCommand.PutNamespace(spec, max)).thenCompose(result -> {
            if (result.refused()) {
                ClusterMetadata.Refusal r = result.refusal();
                ErrorCode code = switch (r.kind()) {
                    case INVALID_NAMESPACE -> ErrorCode.INVALID_NAMESPACE;
                    default -> ErrorCode.NAMESPACE_CONFLICT;
                };
                throw new CairnException(code, r.message());
            }
            NamespaceSpec kept = spec.name().equals(Namespace.DEFAULT_NAME) ? result.state().defaultPolicy()
                    : result.state().namespace(spec.name()).orElseThrow();
            // Answered once this node serves the namespace: a client may use it here at once.
            return elastic.awaitApplied(result.state().epoch(), timeout).thenApply(s -> kept);
        });
    }

    @Override
    public int replicationFactor() {
        // The cluster's, as its membership (the metadata log's, on an elastic cluster) has it: a
        // node's own setting only seeded the first epoch.
        return driver.membership().map().replicationFactor();
    }

    @Override
    public Namespace defaultNamespace() {
        Namespace defined = definedDefault();
        return defined != null ? defined : driver.defaultNamespace();
    }

    @Override
    public Namespace definedDefault() {
        NamespaceSpec policy = driver.membership().defaultPolicy();
        if (policy == null) {
            return null;
        }
        Defined d = defined;
        if (d == null || !d.policy().equals(policy)) {
            d = new Defined(policy, policy.toNamespace(driver.defaultNamespace().partitioner().partitions()));
            defined = d;
        }
        return d.namespace();
    }

    @Override
    public boolean setsDefaultPolicy() {
        return true;
    }

    /** The last default policy seen and the namespace it makes (requests to the default namespace ask for it each time). */
    private record Defined(NamespaceSpec policy, Namespace namespace) {}
}
