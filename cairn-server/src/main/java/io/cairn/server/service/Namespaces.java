package io.cairn.server.service;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The namespaces clients address: the default one at {@code /kv/...} and the user namespaces an
 * operator defines, at {@code /ns/{name}/kv/...}. A cluster keeps the definitions in its metadata
 * log, a single node in its own storage; the rules for changing them are the core's
 * ({@link io.cairn.namespace.NamespaceCatalog}).
 */
public interface Namespaces {
    /** The namespace named {@code name}, or a {@code namespace_not_found} failure. */
    Namespace resolve(String name);

    /** The user namespaces, in the order they were created. */
    List<NamespaceSpec> list();

    /**
     * Creates the namespace or changes its policy. Completes, with the definition as kept (its id
     * assigned), once this node serves it; fails with a {@link io.cairn.error.CairnException}
     * naming why it was refused.
     */
    CompletableFuture<NamespaceSpec> put(NamespaceSpec spec);

    /** The replication factor definitions are checked against (1 on a single node). */
    int replicationFactor();

    /** The default namespace's own definition, as {@code GET /admin/namespaces} shows it. */
    Namespace defaultNamespace();

    /**
     * The default namespace with the policy the cluster set for it ({@code PUT
     * /admin/namespaces/default}, kept in the metadata log), or null while none is set and every
     * node's own settings make its policy (always, on a single node).
     */
    default Namespace definedDefault() {
        return null;
    }

    /** Whether {@code PUT /admin/namespaces/default} is a change this node can ask for (a cluster's), rather than its settings' to make. */
    default boolean setsDefaultPolicy() {
        return false;
    }

    /**
     * The namespace clients call {@code name} among the default one and {@code specs}, placed on
     * {@code partitions} partitions; a {@code namespace_not_found} failure saying how to list and
     * create them otherwise ({@code where}: what the failure adds about this node, or "").
     */
    static Namespace find(String name, Namespace defaults, List<NamespaceSpec> specs, int partitions, String where) {
        if (name.equals(defaults.name())) {
            return defaults;
        }
        for (NamespaceSpec spec : specs) {
            if (spec.name().equals(name)) {
                return spec.toNamespace(partitions);
            }
        }
        String create = io.cairn.namespace.NamespaceSpec.RESERVED.contains(name) ? " ('" + name + "' is reserved and cannot be created)"
                : !Namespace.validName(name) ? " ('" + name + "' is not a namespace name: 1-63 of a-z, 0-9, _ and -, starting with a letter)"
                : ", PUT /admin/namespaces/" + name + " creates it";
        throw new CairnException(ErrorCode.NAMESPACE_NOT_FOUND, "no namespace named '" + name + "'" + where
                + "; GET /admin/namespaces lists them" + create);
    }
}
