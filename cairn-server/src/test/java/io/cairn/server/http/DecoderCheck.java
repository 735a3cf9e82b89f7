package io.cairn.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.error.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Runs bytes through a {@link RequestDecoder} (in one piece or cut at given points) and checks
 * what comes out against the decoder's contract; shared by its fuzz target and its properties.
 */
final class DecoderCheck {
    static final int MAX_LINE = 1024;
    static final int MAX_HEADERS = 4096;
    static final int MAX_CHUNK = 64;
    private static final Set<ErrorCode> REFUSALS = Set.of(ErrorCode.MALFORMED_REQUEST, ErrorCode.HEADERS_TOO_LARGE,
            ErrorCode.HTTP_VERSION_NOT_SUPPORTED, ErrorCode.UNSUPPORTED_TRANSFER_ENCODING);

    private DecoderCheck() {}

    /** What the decoder said, with bodies joined per request, as comparable text. */
    record Transcript(List<String> events) {}

    /** Decodes {@code input} delivered in pieces ending at {@code cuts} (ascending offsets). */
    static Transcript decode(byte[] input, int[] cuts) {
        EmbeddedChannel ch = new EmbeddedChannel(new RequestDecoder(MAX_LINE, MAX_HEADERS, MAX_CHUNK));
        List<String> events = new ArrayList<>();
        State state = new State();
        int from = 0;
        for (int cut : cuts) {
            int to = Math.min(Math.max(cut, from), input.length);
            feed(ch, input, from, to, events, state);
            from = to;
        }
        feed(ch, input, from, input.length, events, state);
        ch.finish();
        collect(ch, events, state);
        if (state.body != null && state.head != null && !state.head.chunked()) {
            assertThat((long) state.body.size()).as("an unfinished fixed body never exceeds its length").isLessThanOrEqualTo(state.head.contentLength());
        }
        return new Transcript(events);
    }

    private static void feed(EmbeddedChannel ch, byte[] input, int from, int to, List<String> events, State state) {
        if (to > from) {
            ch.writeInbound(Unpooled.wrappedBuffer(input, from, to - from));
        }
        ch.checkException();
        collect(ch, events, state);
    }

    /** Decoder output so far, checked against the grammar (Head Body* END)* [Head Body*] [Malformed]. */
    private static final class State {
        RequestDecoder.Head head;
        ByteArrayOutputStream body;
        boolean malformed;
    }

    private static void collect(EmbeddedChannel ch, List<String> events, State s) {
        Object o;
        while ((o = ch.readInbound()) != null) {
            assertThat(s.malformed).as("nothing follows a refusal, got " + o).isFalse();
            switch (o) {
                case RequestDecoder.Head h -> {
                    assertThat(s.head).as("a head while a request is open").isNull();
                    assertThat(h.chunked() ? h.contentLength() == -1 : h.contentLength() >= 0).isTrue();
                    s.head = h;
                    s.body = new ByteArrayOutputStream();
                    events.add("HEAD " + h.method() + " " + h.uri() + " " + h.version() + " " + h.headers().entries()
                            + " len=" + h.contentLength() + " chunked=" + h.chunked() + " keepAlive=" + h.keepAlive());
                }
                case RequestDecoder.Body b -> {
                    ByteBuf c = b.content();
                    try {
                        assertThat(s.head).as("a body chunk outside a request").isNotNull();
                        assertThat(s.head.hasBody()).isTrue();
                        assertThat(c.readableBytes()).isBetween(1, MAX_CHUNK);
                        byte[] bytes = new byte[c.readableBytes()];
                        c.readBytes(bytes);
                        s.body.writeBytes(bytes);
                    } finally {
                        c.release();
                    }
                }
                case RequestDecoder.Malformed m -> {
                    assertThat(m.code()).isIn(REFUSALS);
                    assertThat(m.message()).isNotBlank();
                    s.malformed = true;
                    events.add("MALFORMED " + m.code());
                }
                default -> {
                    assertThat(o).isSameAs(RequestDecoder.END);
                    assertThat(s.head).as("an end outside a request").isNotNull();
                    if (!s.head.chunked()) {
                        assertThat((long) s.body.size()).as("a fixed body is exactly its Content-Length").isEqualTo(s.head.contentLength());
                    }
                    events.add("BODY " + java.util.HexFormat.of().formatHex(s.body.toByteArray()));
                    events.add("END");
                    s.head = null;
                    s.body = null;
                }
            }
        }
    }

    /** The decoder's output must not depend on how the bytes were cut into reads. */
    static void checkCutIndependence(byte[] input, int[] cuts) {
        Transcript whole = decode(input, new int[0]);
        Transcript pieces = decode(input, cuts);
        assertThat(pieces.events()).isEqualTo(whole.events());
        Transcript bytewise = input.length <= 2048 ? decode(input, everyOffset(input.length)) : whole;
        assertThat(bytewise.events()).isEqualTo(whole.events());
    }

    private static int[] everyOffset(int n) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
        }
        return all;
    }
}
