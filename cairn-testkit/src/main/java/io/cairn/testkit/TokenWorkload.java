package io.cairn.testkit;

import io.cairn.auth.Access;
import io.cairn.auth.Credential;
import io.cairn.auth.Need;
import io.cairn.auth.Right;
import io.cairn.auth.Role;
import io.cairn.auth.Token;
import io.cairn.auth.TokenCodec;
import io.cairn.auth.TokenKeys;
import io.cairn.auth.TokenState;
import io.cairn.auth.Verdict;
import io.cairn.namespace.Namespace;
import io.cairn.request.Op;
import io.cairn.request.OpResult;
import io.cairn.placement.Quorum;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Tokens under the simulator's faults, as the server keeps them: a token admin creates tokens and
 * revokes them through random coordinators (majority writes to the {@code auth} namespace, one
 * partition, strict quorum), and checkers look tokens up the way a node does (three majority
 * reads, {@link TokenState#decode}, {@link Access#decide}) and hold the store to its promise:
 *
 * <ul>
 *   <li>a lookup whose reads started after a revocation was acknowledged refuses the token;
 *   <li>a lookup whose reads started after the creation was acknowledged, with no revocation asked
 *       yet, finds it and lets it in.
 * </ul>
 *
 * A lookup with a read that failed (no quorum, timeout) proves nothing and is only counted: the
 * server refuses such a request (503) rather than guess. Draws come from a random stream of their
 * own, so the rest of the run draws as it would without tokens.
 */
final class TokenWorkload {
    private static final int MAX_TOKENS = 4;
    private static final String TYPE = "application/vnd.cairn.token";
    private static final Need NEED = Need.data("default", Right.READ);

    /** What the admin has done to one token, in virtual time; -1 for not (yet). */
    private static final class Issued {
        final Credential credential;
        long createAckedAt = -1;
        long revokeAskedAt = -1;
        long revokeAckedAt = -1;

        Issued(Credential credential) {
            this.credential = credential;
        }
    }

    /** Runs {@code request} on a live coordinator's core, or returns false when the chosen node is down. */
    interface Coordinators {
        boolean on(SplittableRandom random, Consumer<SimNode> request);
    }

    private final SplittableRandom random;
    private final EventLoop loop;
    private final Namespace namespace = TokenKeys.namespace();
    private final Coordinators coordinators;
    private final Counters counters;
    private final Consumer<Violation> violated;
    private final List<Issued> issued = new ArrayList<>();

    TokenWorkload(long seed, EventLoop loop, Coordinators coordinators, Counters counters, Consumer<Violation> violated) {
        this.random = new SplittableRandom(seed ^ 0x70CE5L);
        this.loop = loop;
        this.coordinators = coordinators;
        this.counters = counters;
        this.violated = violated;
    }

    Namespace namespace() {
        return namespace;
    }

    /** One turn of the admin or a checker; returns the delay until the next turn. */
    long turn() {
        int roll = random.nextInt(10);
        if (roll < 2 && issued.size() < MAX_TOKENS) {
            create();
        } else if (roll < 3 && !issued.isEmpty()) {
            revoke(issued.get(random.nextInt(issued.size())));
        } else if (!issued.isEmpty()) {
            check(issued.get(random.nextInt(issued.size())));
        }
        return 20 + random.nextInt(200);
    }

    private void create() {
        byte[] bytes = new byte[Credential.ID_BYTES + Credential.SECRET_BYTES];
        random.nextBytes(bytes);
        Issued t = new Issued(Credential.fromRandom(bytes));
        issued.add(t);
        Token token = new Token(t.credential.id(), "sim", t.credential.secretHash(), List.of(Role.parse("read:default")), 0, Token.NEVER, "sim");
        coordinators.on(random, n -> n.cluster.put(namespace, TokenKeys.token(token.id()), TokenCodec.encode(token), TYPE, Op.NO_TTL,
                Quorum.MAJORITY, answer -> {
                    if (answer.result() instanceof OpResult.Written) {
                        t.createAckedAt = loop.now();
                        counters.add("tokens.created");
                    }
                }));
    }

    private void revoke(Issued t) {
        if (t.revokeAskedAt < 0) {
            t.revokeAskedAt = loop.now();
        }
        byte[] marker = TokenCodec.encodeRevoked(new TokenCodec.Marker(Simulation.EPOCH_MILLIS, "sim"));
        coordinators.on(random, n -> n.cluster.put(namespace, TokenKeys.revoked(t.credential.id()), marker, TYPE, Op.NO_TTL, Quorum.MAJORITY,
                answer -> {
                    if (answer.result() instanceof OpResult.Written && t.revokeAckedAt < 0) {
                        t.revokeAckedAt = loop.now();
                        counters.add("tokens.revoked");
                    }
                }));
    }

    private void check(Issued t) {
        long startedAt = loop.now();
        byte[][] entries = new byte[3][];
        int[] answered = {0};
        boolean[] failed = {false};
        String id = t.credential.id();
        byte[][] keys = {TokenKeys.token(id), TokenKeys.revoked(id), TokenKeys.ends(id)};
        coordinators.on(random, n -> {
            for (int i = 0; i < 3; i++) {
                int which = i;
                n.cluster.get(namespace, keys[i], Quorum.MAJORITY, answer -> {
                    switch (answer.result()) {
                        case OpResult.Found f -> entries[which] = f.record().tombstone() ? null : f.record().value();
                        case OpResult.NotFound nf -> entries[which] = null;
                        default -> failed[0] = true;
                    }
                    if (++answered[0] == 3) {
                        judge(t, startedAt, failed[0] ? null : TokenState.decode(id, entries[0], entries[1], entries[2]), n);
                    }
                });
            }
        });
    }

    private void judge(Issued t, long startedAt, TokenState state, SimNode via) {
        if (state == null) {
            counters.add("tokens.lookupFailed");
            return;
        }
        counters.add("tokens.looked");
        Verdict v = Access.decide(t.credential, state, via.clock.nowMillis(), NEED);
        boolean allowed = v instanceof Verdict.Allowed;
        if (t.revokeAckedAt >= 0 && t.revokeAckedAt <= startedAt && allowed) {
            violated.accept(new Violation(Violation.Kind.AUTH, loop.now(), "token " + t.credential.id() + " was let in through node " + via.id
                    + " by a lookup that started at " + startedAt + ", after its revocation was acknowledged at " + t.revokeAckedAt));
        }
        if (t.createAckedAt >= 0 && t.createAckedAt <= startedAt && t.revokeAskedAt < 0 && !allowed) {
            violated.accept(new Violation(Violation.Kind.AUTH, loop.now(), "token " + t.credential.id() + " was refused (" + v
                    + ") through node " + via.id + " by a lookup that started at " + startedAt + ", after its creation was acknowledged at "
                    + t.createAckedAt));
        }
        if (!allowed && t.revokeAckedAt >= 0 && t.revokeAckedAt <= startedAt) {
            counters.add("tokens.revocationSeen");
        }
    }
}
