package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RequestEncoderTest {
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  @Test
  void writesGetWithQueryAndHeaders() {
    RequestEncoder encoder =
        new RequestEncoder(
            Target.parse("http://127.0.0.1:7070/api/"),
            "bench-",
            "w=2&r=1",
            List.of(Map.entry("X-Trace", "on")),
            100,
            new SplittableRandom(1));
    assertThat(text(encoder.encode(ALLOC, Operation.GET, 12345, new SplittableRandom(2))))
        .isEqualTo("GET /api/kv/bench-12345?w=2&r=1 HTTP/1.1\r\nHost: 127.0.0.1:7070\r\n"
            + "X-Trace: on\r\n\r\n");
  }

  @Test
  void writesPutWithBodyOfValueSize() {
    RequestEncoder encoder =
        new RequestEncoder(
            Target.parse("http://localhost:7070"), "k/", "", List.of(), 5, new SplittableRandom(1));
    ByteBuf buf = encoder.encode(ALLOC, Operation.PUT, 0, new SplittableRandom(2));
    String head =
        "PUT /kv/k%2F0 HTTP/1.1\r\nHost: localhost:7070\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 5\r\n\r\n";
    assertThat(buf.readableBytes()).isEqualTo(head.length() + 5);
    assertThat(buf.toString(0, head.length(), StandardCharsets.US_ASCII)).isEqualTo(head);
    buf.release();
  }

  @Test
  void writesDeleteWithoutBody() {
    RequestEncoder encoder =
        new RequestEncoder(
            Target.parse("http://[::1]:80"), "b", null, List.of(), 100, new SplittableRandom(1));
    ByteBuf buf = encoder.encode(ALLOC, Operation.DELETE, 9_000_000_000L, new SplittableRandom(2));
    assertThat(text(buf))
        .isEqualTo("DELETE /kv/b9000000000 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
  }

  private static String text(ByteBuf buf) {
    try {
      return buf.toString(StandardCharsets.US_ASCII);
    } finally {
      buf.release();
    }
  }
}
