package io.cairn.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the load tools find the bearer token to send: the file named with {@code --token-file},
 * else {@code $CAIRN_TOKEN}, else {@code ./cairn-data/auth/admin.token} when it is readable (the
 * token a node started with the default data directory writes). The same order as the CLI's.
 */
final class BearerToken {
  static final Path LOCAL_NODE_TOKEN = Path.of("cairn-data", "auth", "admin.token");

  private BearerToken() {}

  /**
   * The token, or null when none is configured anywhere.
   *
   * @throws IllegalArgumentException naming the problem when the file cannot be read or the token
   *     is not something a header can carry
   */
  static String resolve(Path tokenFile, String environment) {
    String token;
    String source;
    try {
      if (tokenFile != null) {
        token = Files.readString(tokenFile).strip();
        source = tokenFile.toString();
      } else if (environment != null && !environment.isBlank()) {
        token = environment.strip();
        source = "$CAIRN_TOKEN";
      } else if (Files.isReadable(LOCAL_NODE_TOKEN)) {
        token = Files.readString(LOCAL_NODE_TOKEN).strip();
        source = LOCAL_NODE_TOKEN.toString();
      } else {
        return null;
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the token file: " + e.getMessage(), e);
    }
    if (token.isEmpty() || !token.chars().allMatch(c -> c > ' ' && c < 127)) {
      throw new IllegalArgumentException(
          "the token from " + source + " is empty or has characters a header cannot carry");
    }
    return token;
  }
}
