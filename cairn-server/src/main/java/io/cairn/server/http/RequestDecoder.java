package io.cairn.server.http;

import io.cairn.error.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * Cairn's strict HTTP/1.1 request decoder: cuts a connection's bytes into request heads, body
 * chunks and ends, and refuses anything ambiguous instead of guessing.
 *
 * <p><b>Why our own.</b> A database must never store a prefix of a body the client did not finish
 * sending, nor read two requests where a proxy read one. Netty's decoder is lenient on purpose
 * (it replaces obsolete line folding, serves any {@code HTTP/x.y}, and hands a body on as
 * finished when a chunk size is malformed); this one fails instead. Owning the decoder also lets
 * the connection handler pause parsing at a request boundary (pipelining backpressure) and see
 * which phase a slow client is in (header and body timeouts).
 *
 * <p><b>The grammar accepted</b> (RFC 9112, strictly): a request line {@code method SP target SP
 * HTTP/1.1} (or {@code HTTP/1.0}) ending in CRLF — bare LF or CR anywhere is an error; header
 * lines {@code name ":" OWS value OWS CRLF} with a token name, no space before the colon, no
 * control characters in the value and no obsolete line folding; then exactly one framing: no
 * body, one {@code Content-Length} of plain digits, or {@code Transfer-Encoding: chunked} alone
 * (both together is an error, any other coding is unsupported). Chunk sizes are hex without
 * sign or space, optionally followed by extensions, and each chunk's data must end in CRLF.
 * Trailer fields are checked like headers, bounded by the header limit, and ignored. Empty lines
 * before a request line are skipped, as RFC 9112 §2.2 allows.
 *
 * <p><b>What comes out</b>: {@link Head}, then zero or more {@link Body} chunks (retained slices
 * the receiver must release, each at most {@code maxChunkBytes}), then {@link #END}; or, on the
 * first error, one {@link Malformed} and nothing more ever — every byte after it is discarded.
 * A body cut short by the connection closing simply never ends.
 *
 * <p><b>Bounds</b>: the request line and the header block are bounded by bytes; nothing is
 * buffered beyond one incomplete line plus what the socket delivered in one read.
 */
final class RequestDecoder extends ByteToMessageDecoder {
    /** A request's method, target, version and headers, and how its body is framed. */
    record Head(HttpMethod method, String uri, HttpVersion version, HttpHeaders headers, long contentLength, boolean chunked,
                boolean keepAlive, boolean expectContinue) {
        boolean hasBody() {
            return chunked || contentLength > 0;
        }
    }

    /** A piece of the body; the receiver owns (and must release) the buffer. */
    record Body(ByteBuf content) {}

    /** The body (if any) is complete. */
    static final Object END = new Object() {
        @Override
        public String toString() {
            return "END";
        }
    };

    /** The request is malformed; the decoder has stopped for good. */
    record Malformed(ErrorCode code, String message) {}

    /** Where the decoder is, as the connection's timeouts need to know. */
    enum Phase {
        /** Between requests: no byte of the next request has arrived. */
        IDLE,
        /** Some of a request line or header block has arrived, not all of it. */
        HEAD,
        /** Reading a body. */
        BODY,
        /** Stopped: failed, or told to read no further requests. */
        STOPPED
    }

    private enum State { REQUEST_LINE, HEADERS, FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS, STOPPED }

    private static final int MAX_CHUNK_SIZE_LINE = 1024;
    private static final int MAX_HEX_DIGITS = 15; // keeps a chunk size below 2^60, far past any body limit
    private static final int MAX_LENGTH_DIGITS = 18;

    private final int maxInitialLineBytes;
    private final int maxHeaderBytes;
    private final int maxChunkBytes;

    private State state = State.REQUEST_LINE;
    private boolean paused;
    // Set by the first byte of a request, for the header timeout; 0 between requests.
    private long requestStartNanos;
    // Bytes of the header block (or trailer block) read so far, against maxHeaderBytes.
    private int headerBytes;
    // The request line, until the headers are complete.
    private HttpMethod method;
    private String uri;
    private HttpVersion version;
    private HttpHeaders headers;
    // Body bytes still to come in the fixed body or the current chunk.
    private long remaining;
    // Bytes of the current, incomplete line already scanned for its CRLF.
    private int scanned;

    RequestDecoder(int maxInitialLineBytes, int maxHeaderBytes, int maxChunkBytes) {
        this.maxInitialLineBytes = maxInitialLineBytes;
        this.maxHeaderBytes = maxHeaderBytes;
        this.maxChunkBytes = maxChunkBytes;
    }

    Phase phase() {
        return switch (state) {
            case REQUEST_LINE -> requestStartNanos == 0 ? Phase.IDLE : Phase.HEAD;
            case HEADERS -> Phase.HEAD;
            case FIXED_BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_END, TRAILERS -> Phase.BODY;
            case STOPPED -> Phase.STOPPED;
        };
    }

    /** When the first byte of the request in progress arrived ({@link System#nanoTime()}). */
    long requestStartNanos() {
        return requestStartNanos;
    }

    /** Parses no further request until {@link #resume}; a request in progress is finished. */
    void pause() {
        paused = true;
    }

    /** Parses again, starting with what arrived while paused. */
    void resume(ChannelHandlerContext ctx) {
        if (paused) {
            paused = false;
            if (state != State.STOPPED && ctx.channel().isActive()) {
                // Decodes what is already buffered; an empty read adds nothing.
                ctx.pipeline().fireChannelRead(Unpooled.EMPTY_BUFFER);
            }
        }
    }

    /** Reads no further requests; everything after the current one is discarded. */
    void stop() {
        state = State.STOPPED;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int before = in.readableBytes();
            int produced = out.size();
            step(in, out);
            if (state == State.STOPPED || (before == in.readableBytes() && produced == out.size())) {
                break;
            }
        }
        if (state == State.STOPPED) {
            in.skipBytes(in.readableBytes());
        }
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        // A request cut short by the peer closing is dropped: its head or body never completes.
        decode(ctx, in, out);
    }

    private void step(ByteBuf in, List<Object> out) {
        try {
            switch (state) {
                case REQUEST_LINE -> requestLine(in);
                case HEADERS -> headerLine(in, out);
                case FIXED_BODY -> {
                    int n = (int) Math.min(Math.min(remaining, in.readableBytes()), maxChunkBytes);
                    out.add(new Body(in.readRetainedSlice(n)));
                    remaining -= n;
                    if (remaining == 0) {
                        endRequest(out);
                    }
                }
                case CHUNK_SIZE -> chunkSize(in);
                case CHUNK_DATA -> {
                    int n = (int) Math.min(Math.min(remaining, in.readableBytes()), maxChunkBytes);
                    out.add(new Body(in.readRetainedSlice(n)));
                    remaining -= n;
                    if (remaining == 0) {
                        state = State.CHUNK_END;
                    }
                }
                case CHUNK_END -> {
                    if (in.readableBytes() >= 2) {
                        if (in.readByte() != '\r' || in.readByte() != '\n') {
                            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "chunk data is not followed by CRLF");
                        }
                        state = State.CHUNK_SIZE;
                    }
                }
                case TRAILERS -> trailerLine(in, out);
                case STOPPED -> in.skipBytes(in.readableBytes());
            }
        } catch (Refusal r) {
            state = State.STOPPED;
            out.add(new Malformed(r.code, r.getMessage()));
        }
    }

    private void requestLine(ByteBuf in) {
        if (paused) {
            return;
        }
        if (requestStartNanos == 0) {
            requestStartNanos = System.nanoTime();
        }
        int end = lineEnd(in, maxInitialLineBytes, ErrorCode.HEADERS_TOO_LARGE, "the request line is longer than " + maxInitialLineBytes + " bytes");
        if (end < 0) {
            return;
        }
        int length = end - in.readerIndex();
        if (length == 0) {
            // An empty line before the request line (RFC 9112 §2.2): skipped, but it counts
            // toward the header block so a stream of them cannot go on forever.
            in.skipBytes(2);
            addHeaderBytes(2);
            return;
        }
        String line = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
        in.skipBytes(length + 2);
        addHeaderBytes(length + 2);
        int sp1 = line.indexOf(' ');
        int sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
        if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request line must be 'METHOD target HTTP/1.1'");
        }
        String m = line.substring(0, sp1);
        String target = line.substring(sp1 + 1, sp2);
        String v = line.substring(sp2 + 1);
        if (!isToken(m)) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the method is not a token");
        }
        if (target.isEmpty() || !isVisible(target)) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request target is empty or contains control characters");
        }
        version = switch (v) {
            case "HTTP/1.1" -> HttpVersion.HTTP_1_1;
            case "HTTP/1.0" -> HttpVersion.HTTP_1_0;
            default -> {
                if (v.length() == 8 && v.startsWith("HTTP/") && isDigit(v.charAt(5)) && v.charAt(6) == '.' && isDigit(v.charAt(7))) {
                    throw new Refusal(ErrorCode.HTTP_VERSION_NOT_SUPPORTED, v + " is not supported; use HTTP/1.1");
                }
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request line does not end in an HTTP version");
            }
        };
        if (target.indexOf('#') >= 0) {
            // A fragment never goes to a server (RFC 9112 §3.2): cutting it off would quietly address
            // another key than the client named (order#42 as order).
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request target contains '#', which no request target may carry;"
                    + " a key with '#' sends it percent-encoded, as %23");
        }
        method = HttpMethod.valueOf(m);
        uri = originForm(target);
        headers = DefaultHttpHeadersFactory.headersFactory().withValidation(false).newHeaders();
        state = State.HEADERS;
    }

    private void headerLine(ByteBuf in, List<Object> out) {
        int end = lineEnd(in, maxHeaderBytes - headerBytes, ErrorCode.HEADERS_TOO_LARGE, "the headers are larger than " + maxHeaderBytes + " bytes");
        if (end < 0) {
            return;
        }
        int length = end - in.readerIndex();
        addHeaderBytes(length + 2);
        if (length == 0) {
            in.skipBytes(2);
            endHead(out);
            return;
        }
        String line = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
        in.skipBytes(length + 2);
        field(line, headers);
    }

    private void trailerLine(ByteBuf in, List<Object> out) {
        int end = lineEnd(in, maxHeaderBytes - headerBytes, ErrorCode.HEADERS_TOO_LARGE, "the trailer fields are larger than " + maxHeaderBytes + " bytes");
        if (end < 0) {
            return;
        }
        int length = end - in.readerIndex();
        addHeaderBytes(length + 2);
        String line = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
        in.skipBytes(length + 2);
        if (length == 0) {
            endRequest(out);
            return;
        }
        // Checked like a header, then ignored: nothing in Cairn reads trailers.
        field(line, DefaultHttpHeadersFactory.trailersFactory().withValidation(false).newHeaders());
    }

    /**
     * The absolute form of a request target ({@code http://host:port/kv/a?r=2}), which RFC 9112
     * §3.2.2 has a server accept, as the origin form the routes read ({@code /kv/a?r=2}); any other
     * target as it is.
     */
    static String originForm(String target) {
        int schemeEnd = target.indexOf("://");
        if (schemeEnd <= 0 || target.charAt(0) == '/') {
            return target;
        }
        String scheme = target.substring(0, schemeEnd);
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request target's scheme must be http or https in the absolute form");
        }
        int authorityStart = schemeEnd + 3;
        int pathStart = authorityStart;
        while (pathStart < target.length() && target.charAt(pathStart) != '/' && target.charAt(pathStart) != '?') {
            pathStart++;
        }
        if (pathStart == authorityStart) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "the request target's absolute form has no host");
        }
        String rest = target.substring(pathStart);
        return rest.isEmpty() ? "/" : rest.charAt(0) == '?' ? "/" + rest : rest;
    }

    /** Parses one field line into {@code into}. */
    private static void field(String line, HttpHeaders into) {
        char first = line.charAt(0);
        if (first == ' ' || first == '\t') {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "obsolete line folding (a header line starting with whitespace) is not accepted");
        }
        int colon = line.indexOf(':');
        if (colon <= 0) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "a header line has no name or no colon");
        }
        String name = line.substring(0, colon);
        if (!isToken(name)) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "header name '" + printable(name) + "' is not a token (no spaces before the colon)");
        }
        int from = colon + 1;
        int to = line.length();
        while (from < to && isOws(line.charAt(from))) {
            from++;
        }
        while (to > from && isOws(line.charAt(to - 1))) {
            to--;
        }
        for (int i = from; i < to; i++) {
            char c = line.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "header " + name + " contains a control character");
            }
        }
        into.add(name, line.substring(from, to));
    }

    private void endHead(List<Object> out) {
        boolean http11 = version == HttpVersion.HTTP_1_1;
        List<String> hosts = headers.getAll(HttpHeaderNames.HOST);
        if (http11 && hosts.size() != 1) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, hosts.isEmpty() ? "an HTTP/1.1 request needs a Host header" : "Host is given more than once");
        }
        List<String> lengths = headers.getAll(HttpHeaderNames.CONTENT_LENGTH);
        List<String> codings = headers.getAll(HttpHeaderNames.TRANSFER_ENCODING);
        long contentLength = 0;
        boolean chunked = false;
        if (!codings.isEmpty()) {
            if (!lengths.isEmpty()) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Content-Length and Transfer-Encoding cannot both frame a body");
            }
            if (!http11) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Transfer-Encoding is not allowed in HTTP/1.0");
            }
            if (codings.size() > 1) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Transfer-Encoding is given more than once");
            }
            if (!codings.get(0).equalsIgnoreCase("chunked")) {
                throw new Refusal(ErrorCode.UNSUPPORTED_TRANSFER_ENCODING, "only Transfer-Encoding: chunked is supported");
            }
            chunked = true;
        } else if (!lengths.isEmpty()) {
            if (lengths.size() != 1) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Content-Length is given more than once");
            }
            contentLength = contentLength(lengths.get(0));
        }
        boolean keepAlive = keepAlive(http11, headers.getAll(HttpHeaderNames.CONNECTION));
        boolean expectContinue = http11 && expectsContinue(headers.getAll(HttpHeaderNames.EXPECT));
        out.add(new Head(method, uri, version, headers, chunked ? -1 : contentLength, chunked, keepAlive, expectContinue));
        method = null;
        uri = null;
        headers = null;
        if (chunked) {
            state = State.CHUNK_SIZE;
        } else if (contentLength > 0) {
            remaining = contentLength;
            state = State.FIXED_BODY;
        } else {
            endRequest(out);
        }
    }

    /**
     * Whether the {@code Expect} headers ask for {@code 100 Continue}; any other expectation is
     * one this server cannot meet, and RFC 9110 §10.1.1 lets it answer 417 rather than guess.
     */
    private static boolean expectsContinue(List<String> expect) {
        boolean asked = false;
        for (String value : expect) {
            for (String member : value.split(",", -1)) {
                String m = member.trim();
                if (!m.equalsIgnoreCase("100-continue")) {
                    throw new Refusal(ErrorCode.EXPECTATION_FAILED, "Expect: '" + printable(m) + "' cannot be met; only 100-continue is supported");
                }
                asked = true;
            }
        }
        return asked;
    }

    private static long contentLength(String text) {
        if (text.isEmpty() || text.length() > MAX_LENGTH_DIGITS) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Content-Length must be 1 to " + MAX_LENGTH_DIGITS + " digits");
        }
        long n = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!isDigit(c)) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "Content-Length must be a plain decimal number, got '" + printable(text) + "'");
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private static boolean keepAlive(boolean http11, List<String> connection) {
        boolean close = false;
        boolean keepAlive = false;
        for (String value : connection) {
            for (String token : value.split(",")) {
                String t = token.trim().toLowerCase(Locale.ROOT);
                close |= t.equals("close");
                keepAlive |= t.equals("keep-alive");
            }
        }
        return !close && (http11 || keepAlive);
    }

    private void chunkSize(ByteBuf in) {
        int end = lineEnd(in, MAX_CHUNK_SIZE_LINE, ErrorCode.MALFORMED_REQUEST, "a chunk-size line is longer than " + MAX_CHUNK_SIZE_LINE + " bytes");
        if (end < 0) {
            return;
        }
        int length = end - in.readerIndex();
        String line = in.toString(in.readerIndex(), length, StandardCharsets.ISO_8859_1);
        in.skipBytes(length + 2);
        int digits = 0;
        long size = 0;
        while (digits < line.length() && Character.digit(line.charAt(digits), 16) >= 0 && line.charAt(digits) < 0x80) {
            if (digits == MAX_HEX_DIGITS) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "a chunk size has more than " + MAX_HEX_DIGITS + " hex digits");
            }
            size = size * 16 + Character.digit(line.charAt(digits), 16);
            digits++;
        }
        if (digits == 0) {
            throw new Refusal(ErrorCode.MALFORMED_REQUEST, "invalid chunk size '" + printable(line) + "'");
        }
        if (digits < line.length()) {
            // Only chunk extensions may follow: ";" after optional whitespace, no control characters.
            String rest = line.substring(digits).stripLeading();
            if (!rest.startsWith(";") || !isVisibleOrSpace(rest)) {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "invalid chunk size '" + printable(line) + "'");
            }
        }
        if (size == 0) {
            headerBytes = 0;
            state = State.TRAILERS;
        } else {
            remaining = size;
            state = State.CHUNK_DATA;
        }
    }

    private void endRequest(List<Object> out) {
        out.add(END);
        headerBytes = 0;
        requestStartNanos = 0;
        if (state != State.STOPPED) {
            state = State.REQUEST_LINE;
        }
    }

    private void addHeaderBytes(int n) {
        headerBytes += n;
        if (headerBytes > maxHeaderBytes) {
            throw new Refusal(ErrorCode.HEADERS_TOO_LARGE, "the request line and headers are larger than " + maxHeaderBytes + " bytes");
        }
    }

    /**
     * The index of the CR of the next CRLF, or -1 when no full line has arrived yet; a bare CR
     * or LF, or a line longer than {@code max}, is refused. Scanning resumes where the last call
     * stopped, so a line trickling in a byte at a time costs linear time, not quadratic.
     */
    private int lineEnd(ByteBuf in, int max, ErrorCode tooLong, String tooLongMessage) {
        int start = in.readerIndex();
        int limit = in.writerIndex();
        for (int i = start + scanned; i < limit; i++) {
            byte b = in.getByte(i);
            if (b == '\n') {
                throw new Refusal(ErrorCode.MALFORMED_REQUEST, "a line ends in a bare LF; lines must end in CRLF");
            }
            if (b == '\r') {
                if (i + 1 == limit) {
                    scanned = i - start;
                    return -1;
                }
                if (in.getByte(i + 1) != '\n') {
                    throw new Refusal(ErrorCode.MALFORMED_REQUEST, "a bare CR inside a line");
                }
                if (i - start > max) {
                    throw new Refusal(tooLong, tooLongMessage);
                }
                scanned = 0;
                return i;
            }
            if (i - start >= max) {
                throw new Refusal(tooLong, tooLongMessage);
            }
        }
        scanned = limit - start;
        return -1;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** No controls, spaces or DEL; bytes above 0x7F pass (raw UTF-8 in a key is accepted as its escaped form). */
    private static boolean isVisible(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= 0x20 || c == 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static boolean isVisibleOrSpace(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c < 0x20 && c != '\t') || c == 0x7F) {
                return false;
            }
        }
        return true;
    }

    private static boolean isOws(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Text for an error message: at most 64 characters, control characters escaped. */
    private static String printable(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 64; i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c >= 0x7F) {
                b.append(String.format("\\x%02x", (int) c & 0xFF));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    /** A malformed request, carried to {@link #step} which turns it into {@link Malformed}. */
    private static final class Refusal extends RuntimeException {
        final ErrorCode code;

        Refusal(ErrorCode code, String message) {
            super(message, null, false, false);
            this.code = code;
        }
    }
}
