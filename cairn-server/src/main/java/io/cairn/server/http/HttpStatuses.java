package io.cairn.server.http;

import io.cairn.error.ErrorCode;

/**
 * The HTTP status of each error code. The codes belong to the core and mean the same to every
 * front end; how a protocol says them is the protocol's business (the RESP front end maps them to
 * its own error prefixes). The switch is exhaustive, so a new code does not compile until it has
 * a status here.
 */
final class HttpStatuses {
    private HttpStatuses() {}

    static int of(ErrorCode code) {
        return switch (code) {
            case INVALID_KEY, KEY_TOO_LONG, INVALID_TTL, INVALID_HEADER, INVALID_PARAMETER, INVALID_IDEMPOTENCY_KEY, INVALID_QUORUM,
                 CONDITIONAL_WRITE_UNSUPPORTED, MALFORMED_BATCH, MALFORMED_REQUEST, INVALID_MEMBER, INVALID_NAMESPACE, INVALID_SETTING -> 400;
            case UNAUTHENTICATED -> 401;
            case FORBIDDEN -> 403;
            case KEY_NOT_FOUND, ROUTE_NOT_FOUND, TOKEN_NOT_FOUND, NODE_NOT_FOUND, NAMESPACE_NOT_FOUND -> 404;
            case METHOD_NOT_ALLOWED -> 405;
            case REQUEST_TIMEOUT -> 408;
            case IDEMPOTENCY_IN_FLIGHT, MEMBERSHIP_CONFLICT, NAMESPACE_CONFLICT -> 409;
            case PRECONDITION_FAILED -> 412;
            case TOO_MANY_OPERATIONS, VALUE_TOO_LARGE, BODY_TOO_LARGE, RESPONSE_TOO_LARGE -> 413;
            case UNSUPPORTED_MEDIA_TYPE -> 415;
            case EXPECTATION_FAILED -> 417;
            case IDEMPOTENCY_KEY_REUSED, MEMBERSHIP_UNSAFE -> 422;
            case HEADERS_TOO_LARGE -> 431;
            case CORRUPT_RECORD, INTERNAL -> 500;
            case UNSUPPORTED_TRANSFER_ENCODING -> 501;
            case OVERLOADED, STORAGE_STALLED, STORAGE_FAILED, NOT_READY, QUORUM_UNAVAILABLE, CLOCK_UNSAFE, EPOCH_MISMATCH, AUTH_UNAVAILABLE,
                 METADATA_UNAVAILABLE, CONTENTION, NOT_A_MEMBER -> 503;
            case OUTCOME_UNKNOWN, READ_TIMEOUT -> 504;
            case HTTP_VERSION_NOT_SUPPORTED -> 505;
        };
    }
}
