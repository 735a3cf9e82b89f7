package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Keys become one path segment exactly as docs/api.md "Keys" says; namespaces are checked early. */
class KeysTest {
    @Test
    void unreservedCharactersPassAndEverythingElseIsPercentEncodedUtf8() {
        assertThat(Keys.segment("user-42_x.y~z")).isEqualTo("user-42_x.y~z");
        assertThat(Keys.segment("a/b")).isEqualTo("a%2Fb");
        assertThat(Keys.segment("user:42")).isEqualTo("user%3A42");
        assertThat(Keys.segment("a+b c")).isEqualTo("a%2Bb%20c");
        assertThat(Keys.segment("100%")).isEqualTo("100%25");
        assertThat(Keys.segment("é")).isEqualTo("%C3%A9");
        assertThat(Keys.segment("日本")).isEqualTo("%E6%97%A5%E6%9C%AC");
        assertThat(Keys.segment("😀")).isEqualTo("%F0%9F%98%80");
        assertThat(Keys.segment("?#&=")).isEqualTo("%3F%23%26%3D");
    }

    @Test
    void dotSegmentsAreEncodedWholeSoNothingRewritesThePath() {
        assertThat(Keys.segment(".")).isEqualTo("%2E");
        assertThat(Keys.segment("..")).isEqualTo("%2E%2E");
        assertThat(Keys.segment("...")).isEqualTo("...");
        assertThat(Keys.segment(".hidden")).isEqualTo(".hidden");
    }

    @Test
    void emptyKeysAndUnpairedSurrogatesAreRefused() {
        assertThatThrownBy(() -> Keys.segment("")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.segment(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Keys.segment("a\uD800b")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("surrogate");
    }

    @Test
    void pathsAddressTheDefaultNamespaceOrANamedOne() {
        assertThat(Keys.path(null, "a/b")).isEqualTo("/kv/a%2Fb");
        assertThat(Keys.path("sessions", "x")).isEqualTo("/ns/sessions/kv/x");
        assertThat(Keys.collection(null)).isEqualTo("/kv");
        assertThat(Keys.collection("locks")).isEqualTo("/ns/locks/kv");
        assertThat(Keys.namespace("default")).isNull();
        assertThat(Keys.namespace("feature_flags-2")).isEqualTo("feature_flags-2");
        for (String bad : new String[] {"", "Upper", "1st", "a/b", "a b", "x".repeat(64)}) {
            assertThatThrownBy(() -> Keys.namespace(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
