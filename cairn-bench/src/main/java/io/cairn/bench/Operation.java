package io.cairn.bench;

import java.util.Locale;

/** A request type of the /kv API, with the statuses that count as success for it. */
enum Operation {
  GET(200, 404),
  PUT(200, -1),
  DELETE(204, -1);

  private final int okStatus;
  private final int notFoundStatus;

  Operation(int okStatus, int notFoundStatus) {
    this.okStatus = okStatus;
    this.notFoundStatus = notFoundStatus;
  }

  /** A GET of a missing key answers 404, which is a success counted apart. */
  boolean isSuccess(int status) {
    return status == okStatus || status == notFoundStatus;
  }

  boolean isNotFound(int status) {
    return status == notFoundStatus;
  }

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }
}
