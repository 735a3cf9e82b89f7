package io.cairn.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One plain-HTTP/1.1 exchange over a socket, for the short commands ({@code get}, {@code put},
 * {@code delete}) on {@code http://} URLs: the JDK's {@code HttpClient} costs a few hundred
 * milliseconds to set up (its TLS context, its selector thread), more than the whole call should
 * take. One request per connection ({@code Connection: close}); answers framed by
 * {@code Content-Length}, chunked, or the end of the connection. {@code https://} URLs keep the
 * JDK client.
 */
final class SlimHttp {
    private static final int MAX_HEADER_LINE = 64 * 1024;
    private static final int MAX_HEADERS = 200;

    private SlimHttp() {}

    /** An answer: status, headers by lower-case name, body. */
    record Response(int status, Map<String, List<String>> headers, byte[] body) {
        String first(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }
    }

    static Response exchange(URI uri, String method, Map<String, String> headers, byte[] body, int timeoutMillis) throws IOException {
        String host = uri.getHost();
        int port = uri.getPort() < 0 ? 80 : uri.getPort();
        String path = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        StringBuilder head = new StringBuilder(256);
        head.append(method).append(' ').append(path.isEmpty() ? "/" : path).append(" HTTP/1.1\r\n");
        head.append("Host: ").append(host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host).append(':').append(port).append("\r\n");
        head.append("Connection: close\r\n");
        if (body != null) {
            head.append("Content-Length: ").append(body.length).append("\r\n");
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            if (h.getValue().indexOf('\r') >= 0 || h.getValue().indexOf('\n') >= 0) {
                throw new Main.UsageException("the " + h.getKey() + " value contains a line break");
            }
            head.append(h.getKey()).append(": ").append(h.getValue()).append("\r\n");
        }
        head.append("\r\n");
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
            if (body != null) {
                out.write(body);
            }
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String statusLine = line(in);
            String[] parts = statusLine.split(" ", 3);
            if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP answer: " + statusLine);
            }
            int status;
            try {
                status = Integer.parseInt(parts[1]);
            } catch (NumberFormatException e) {
                throw new IOException("not an HTTP status: " + statusLine);
            }
            Map<String, List<String>> answer = new LinkedHashMap<>();
            for (int i = 0; ; i++) {
                String line = line(in);
                if (line.isEmpty()) {
                    break;
                }
                if (i >= MAX_HEADERS) {
                    throw new IOException("more than " + MAX_HEADERS + " headers");
                }
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw new IOException("malformed header line: " + line);
                }
                answer.computeIfAbsent(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), k -> new ArrayList<>())
                        .add(line.substring(colon + 1).trim());
            }
            byte[] content;
            String length = answer.containsKey("content-length") ? answer.get("content-length").get(0) : null;
            String encoding = answer.containsKey("transfer-encoding") ? answer.get("transfer-encoding").get(0) : null;
            if (method.equals("HEAD") || status == 204 || status == 304 || status / 100 == 1) {
                content = new byte[0];
            } else if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
                content = chunked(in);
            } else if (length != null) {
                long n;
                try {
                    n = Long.parseLong(length);
                } catch (NumberFormatException e) {
                    throw new IOException("bad Content-Length " + length);
                }
                if (n < 0 || n > Integer.MAX_VALUE - 8) {
                    throw new IOException("bad Content-Length " + length);
                }
                content = in.readNBytes((int) n);
                if (content.length != n) {
                    throw new IOException("the answer ended after " + content.length + " of " + n + " bytes");
                }
            } else {
                content = in.readAllBytes();
            }
            return new Response(status, answer, content);
        }
    }

    private static byte[] chunked(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String size = line(in);
            int semi = size.indexOf(';');
            long n;
            try {
                n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
            } catch (NumberFormatException e) {
                throw new IOException("bad chunk size " + size);
            }
            if (n == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return out.toByteArray();
            }
            if (n < 0 || out.size() + n > Integer.MAX_VALUE - 8) {
                throw new IOException("bad chunk size " + size);
            }
            byte[] chunk = in.readNBytes((int) n);
            if (chunk.length != n) {
                throw new IOException("the answer ended inside a chunk");
            }
            out.write(chunk);
            line(in);
        }
    }

    /** One CRLF- (or LF-) terminated line, without its terminator. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(64);
        while (true) {
            int c = in.read();
            if (c < 0) {
                throw new IOException("the connection closed mid-answer");
            }
            if (c == '\n') {
                break;
            }
            if (b.size() >= MAX_HEADER_LINE) {
                throw new IOException("an answer line over " + MAX_HEADER_LINE + " bytes");
            }
            b.write(c);
        }
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }
}
