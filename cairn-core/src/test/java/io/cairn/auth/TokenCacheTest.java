package io.cairn.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import org.junit.jupiter.api.Test;

/** The revocation bound: what the cache trusts, for how long, and how much it holds. */
class TokenCacheTest {
    private final Token token = TokenCodecProperties.token(new Gen(5, 10));
    private final TokenState live = new TokenState(token, null, null);

    @Test
    void anEntryIsTrustedForItsFreshTimeFromWhenItsReadStarted() {
        TokenCache cache = new TokenCache(10, 5_000, 1_000);
        cache.put("a", live, 1_000);
        assertThat(cache.fresh("a", 1_000)).isEqualTo(live);
        assertThat(cache.fresh("a", 5_999)).isEqualTo(live);
        assertThat(cache.fresh("a", 6_000)).as("never past the bound").isNull();
        assertThat(cache.size()).isZero();
        cache.put("b", TokenState.ABSENT, 1_000);
        assertThat(cache.fresh("b", 1_999)).isEqualTo(TokenState.ABSENT);
        assertThat(cache.fresh("b", 2_000)).as("unknown ids are remembered for less").isNull();
        cache.put("c", live, 10_000);
        assertThat(cache.fresh("c", 9_000)).as("a time before the read (a clock step) is not trusted").isNull();
    }

    @Test
    void anOlderReadNeverReplacesANewerOne() {
        TokenCache cache = new TokenCache(10, 5_000, 1_000);
        TokenState revoked = new TokenState(token, new TokenCodec.Marker(1, "x"), null);
        cache.put("a", revoked, 2_000);
        cache.put("a", live, 1_500);
        assertThat(cache.fresh("a", 2_100)).isEqualTo(revoked);
        cache.invalidate("a", 2_100);
        assertThat(cache.fresh("a", 2_100)).isNull();
        cache.put("a", live, 2_050);
        assertThat(cache.fresh("a", 2_200)).as("a read that started before the invalidation is not remembered").isNull();
        cache.put("a", revoked, 2_150);
        assertThat(cache.fresh("a", 2_200)).isEqualTo(revoked);
    }

    @Test
    void aTokenInUseIsDueForARefreshPastHalfItsTimeAndAnUnknownOneNever() {
        TokenCache cache = new TokenCache(10, 5_000, 1_000);
        cache.put("a", live, 1_000);
        cache.put("b", TokenState.ABSENT, 1_000);
        assertThat(cache.dueForRefresh("a", 3_499)).isFalse();
        assertThat(cache.dueForRefresh("a", 3_500)).isTrue();
        assertThat(cache.dueForRefresh("a", 6_000)).as("no longer trusted: a plain miss").isFalse();
        assertThat(cache.dueForRefresh("b", 1_999)).isFalse();
        assertThat(cache.dueForRefresh("c", 1_000)).isFalse();
    }

    @Test
    void itHoldsAtMostItsBound() {
        TokenCache cache = new TokenCache(3, 5_000, 1_000);
        for (int i = 0; i < 100; i++) {
            cache.put("id" + i, live, i);
            assertThat(cache.size()).isLessThanOrEqualTo(3);
        }
        assertThat(cache.fresh("id99", 100)).isEqualTo(live);
    }
}
