package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/api.md's batch example, sent to a real node: the documented answer has the same results —
 * the same fields, and the same values wherever the document does not elide them with "…" or show
 * a moment in time.
 */
class ApiDocExamplesTest {
    @TempDir
    Path dir;

    @Test
    void theBatchExampleAnswersWhatTheDocumentShows() throws Exception {
        String api = Files.readString(Path.of("..", "docs", "api.md"));
        int section = api.indexOf("## BATCH /kv and POST /kv/_batch");
        String request = jsonBlock(api, section);
        String documented = jsonBlock(api, api.indexOf("```json", api.indexOf("```json", section) + 1) - 1);
        try (TestNode node = TestNode.start(dir)) {
            HttpResponse<byte[]> r = node.call("BATCH", "/kv", request.getBytes(StandardCharsets.UTF_8), "Content-Type", "application/json");
            assertThat(r.statusCode()).as(TestNode.describe(r)).isEqualTo(200);
            JsonNode got = TestNode.json(r).path("results");
            JsonNode want = TestNode.JSON.readTree(documented).path("results");
            assertThat(got.size()).isEqualTo(want.size());
            for (int i = 0; i < want.size(); i++) {
                JsonNode w = want.get(i);
                JsonNode g = got.get(i);
                java.util.Set<String> gotFields = new java.util.TreeSet<>();
                g.fieldNames().forEachRemaining(gotFields::add);
                java.util.Set<String> wantFields = new java.util.TreeSet<>();
                w.fieldNames().forEachRemaining(wantFields::add);
                assertThat(gotFields).as("fields of result %d: %s", i, g).isEqualTo(wantFields);
                for (Iterator<Map.Entry<String, JsonNode>> it = w.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> f = it.next();
                    String shown = f.getValue().asText();
                    if (!shown.contains("…") && !f.getKey().equals("expiresAt")) {
                        assertThat(g.get(f.getKey())).as("result %d, %s", i, f.getKey()).isEqualTo(f.getValue());
                    }
                }
            }
        }
    }

    /** The first ```json block after {@code from}. */
    private static String jsonBlock(String doc, int from) {
        int start = doc.indexOf("```json", from) + "```json".length();
        return doc.substring(start, doc.indexOf("```", start)).strip();
    }
}
