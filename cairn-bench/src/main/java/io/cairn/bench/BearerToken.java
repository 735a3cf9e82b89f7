package io.cairn.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the load tools find the bearer token to send: the file named with {@code --token-file},
 * else {@code $CAIRN_TOKEN}, else {@code ./cairn-data/auth/admin.token} when it is readable (the
 * token a node started with the default data directory writes). The same order as the CLI's.
 */
public final class BearerToken {
  static final Path LOCAL_NODE_TOKEN = Path.of("cairn-data", "auth", "admin.token");
  /** A token file is a line of text; more than this is not one (say, --token-file /dev/zero). */
  public static final int MAX_TOKEN_FILE_BYTES = 4096;

  private BearerToken() {}

  /**
   * The token in {@code file}, stripped of surrounding white space.
   *
   * @throws IOException when it cannot be read, is over {@link #MAX_TOKEN_FILE_BYTES} or holds
   *     what a header cannot carry
   */
  public static String read(Path file) throws IOException {
    try (java.io.InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_TOKEN_FILE_BYTES + 1);
      if (bytes.length > MAX_TOKEN_FILE_BYTES) {
        throw new IOException(file + " holds more than " + MAX_TOKEN_FILE_BYTES + " bytes: not a token file");
      }
      String token = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1).strip();
      if (!carriable(token)) {
        throw new IOException(file + " is empty or has characters a header cannot carry: not a token file");
      }
      return token;
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("no such token file: " + file, e);
    } catch (java.nio.file.AccessDeniedException e) {
      throw new IOException("no permission to read the token file " + file, e);
    }
  }

  /** Whether a header can carry {@code token}: visible ASCII, at least one character. */
  public static boolean carriable(String token) {
    return !token.isEmpty() && token.chars().allMatch(c -> c > ' ' && c < 127);
  }

  /**
   * The token, or null when none is configured anywhere.
   *
   * @throws IllegalArgumentException naming the problem when the file cannot be read or the token
   *     is not something a header can carry
   */
  static String resolve(Path tokenFile, String environment) {
    try {
      if (tokenFile != null) {
        return read(tokenFile);
      }
      if (environment != null && !environment.isBlank()) {
        String token = environment.strip();
        if (!carriable(token)) {
          throw new IllegalArgumentException("the token in $CAIRN_TOKEN has characters a header cannot carry");
        }
        return token;
      }
      return Files.isReadable(LOCAL_NODE_TOKEN) ? read(LOCAL_NODE_TOKEN) : null;
    } catch (IOException e) {
      // read() refused it: unreadable, too large, or not something a header can carry.
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }
}
