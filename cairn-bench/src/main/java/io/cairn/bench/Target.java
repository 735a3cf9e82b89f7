package io.cairn.bench;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * One server the generator sends requests to, parsed from a {@code --url} such as
 * {@code http://127.0.0.1:7070}; {@code basePath} is the URL's path without a trailing slash.
 */
record Target(String host, int port, String basePath) {
  static Target parse(String url) {
    URI uri;
    try {
      uri = new URI(url.strip());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("bad URL '" + url + "': " + e.getMessage(), e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http")) {
      throw new IllegalArgumentException("URL '" + url + "' must start with http://");
    }
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("URL '" + url + "' has no host");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw new IllegalArgumentException(
          "URL '" + url + "' must be scheme, host, port and path only; use --query for a query");
    }
    String path = uri.getRawPath() == null ? "" : uri.getRawPath();
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return new Target(uri.getHost(), uri.getPort() == -1 ? 80 : uri.getPort(), path);
  }

  /** The value of the Host header, which keeps the brackets of an IPv6 literal. */
  String authority() {
    return host + ":" + port;
  }

  /** The host without IPv6 brackets, for socket addresses. */
  String socketHost() {
    return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
  }

  @Override
  public String toString() {
    return "http://" + authority() + basePath;
  }
}
