package io.cairn.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.property.Trials;
import org.junit.jupiter.api.Test;

/** Token text: one spelling per credential, strict parsing of anything a client sends. */
class CredentialTest {
    @Test
    void textRoundTripsAndHidesTheSecret() {
        Trials.run(77, 300, 10, gen -> {
            Credential c = Credential.fromRandom(gen.bytes(40, 40));
            assertThat(c.text()).hasSize(Credential.TEXT_LENGTH).startsWith("cairn_" + c.id() + "_");
            assertThat(Credential.parse(c.text())).isEqualTo(c);
            assertThat(Credential.fromAuthorization("Bearer " + c.text())).isEqualTo(c);
            assertThat(Credential.fromAuthorization("bearer " + c.text())).isEqualTo(c);
            assertThat(c.toString()).doesNotContain(c.text().substring(23));
            assertThat(c.matches(c.secretHash())).isTrue();
        });
    }

    @Test
    void anythingElseIsNotACredential() {
        Credential c = Credential.fromRandom(new byte[40]);
        String t = c.text();
        assertThat(Credential.fromAuthorization(null)).isNull();
        assertThat(Credential.fromAuthorization(t)).as("no scheme").isNull();
        assertThat(Credential.fromAuthorization("Basic " + t)).isNull();
        assertThat(Credential.fromAuthorization("Bearer  " + t)).as("RFC 7235 allows several spaces").isEqualTo(c);
        assertThat(Credential.fromAuthorization("Bearer" + t)).isNull();
        assertThat(Credential.fromAuthorization("Bearer\t" + t)).isNull();
        assertThat(Credential.fromAuthorization("Bearer " + " ".repeat(40) + t)).isNull();
        assertThat(Credential.fromAuthorization("Bearer " + t + " ")).isNull();
        assertThat(Credential.parse(t.toUpperCase())).isNull();
        assertThat(Credential.parse(t.substring(0, t.length() - 1))).isNull();
        assertThat(Credential.parse(t + "A")).isNull();
        assertThat(Credential.parse(t.replace("cairn_", "cairm_"))).isNull();
        // The last base64url character carries 4 spare bits: a second spelling of the same secret is refused.
        String last = t.substring(t.length() - 1);
        String other = t.substring(0, t.length() - 1) + (last.equals("A") ? "B" : "A");
        assertThat(Credential.parse(other)).isNull();
        assertThat(Credential.parse("")).isNull();
        assertThatThrownBy(() -> Credential.fromRandom(new byte[39])).isInstanceOf(IllegalArgumentException.class);
    }
}
