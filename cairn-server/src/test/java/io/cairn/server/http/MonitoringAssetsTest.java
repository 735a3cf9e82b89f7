package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard and the Prometheus alert rules in {@code deploy/} use only metrics a real
 * node exports: the node-level ones on a single node, all of them on a node of a three-node
 * cluster, each before any data traffic (so an alert on {@code increase(...)} has a series to
 * watch from the start; request histograms once a request was answered). A renamed metric fails here instead of silently blanking a panel or an alert.
 */
class MonitoringAssetsTest {
    private static final Path DEPLOY = Path.of("..", "deploy");
    private static final Pattern METRIC = Pattern.compile("\\bcairn_[a-z0-9_]+");

    @TempDir
    Path dir;

    @Test
    void everyMetricTheDashboardAndTheAlertsUseExistsOnARealNodeAndCluster() throws Exception {
        Set<String> nodeLevel = new TreeSet<>();
        Set<String> clusterLevel = new TreeSet<>();
        JsonNode dashboard = TestNode.JSON.readTree(Files.readString(DEPLOY.resolve("grafana/cairn-dashboard.json")));
        for (JsonNode panel : dashboard.path("panels")) {
            boolean cluster = panel.path("title").asText().contains("(cluster");
            for (JsonNode target : panel.path("targets")) {
                names(target.path("expr").asText(), cluster ? clusterLevel : nodeLevel);
            }
        }
        String alerts = Files.readString(DEPLOY.resolve("prometheus/cairn-alerts.yml"));
        int clusterGroup = alerts.indexOf("- name: cairn-cluster");
        assertThat(clusterGroup).isPositive();
        names(expressions(alerts.substring(0, clusterGroup)), nodeLevel);
        names(expressions(alerts.substring(clusterGroup)), clusterLevel);
        assertThat(nodeLevel).contains("cairn_http_request_duration_seconds_bucket", "cairn_build_info");
        assertThat(clusterLevel).contains("cairn_peer_alive");

        try (TestNode single = TestNode.start(dir.resolve("single"))) {
            single.get("/ready"); // Request histograms have a series once a request was answered.
            assertThat(missing(nodeLevel, TestNode.text(single.get("/metrics")))).as("on a single node").isEmpty();
        }
        List<TestNode> nodes = TestNode.startCluster(dir.resolve("cluster"), 3);
        try {
            Set<String> all = new TreeSet<>(nodeLevel);
            all.addAll(clusterLevel);
            nodes.get(0).get("/ready");
            assertThat(missing(all, TestNode.text(nodes.get(0).get("/metrics")))).as("on a cluster node").isEmpty();
        } finally {
            nodes.forEach(TestNode::close);
        }
    }

    /** The {@code expr:} values of the alert rules (single-line or block). */
    private static String expressions(String yaml) {
        StringBuilder out = new StringBuilder();
        boolean block = false;
        for (String line : yaml.lines().toList()) {
            String t = line.strip();
            if (t.startsWith("expr:")) {
                out.append(t.substring(5)).append('\n');
                block = t.endsWith("|");
            } else if (block && (t.startsWith("labels:") || t.startsWith("for:") || t.startsWith("annotations:"))) {
                block = false;
            } else if (block) {
                out.append(t).append('\n');
            }
        }
        return out.toString();
    }

    private static void names(String expr, Set<String> into) {
        Matcher m = METRIC.matcher(expr);
        while (m.find()) {
            into.add(m.group());
        }
    }

    private static List<String> missing(Set<String> names, String exposition) throws IOException {
        Set<String> exported = new TreeSet<>();
        for (String line : exposition.lines().toList()) {
            if (!line.startsWith("#") && !line.isBlank()) {
                int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
                exported.add(line.substring(0, end));
            }
        }
        List<String> out = new ArrayList<>();
        for (String n : names) {
            if (!exported.contains(n)) {
                out.add(n);
            }
        }
        return out;
    }
}
