package io.cairn.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.error.ErrorCode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The authorization rule: who may do what, and what a refusal tells whom. */
class AccessTest {
    private static final long NOW = 1_800_000_000_000L;

    private static Credential credential(int seed) {
        byte[] random = new byte[Credential.ID_BYTES + Credential.SECRET_BYTES];
        java.util.Arrays.fill(random, (byte) seed);
        random[0] = (byte) (seed * 7);
        return Credential.fromRandom(random);
    }

    private static TokenState state(Credential c, List<String> roles, long expires) {
        Token t = new Token(c.id(), "app", c.secretHash(), roles.stream().map(Role::parse).toList(), NOW - 1000, expires, "admin");
        return new TokenState(t, null, null);
    }

    @Test
    void rolesMeetTheNeedsTheyNameAndNoOthers() {
        Credential c = credential(1);
        TokenState reader = state(c, List.of("read:default"), Token.NEVER);
        assertThat(Access.decide(c, reader, NOW, Need.data("default", Right.READ))).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, reader, NOW, Need.data("default", Right.WRITE))).isInstanceOfSatisfying(Verdict.Refused.class,
                r -> assertThat(r.code()).isEqualTo(ErrorCode.FORBIDDEN));
        assertThat(Access.decide(c, reader, NOW, Need.data("sessions", Right.READ))).isInstanceOf(Verdict.Refused.class);
        assertThat(Access.decide(c, reader, NOW, Need.ADMIN)).isInstanceOf(Verdict.Refused.class);
        assertThat(Access.decide(c, reader, NOW, Need.METRICS)).isInstanceOf(Verdict.Refused.class);
        assertThat(Access.decide(c, reader, NOW, Need.ANY)).isInstanceOf(Verdict.Allowed.class);

        TokenState writer = state(c, List.of("write:*"), Token.NEVER);
        assertThat(Access.decide(c, writer, NOW, Need.data("sessions", Right.READ))).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, writer, NOW, Need.data("sessions", Right.WRITE))).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, writer, NOW, Need.data("sessions", Right.ADMIN))).isInstanceOf(Verdict.Refused.class);
        assertThat(Access.decide(c, writer, NOW, Need.ADMIN)).isInstanceOf(Verdict.Refused.class);

        TokenState nsAdmin = state(c, List.of("admin:default"), Token.NEVER);
        assertThat(Access.decide(c, nsAdmin, NOW, Need.data("default", Right.WRITE))).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, nsAdmin, NOW, Need.ADMIN)).as("admin routes need admin:*").isInstanceOf(Verdict.Refused.class);

        TokenState admin = state(c, List.of("admin:*"), Token.NEVER);
        assertThat(Access.decide(c, admin, NOW, Need.ADMIN)).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, admin, NOW, Need.METRICS)).isInstanceOf(Verdict.Allowed.class);

        TokenState metrics = state(c, List.of("metrics"), Token.NEVER);
        assertThat(Access.decide(c, metrics, NOW, Need.METRICS)).isInstanceOf(Verdict.Allowed.class);
        assertThat(Access.decide(c, metrics, NOW, Need.data("default", Right.READ))).isInstanceOf(Verdict.Refused.class);
    }

    @Test
    void withoutTheSecretEveryRefusalIsUnknown() {
        Credential real = credential(2);
        Credential guessed = new Credential(real.id(), credential(3).secret());
        TokenState revoked = new TokenState(state(real, List.of("admin:*"), NOW - 1).token(), new TokenCodec.Marker(NOW - 5, "x"), null);
        Verdict v = Access.decide(guessed, revoked, NOW, Need.ADMIN);
        assertThat(v).isInstanceOfSatisfying(Verdict.Refused.class, r -> {
            assertThat(r.code()).isEqualTo(ErrorCode.UNAUTHENTICATED);
            assertThat(r.reason()).isEqualTo("unknown");
            assertThat(r.message()).doesNotContain("revoked", "expired", "app");
        });
        assertThat(Access.decide(real, TokenState.ABSENT, NOW, Need.ANY)).isInstanceOfSatisfying(Verdict.Refused.class,
                r -> assertThat(r.reason()).isEqualTo("unknown"));
    }

    @Test
    void expiryRevocationAndEarlyEndStopAToken() {
        Credential c = credential(4);
        assertThat(reason(Access.decide(c, state(c, List.of("read:*"), NOW), NOW, Need.ANY))).isEqualTo("expired");
        assertThat(Access.decide(c, state(c, List.of("read:*"), NOW + 1), NOW, Need.ANY)).isInstanceOf(Verdict.Allowed.class);
        Token t = state(c, List.of("read:*"), NOW + 100_000).token();
        assertThat(reason(Access.decide(c, new TokenState(t, new TokenCodec.Marker(NOW + 50, "a"), null), NOW, Need.ANY)))
                .as("a revocation is in force from the moment it is read, whatever time it names").isEqualTo("revoked");
        assertThat(reason(Access.decide(c, new TokenState(t, null, new TokenCodec.Marker(NOW, "a")), NOW, Need.ANY))).isEqualTo("expired");
        assertThat(Access.decide(c, new TokenState(t, null, new TokenCodec.Marker(NOW + 1, "a")), NOW, Need.ANY)).isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void aTokenStateOfAnotherIdIsUnknown() {
        Credential c = credential(5);
        Credential other = credential(6);
        assertThat(reason(Access.decide(c, state(other, List.of("admin:*"), Token.NEVER), NOW, Need.ANY))).isEqualTo("unknown");
    }

    private static String reason(Verdict v) {
        return v instanceof Verdict.Refused r ? r.reason() : "allowed";
    }
}
