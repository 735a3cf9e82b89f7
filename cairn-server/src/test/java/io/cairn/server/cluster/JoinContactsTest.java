package io.cairn.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cairn.membership.Member;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The metadata contacts a joining node takes from the member it joins through ({@code contacts} of
 * {@code GET /admin/cluster/bootstrap}): the member may be wrong or lying, so every field is checked.
 */
class JoinContactsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String MEMBER = "10.0.0.5:7070";

    private static List<Member> contacts(String answer) throws Exception {
        JsonNode node = JSON.readTree(answer);
        return ElasticMembership.joinContacts(node.path("contacts"), MEMBER);
    }

    @Test
    void takesTheIdsAndMetadataAddressesInTheirOrder() throws Exception {
        List<Member> c = contacts("{\"contacts\": [{\"id\": 6, \"metadata\": \"10.0.0.6:7270\"}, {\"id\": 5, \"metadata\": \"node-5.example:7270\"},"
                + " {\"id\": 7, \"metadata\": \"[::1]:7270\", \"zone\": \"ignored\"}]}");
        assertThat(c).extracting(Member::id).containsExactly(6, 5, 7);
        assertThat(c).extracting(Member::metadataAddress).containsExactly("10.0.0.6:7270", "node-5.example:7270", "[::1]:7270");
        assertThat(c).allMatch(Member::metadataVoter);
    }

    @Test
    void aMemberOfAnEarlierReleaseSendsNone() throws Exception {
        assertThat(contacts("{\"state\": \"AAAA\"}")).isEmpty();
        assertThat(contacts("{\"contacts\": null}")).isEmpty();
        assertThat(contacts("{\"contacts\": []}")).isEmpty();
    }

    @Test
    void refusesMalformedContactsNamingTheMember() {
        for (String bad : List.of(
                "{\"contacts\": {\"id\": 5}}",
                "{\"contacts\": [5]}",
                "{\"contacts\": [{\"metadata\": \"10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": \"5\", \"metadata\": \"10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": 0, \"metadata\": \"10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": 65536, \"metadata\": \"10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": 5.5, \"metadata\": \"10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"10.0.0.6:7270\"}, {\"id\": 5, \"metadata\": \"10.0.0.7:7270\"}]}",
                "{\"contacts\": [{\"id\": 5}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": 7270}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"10.0.0.6\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"10.0.0.6:0\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"10.0.0.6:65536\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"10.0.0.6:72a0\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"evil host:7270\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"http://10.0.0.6:7270\"}]}",
                "{\"contacts\": [{\"id\": 5, \"metadata\": \"" + "a".repeat(300) + ":7270\"}]}")) {
            assertThatThrownBy(() -> contacts(bad)).as(bad).isInstanceOf(IllegalStateException.class).hasMessageContaining(MEMBER);
        }
    }

    @Test
    void refusesMoreContactsThanItTakes() {
        StringBuilder many = new StringBuilder("{\"contacts\": [");
        for (int id = 1; id <= ElasticMembership.MAX_JOIN_CONTACTS + 1; id++) {
            many.append(id == 1 ? "" : ",").append("{\"id\": ").append(id).append(", \"metadata\": \"10.0.0.1:").append(7000 + id).append("\"}");
        }
        String answer = many.append("]}").toString();
        assertThatThrownBy(() -> contacts(answer)).isInstanceOf(IllegalStateException.class).hasMessageContaining("at most");
    }
}
