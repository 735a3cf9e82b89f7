package io.cairn.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;

/**
 * Writes the HTTP/1.1 requests for one target as raw bytes: the constant parts are encoded once,
 * so a request costs one pooled buffer, the key's digits and (for a put) a copy of the value.
 *
 * <p>Values are slices of a pool of random bytes at a random offset, so consecutive puts carry
 * different bytes without generating fresh randomness per request.
 */
final class RequestEncoder {
  /** Room for a value to start at this many different offsets of the pool. */
  static final int VALUE_OFFSETS = 4096;

  private final byte[][] heads = new byte[Operation.values().length][];
  private final byte[] bodilessTail;
  private final byte[] putTail;
  // Invariant: valuePool.length == valueSize + VALUE_OFFSETS.
  private final byte[] valuePool;
  private final int valueSize;

  RequestEncoder(
      Target target,
      String keyPrefix,
      String query,
      List<Map.Entry<String, String>> headers,
      int valueSize,
      RandomGenerator random) {
    String encodedPrefix = encodePathSegment(keyPrefix);
    for (Operation op : Operation.values()) {
      heads[op.ordinal()] = ascii(op.name() + " " + target.basePath() + "/kv/" + encodedPrefix);
    }
    StringBuilder tail = new StringBuilder();
    if (query != null && !query.isEmpty()) {
      tail.append('?').append(query);
    }
    tail.append(" HTTP/1.1\r\nHost: ").append(target.authority()).append("\r\n");
    for (Map.Entry<String, String> header : headers) {
      tail.append(header.getKey()).append(": ").append(header.getValue()).append("\r\n");
    }
    this.bodilessTail = ascii(tail + "\r\n");
    this.putTail =
        ascii(
            tail
                + "Content-Type: application/octet-stream\r\nContent-Length: "
                + valueSize
                + "\r\n\r\n");
    this.valueSize = valueSize;
    this.valuePool = new byte[valueSize + VALUE_OFFSETS];
    random.nextBytes(valuePool);
  }

  ByteBuf encode(ByteBufAllocator alloc, Operation op, long keyIndex, RandomGenerator random) {
    byte[] head = heads[op.ordinal()];
    boolean put = op == Operation.PUT;
    byte[] tail = put ? putTail : bodilessTail;
    ByteBuf buf = alloc.ioBuffer(head.length + 20 + tail.length + (put ? valueSize : 0));
    buf.writeBytes(head);
    writeDecimal(buf, keyIndex);
    buf.writeBytes(tail);
    if (put) {
      buf.writeBytes(valuePool, random.nextInt(VALUE_OFFSETS + 1), valueSize);
    }
    return buf;
  }

  static void writeDecimal(ByteBuf buf, long value) {
    if (value < 0) {
      throw new IllegalArgumentException("negative key index " + value);
    }
    int digits = 1;
    for (long v = value; v >= 10; v /= 10) {
      digits++;
    }
    buf.ensureWritable(digits);
    int start = buf.writerIndex();
    long v = value;
    for (int i = start + digits - 1; i >= start; i--) {
      buf.setByte(i, '0' + (int) (v % 10));
      v /= 10;
    }
    buf.writerIndex(start + digits);
  }

  /** Percent-encodes everything but RFC 3986 unreserved characters. */
  static String encodePathSegment(String segment) {
    StringBuilder out = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '.'
          || c == '_'
          || c == '~') {
        out.append((char) c);
      } else {
        out.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)));
        out.append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return out.toString();
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
