package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAPI description a node serves at {@code /openapi.json} matches the routes it has: every
 * documented path and method, sent to a real node (a single node for the node's routes, a
 * three-node elastic cluster for the cluster's and the membership's), reaches a handler (whatever
 * it then answers, never {@code route_not_found} or {@code 405}); and every admin route the node
 * counts in its metrics is documented.
 */
class OpenApiTest {
    @TempDir
    Path dir;

    @Test
    void everyDocumentedRouteExistsAndEveryAdminRouteIsDocumented() throws Exception {
        JsonNode doc;
        List<String> problems = new ArrayList<>();
        try (TestNode single = TestNode.start(dir.resolve("single"))) {
            HttpResponse<byte[]> served = single.anonymousGet("/openapi.json");
            assertThat(served.statusCode()).isEqualTo(200);
            assertThat(served.headers().firstValue("content-type").orElse("")).startsWith("application/json");
            doc = TestNode.JSON.readTree(served.body());
            assertThat(doc.path("openapi").asText()).startsWith("3.1");
            probe(single, doc, Set.of("node"), problems);
        }
        List<TestNode> cluster = TestNode.startCluster(dir.resolve("cluster"), 3, true);
        try {
            probe(cluster.get(0), doc, Set.of("cluster", "elastic"), problems);
        } finally {
            cluster.forEach(TestNode::close);
        }
        assertThat(problems).isEmpty();

        Set<String> documented = new TreeSet<>();
        doc.path("paths").fieldNames().forEachRemaining(documented::add);
        for (String admin : NodeApi.ADMIN_ROUTES) {
            if (!admin.equals("faults")) {
                assertThat(documented).as("admin route %s is documented", admin).anyMatch(p -> p.startsWith("/admin/" + admin));
            }
        }
        // Every admin route docs/api.md describes (but the test clusters' faults) is in the description, with its method.
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("`(GET|PUT|POST|DELETE) [^`]*?(/admin/[^`?\\s\\[\\]]*)")
                .matcher(java.nio.file.Files.readString(Path.of("..", "docs", "api.md")));
        List<String> missing = new ArrayList<>();
        while (m.find()) {
            String route = m.group(2).replaceAll("/$", "");
            if (route.startsWith("/admin/faults")) {
                continue;
            }
            String shape = route.replaceAll("\\{[^}]+}", "{}");
            boolean described = false;
            for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
                String template = path.getKey().replaceAll("\\{[^}]+}", "{}");
                boolean fits = template.equals(shape) || shape.matches(java.util.regex.Pattern.quote(template).replace("{}", "\\E[^/]+\\Q"));
                described |= fits && path.getValue().has(m.group(1).toLowerCase(Locale.ROOT));
            }
            if (!described) {
                missing.add(m.group(1) + " " + route);
            }
        }
        assertThat(missing).as("admin routes in docs/api.md missing from openapi.json").isEmpty();
    }

    /** Sends every operation whose scope is one of {@code scopes} and records those that no handler took. */
    private static void probe(TestNode node, JsonNode doc, Set<String> scopes, List<String> problems) {
        for (Map.Entry<String, JsonNode> path : doc.path("paths").properties()) {
            for (Map.Entry<String, JsonNode> op : path.getValue().properties()) {
                String scope = op.getValue().path("x-cairn-scope").asText("node");
                if (!scopes.contains(scope)) {
                    continue;
                }
                String concrete = path.getKey().replace("{key}", "openapi-probe").replace("{namespace}", "no-such-namespace")
                        .replace("{name}", "openapi-probe").replace("{id}", "0");
                String method = op.getKey().toUpperCase(Locale.ROOT);
                byte[] body = method.equals("PUT") || method.equals("POST") ? "{}".getBytes(StandardCharsets.UTF_8) : null;
                HttpRequest.Builder b = node.request(concrete).method(method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
                if (body != null) {
                    b.header("Content-Type", "application/json");
                }
                HttpResponse<byte[]> r = node.send(b);
                String code = "";
                if (r.body().length > 0 && r.headers().firstValue("content-type").orElse("").startsWith("application/json")) {
                    code = TestNode.json(r).path("code").asText("");
                }
                if (r.statusCode() == 405 || code.equals("route_not_found")) {
                    problems.add(method + " " + path.getKey() + " (" + scope + "): " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
                }
            }
        }
    }
}
