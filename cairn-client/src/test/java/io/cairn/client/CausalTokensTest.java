package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The causal token cache: per (namespace, key), bounded LRU, and never moved back by an older operation. */
class CausalTokensTest {
    @Test
    void remembersPerNamespaceAndKey() {
        CausalTokens tokens = new CausalTokens(10);
        tokens.saw(null, "a", "\"1\"", tokens.ticket());
        tokens.saw("sessions", "a", "\"2\"", tokens.ticket());
        assertThat(tokens.token(null, "a")).isEqualTo("\"1\"");
        assertThat(tokens.token("sessions", "a")).isEqualTo("\"2\"");
        assertThat(tokens.token(null, "b")).isNull();
        tokens.saw(null, "b", null, tokens.ticket());
        assertThat(tokens.token(null, "b")).isNull();
    }

    @Test
    void anOperationThatStartedEarlierCannotReplaceANewerTag() {
        CausalTokens tokens = new CausalTokens(10);
        long slowRead = tokens.ticket();
        long write = tokens.ticket();
        tokens.saw(null, "k", "\"written\"", write);
        tokens.saw(null, "k", "\"read-before-the-write\"", slowRead);
        assertThat(tokens.token(null, "k")).isEqualTo("\"written\"");
        long later = tokens.ticket();
        tokens.saw(null, "k", "\"later\"", later);
        assertThat(tokens.token(null, "k")).isEqualTo("\"later\"");
        assertThat(tokens.ticketOf(null, "k")).isEqualTo(later);
        assertThat(tokens.ticketOf(null, "other")).isEqualTo(-1);
    }

    @Test
    void evictsTheLeastRecentlyUsedKeyBeyondItsCapacity() {
        CausalTokens tokens = new CausalTokens(3);
        for (String k : new String[] {"a", "b", "c"}) {
            tokens.saw(null, k, "\"" + k + "\"", tokens.ticket());
        }
        assertThat(tokens.token(null, "a")).isNotNull();
        tokens.saw(null, "d", "\"d\"", tokens.ticket());
        assertThat(tokens.size()).isEqualTo(3);
        assertThat(tokens.token(null, "b")).as("b was the least recently used").isNull();
        assertThat(tokens.token(null, "a")).isEqualTo("\"a\"");
        assertThat(tokens.token(null, "c")).isEqualTo("\"c\"");
        assertThat(tokens.token(null, "d")).isEqualTo("\"d\"");
        for (int i = 0; i < 10_000; i++) {
            tokens.saw(null, "k" + i, "\"x\"", tokens.ticket());
        }
        assertThat(tokens.size()).isEqualTo(3);
    }

    @Test
    void aCacheOfSizeZeroRemembersNothing() {
        CausalTokens tokens = new CausalTokens(0);
        tokens.saw(null, "a", "\"1\"", tokens.ticket());
        assertThat(tokens.token(null, "a")).isNull();
        assertThat(tokens.size()).isZero();
    }
}
