package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ContentTypesTest {
    @Test
    void aStoredContentTypeNoHeaderCanCarryIsServedAsOctetStream() {
        // A record from a disk, a peer or an earlier release may hold anything; a read must still answer.
        for (String stored : new String[] {"text/plain\r\nX-Injected: yes", "a\u0000b", "", "x".repeat(256), "caf\u00e9"}) {
            assertThat(ContentTypes.served(stored)).as(stored).isEqualTo("application/octet-stream");
        }
        assertThat(ContentTypes.served(null)).isEqualTo("application/octet-stream");
        assertThat(ContentTypes.served("application/json; charset=utf-8")).isEqualTo("application/json; charset=utf-8");
    }
}
