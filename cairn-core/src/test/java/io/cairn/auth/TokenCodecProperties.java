package io.cairn.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.CorruptRecordException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The stored token format: round trips, and no byte string decodes to anything but a valid token or a refusal. */
class TokenCodecProperties {
    private static final String[] ROLES = {"read:default", "write:*", "admin:*", "metrics", "read:sessions", "admin:flags-1"};

    static Token token(Gen gen) {
        Credential c = Credential.fromRandom(gen.bytes(40, 40));
        List<Role> roles = new ArrayList<>();
        int n = gen.between(1, 5);
        for (int i = 0; i < n; i++) {
            roles.add(Role.parse(gen.pick(ROLES)));
        }
        long created = gen.between(0L, 4_000_000_000_000L);
        long expires = gen.chance(0.2) ? Token.NEVER : created + gen.between(1L, 1_000_000_000_000L);
        return new Token(c.id(), gen.pick("app", "ci@build", "svc.checkout", "a"), c.secretHash(), roles, created, expires, gen.pick("admin", "x (token 0123456789abcdef)"));
    }

    @Test
    void decodeInvertsEncode() {
        Trials.run(91, 500, 10, gen -> {
            Token t = token(gen);
            assertThat(TokenCodec.decode(TokenCodec.encode(t))).isEqualTo(t);
            TokenCodec.Marker m = new TokenCodec.Marker(gen.between(0L, Long.MAX_VALUE), gen.pick("admin", "ops team"));
            assertThat(TokenCodec.decodeRevoked(TokenCodec.encodeRevoked(m))).isEqualTo(m);
            assertThat(TokenCodec.decodeEnds(TokenCodec.encodeEnds(m))).isEqualTo(m);
        });
    }

    @Test
    void damagedBytesDecodeToAValidTokenOrAreRefused() {
        Trials.run(92, 3000, 10, gen -> {
            byte[] b = TokenCodec.encode(token(gen));
            int edits = gen.between(1, 4);
            for (int i = 0; i < edits; i++) {
                switch (gen.between(0, 2)) {
                    case 0 -> b[gen.between(0, b.length - 1)] = (byte) gen.between(0, 255);
                    case 1 -> b = java.util.Arrays.copyOf(b, gen.between(0, b.length - 1));
                    default -> b = java.util.Arrays.copyOf(b, b.length + gen.between(1, 8));
                }
                if (b.length == 0) {
                    break;
                }
            }
            byte[] damaged = b;
            try {
                Token t = TokenCodec.decode(damaged);
                // Whatever decodes passed every check a constructed token passes.
                assertThat(new Token(t.id(), t.name(), t.secretHash(), t.roles(), t.createdAtMillis(), t.expiresAtMillis(), t.createdBy())).isEqualTo(t);
            } catch (CorruptRecordException expected) {
                // refused: fine
            }
            try {
                TokenCodec.decodeRevoked(damaged);
            } catch (CorruptRecordException expected) {
                // refused: fine
            }
        });
    }
}
