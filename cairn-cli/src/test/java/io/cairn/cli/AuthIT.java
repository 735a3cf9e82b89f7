package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Authentication as a newcomer and an operator meet it, through real processes: on by default,
 * the admin credential created at first start (mode 600) and found by bin/cairn, every data and
 * admin route refused without a token, roles enforced, and a revocation made on one node of a
 * cluster effective on the others within the token cache time, tokens surviving a kill -9.
 */
class AuthIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path tmp;

    private HttpResponse<String> send(String method, String url, String auth) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .method(method, method.equals("PUT") || method.equals("POST") ? HttpRequest.BodyPublishers.ofString("v") : HttpRequest.BodyPublishers.noBody());
        if (auth != null) {
            b.header("Authorization", "Bearer " + auth);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aFreshNodeIsClosedToAnonymousClientsAndItsAdminCredentialIsFoundByTheCli() throws Exception {
        Path data = tmp.resolve("data");
        try (NodeProcess node = NodeProcess.start(data)) {
            Path file = data.resolve("auth").resolve("admin.token");
            assertThat(node.output()).contains("created the admin credential in " + file.toAbsolutePath());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
            for (String[] route : List.of(new String[] {"GET", "/kv/k"}, new String[] {"PUT", "/kv/k"}, new String[] {"DELETE", "/kv/k"},
                    new String[] {"POST", "/kv/_batch"}, new String[] {"GET", "/admin/status"}, new String[] {"GET", "/admin/auth/tokens"},
                    new String[] {"GET", "/metrics"})) {
                HttpResponse<String> r = send(route[0], node.url() + route[1], null);
                assertThat(r.statusCode()).as("%s %s", route[0], route[1]).isEqualTo(401);
                assertThat(JSON.readTree(r.body()).path("code").asText()).isEqualTo("unauthenticated");
            }
            assertThat(send("GET", node.url() + "/health", null).statusCode()).isEqualTo(200);
            assertThat(send("GET", node.url() + "/ready", null).statusCode()).isEqualTo(200);

            String d = data.toString();
            assertThat(CliRun.of("put", "--url", node.url(), "--data-dir", d, "greeting", "hello").code()).isZero();
            assertThat(CliRun.of("get", "--url", node.url(), "--data-dir", d, "greeting").out()).isEqualTo("hello");
            CliRun made = CliRun.of("auth", "create", "--url", node.url(), "--data-dir", d, "--name", "dashboard", "--role", "read:default", "--ttl", "1d");
            assertThat(made.code()).as(made.err()).isZero();
            String reader = JSON.readTree(made.out()).path("token").asText();
            assertThat(CliRun.of("get", "--url", node.url(), "--token", reader, "greeting").out()).isEqualTo("hello");
            CliRun denied = CliRun.of("put", "--url", node.url(), "--token", reader, "greeting", "changed");
            assertThat(denied.code()).isEqualTo(1);
            assertThat(denied.err()).contains("forbidden");
            assertThat(CliRun.of("auth", "whoami", "--url", node.url(), "--token", reader).out()).contains("\"name\":\"dashboard\"");
            CliRun listed = CliRun.of("auth", "list", "--url", node.url(), "--data-dir", d);
            assertThat(listed.out()).contains("dashboard").doesNotContain(reader.substring(23));
        }
        try (NodeProcess again = NodeProcess.start(data)) {
            assertThat(again.output()).as("the credential is made once").doesNotContain("created the admin credential");
            assertThat(CliRun.of("get", "--url", again.url(), "--data-dir", data.toString(), "greeting").out()).isEqualTo("hello");
        }
    }

    @Test
    void aRevocationOnOneNodeReachesTheOthersWithinTheCacheTimeAndTokensSurviveAKill() throws Exception {
        try (ClusterProcesses cluster = new ClusterProcesses(tmp, 3, List.of("cluster.heartbeatInterval=100ms", "auth.tokenCacheTtl=2s"))) {
            String admin = cluster.token();
            CliRun made = CliRun.of("auth", "create", "--url", cluster.url(1), "--token", admin, "--name", "checkout", "--role", "write:default");
            assertThat(made.code()).as(made.err()).isZero();
            JsonNode token = JSON.readTree(made.out());
            String writer = token.path("token").asText();
            for (int id = 1; id <= 3; id++) {
                assertThat(send("PUT", cluster.url(id) + "/kv/order", writer).statusCode()).isEqualTo(200);
            }
            cluster.kill(2);
            cluster.start(2);
            cluster.awaitSeesEveryoneAlive(2);
            assertThat(send("GET", cluster.url(2) + "/kv/order", writer).statusCode()).as("after kill -9 and restart").isEqualTo(200);

            CliRun revoked = CliRun.of("auth", "revoke", "--url", cluster.url(1), "--token", admin, token.path("id").asText());
            assertThat(revoked.code()).as(revoked.err()).isZero();
            long revokedAt = System.nanoTime();
            assertThat(send("PUT", cluster.url(1) + "/kv/order", writer).statusCode()).isEqualTo(401);
            int status = 0;
            while (System.nanoTime() - revokedAt < Duration.ofSeconds(2 + 3).toNanos()) {
                status = send("PUT", cluster.url(3) + "/kv/order", writer).statusCode();
                if (status == 401) {
                    break;
                }
                Thread.sleep(100);
            }
            assertThat(status).as("node 3 refuses within auth.tokenCacheTtl (2 s) plus a store read").isEqualTo(401);
        }
    }
}
