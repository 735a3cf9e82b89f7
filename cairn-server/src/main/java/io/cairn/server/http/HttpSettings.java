package io.cairn.server.http;

import java.time.Duration;

/**
 * How the HTTP front end bounds its clients: connections, time and memory.
 *
 * @param maxConnections              connections served at once; more are refused at accept
 * @param reservedOpsConnections      further connections that may only ask /health, /ready or /metrics
 * @param requestTimeout              from a request's last byte to its answer; a request still
 *                                    waiting to run past it is refused, never executed
 * @param headerTimeout               from a request's first byte to the end of its headers (and a new
 *                                    connection's wait for its first byte)
 * @param idleTimeout                 how long a kept-alive connection may sit between requests, and how
 *                                    long a client may leave answers unread before it is dropped
 * @param bodyTimeout                 the grace before {@code minBodyBytesPerSecond} applies to a body
 * @param minBodyBytesPerSecond       after the grace, a body must have arrived at this average rate
 * @param maxPipelinedRequests        requests read ahead of their answers on one connection; past it
 *                                    the connection is not read until answers catch up
 * @param maxInflightBytes            node-wide bytes of requests between head and answer
 * @param maxUnflushedBytes           node-wide bytes of answers not yet taken by sockets
 * @param maxConnectionUnflushedBytes one connection's unflushed answers before it stops being served
 * @param slowReaderTimeout           while either node-wide budget is more than half used, how long a
 *                                    client may leave answers unread before it is dropped (instead of
 *                                    {@code idleTimeout}): the clients holding memory hostage go first
 * @param largeRequestBytes           while the storage engine throttles writes, requests with bodies
 *                                    larger than this are refused ({@code 503 overloaded}) first
 */
public record HttpSettings(int maxConnections, int reservedOpsConnections, int maxHeaderBytes,
                           Duration requestTimeout, Duration headerTimeout, Duration idleTimeout,
                           Duration bodyTimeout, long minBodyBytesPerSecond, int maxPipelinedRequests,
                           long maxInflightBytes, long maxUnflushedBytes, long maxConnectionUnflushedBytes,
                           Duration slowReaderTimeout, long largeRequestBytes) {}
