package io.cairn.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Loopback ports for tests that must know a node's port before the node binds it (cluster member
 * lists, restarts on the same port). Ports come from below the kernel's ephemeral range (Linux:
 * 32768-60999), where no outgoing connection takes its source port: a port picked with
 * {@code bind(0)} is itself ephemeral, and a client socket, or a peer dialling it while its node
 * is down, can grab it before the node binds it again.
 */
public final class TestPorts {
    private static final int FIRST = 20_000;
    private static final int LAST = 32_000;
    // Every port handed out in this JVM: a test may hold several before any is bound (a spare
    // node's ports, picked when the cluster starts), so one must never be handed out twice.
    private static final java.util.Set<Integer> GIVEN = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private TestPorts() {}

    /** A port of 127.0.0.1 that was free a moment ago, lies outside the ephemeral range and was not handed out before in this JVM. */
    public static int free() {
        for (int attempt = 0; attempt < 1_000; attempt++) {
            int port = ThreadLocalRandom.current().nextInt(FIRST, LAST);
            if (!GIVEN.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                return s.getLocalPort();
            } catch (IOException taken) {
                // Try another.
            }
        }
        throw new IllegalStateException("no free loopback port between " + FIRST + " and " + LAST);
    }
}
