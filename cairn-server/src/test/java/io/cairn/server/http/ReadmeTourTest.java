package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's five-minute tour, run against a real node: every {@code curl} in it is sent as
 * written (its headers, method, body and URL), and its answer must be what the comment beside it
 * says ({@code # 200}, {@code # 412}, {@code # Idempotent-Replayed: true}, ...) or, without one, a
 * success. So the first thing a newcomer copies cannot drift from what the node does.
 * ({@code bin/cairn} lines and the ones using the read-only token it creates are the CLI's; the
 * CLI tests cover them.)
 */
class ReadmeTourTest {
    private static final Pattern STATUS = Pattern.compile("^(\\d{3})\\b");

    @TempDir
    Path dir;

    @Test
    void everyCurlOfTheTourDoesWhatItsCommentSays() throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"));
        int tour = readme.indexOf("## A five-minute tour");
        int from = readme.indexOf("```sh", tour) + "```sh".length();
        String block = readme.substring(from, readme.indexOf("```", from));
        Map<String, String> vars = new HashMap<>();
        int checked = 0;
        try (TestNode node = TestNode.start(dir)) {
            vars.put("AUTH", "Authorization: " + TestTokens.AUTHORIZATION);
            for (Command c : commands(block)) {
                List<String> words = tokens(c.text(), vars);
                String first = words.isEmpty() ? "" : words.get(0);
                if (first.startsWith("TEXT=")) {
                    vars.put("TEXT", first.substring("TEXT=".length()));
                } else if (first.startsWith("ETAG=$(")) {
                    List<String> curl = tokens(c.text().substring(c.text().indexOf("$(") + 2, c.text().lastIndexOf(')')), vars);
                    HttpResponse<byte[]> r = send(node, curl);
                    assertThat(r.statusCode()).as(c.text()).isEqualTo(200);
                    vars.put("ETAG", r.headers().firstValue("etag").orElseThrow());
                } else if (first.equals("curl") && !c.text().contains("$TOKEN")) {
                    HttpResponse<byte[]> r = send(node, words);
                    check(c, r);
                    checked++;
                }
            }
        }
        assertThat(checked).as("curl commands checked").isGreaterThanOrEqualTo(12);
    }

    private static void check(Command c, HttpResponse<byte[]> r) {
        String says = c.comment();
        String what = c.text() + " -> " + r.statusCode() + " " + r.headers().map() + " " + new String(r.body(), StandardCharsets.UTF_8);
        Matcher status = STATUS.matcher(says);
        if (status.find()) {
            assertThat(r.statusCode()).as(what).isEqualTo(Integer.parseInt(status.group(1)));
        } else {
            assertThat(r.statusCode()).as(what).isBetween(200, 299);
        }
        if (says.contains("Idempotent-Replayed: true")) {
            assertThat(r.headers().firstValue("idempotent-replayed")).as(what).hasValue("true");
        }
        if (says.contains("Content-Type: text/plain")) {
            assertThat(r.headers().firstValue("content-type").orElse("")).as(what).startsWith("text/plain");
        }
        if (says.contains("Cairn-Expires-At")) {
            assertThat(r.headers().firstValue("cairn-expires-at")).as(what).isPresent();
        }
    }

    /** Sends a curl command line: -H, -X, --data-binary and the URL (aimed at the test node); -i, -s, -o, -w change nothing here. */
    private static HttpResponse<byte[]> send(TestNode node, List<String> curl) {
        String method = null;
        String url = null;
        byte[] body = null;
        List<String[]> headers = new ArrayList<>();
        for (int i = 1; i < curl.size(); i++) {
            String w = curl.get(i);
            switch (w) {
                case "-H" -> {
                    String h = curl.get(++i);
                    headers.add(new String[] {h.substring(0, h.indexOf(':')).trim(), h.substring(h.indexOf(':') + 1).trim()});
                }
                case "-X" -> method = curl.get(++i);
                case "--data-binary" -> body = curl.get(++i).getBytes(StandardCharsets.UTF_8);
                case "--data", "-d" -> throw new AssertionError("the tour uses curl --data, which stores a form content type: " + curl);
                case "-o", "-w" -> i++;
                case "-i", "-s" -> { }
                default -> {
                    if (w.startsWith("-")) {
                        throw new AssertionError("an option this test does not know: " + w);
                    }
                    url = w;
                }
            }
        }
        URI given = URI.create(url);
        HttpRequest.Builder b = HttpRequest.newBuilder(node.uri(given.getRawPath() + (given.getRawQuery() == null ? "" : "?" + given.getRawQuery())))
                .method(method != null ? method : body != null ? "POST" : "GET",
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        headers.forEach(h -> b.header(h[0], h[1]));
        return node.send(b);
    }

    private record Command(String text, String comment) {}

    /** The tour's commands: lines joined while a quote is open, the trailing {@code # comment} and any {@code | pipe} split off. */
    private static List<Command> commands(String block) {
        List<Command> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String line : block.split("\n")) {
            if (pending.isEmpty() && (line.isBlank() || line.strip().startsWith("#"))) {
                continue;
            }
            pending.append(pending.isEmpty() ? "" : "\n").append(line);
            if (openQuote(pending.toString())) {
                continue;
            }
            String text = pending.toString();
            pending.setLength(0);
            String comment = "";
            int hash = unquoted(text, " #");
            if (hash >= 0) {
                comment = text.substring(hash + 2).strip();
                text = text.substring(0, hash).strip();
            }
            int pipe = unquoted(text, " | ");
            if (pipe >= 0) {
                text = text.substring(0, pipe).strip();
            }
            out.add(new Command(text, comment));
        }
        return out;
    }

    /** Whether a quote is still open at the end of {@code s} (a {@code # comment} outside quotes ends the line). */
    private static boolean openQuote(String s) {
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote == 0 && ch == '#' && (i == 0 || Character.isWhitespace(s.charAt(i - 1)))) {
                int eol = s.indexOf('\n', i);
                if (eol < 0) {
                    return false;
                }
                i = eol;
                continue;
            }
            if (quote == 0 && (ch == '\'' || ch == '"')) {
                quote = ch;
            } else if (ch == quote) {
                quote = 0;
            }
        }
        return quote != 0;
    }

    private static int unquoted(String s, String what) {
        char quote = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (quote == 0 && s.startsWith(what, i)) {
                return i;
            }
            if (quote == 0 && (ch == '\'' || ch == '"')) {
                quote = ch;
            } else if (ch == quote) {
                quote = 0;
            }
        }
        return -1;
    }

    /** Shell words: single quotes literal, double quotes and bare words with {@code $VAR} expanded. */
    static List<String> tokens(String s, Map<String, String> vars) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\'') {
                int end = s.indexOf('\'', i + 1);
                w.append(s, i + 1, end);
                i = end;
                inWord = true;
            } else if (ch == '"') {
                int end = s.indexOf('"', i + 1);
                w.append(expand(s.substring(i + 1, end), vars));
                i = end;
                inWord = true;
            } else if (Character.isWhitespace(ch)) {
                if (inWord) {
                    words.add(w.toString());
                    w.setLength(0);
                    inWord = false;
                }
            } else if (ch == '$' && i + 1 < s.length() && Character.isLetter(s.charAt(i + 1))) {
                int end = i + 1;
                while (end < s.length() && (Character.isLetterOrDigit(s.charAt(end)) || s.charAt(end) == '_')) {
                    end++;
                }
                w.append(vars.getOrDefault(s.substring(i + 1, end), ""));
                i = end - 1;
                inWord = true;
            } else {
                w.append(ch);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(w.toString());
        }
        return words;
    }

    private static String expand(String s, Map<String, String> vars) {
        Matcher m = Pattern.compile("\\$([A-Za-z_][A-Za-z0-9_]*)").matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(vars.getOrDefault(m.group(1), "")));
        }
        m.appendTail(out);
        return out.toString();
    }
}
