package io.cairn.cluster;

import io.cairn.message.Message;

/**
 * The port through which the core sends messages to other nodes. Delivery is best effort: a
 * message may be lost, delayed, duplicated or reordered, and the core must cope with all of it.
 * Production wires the Netty internode transport; the simulator a simulated network.
 */
@FunctionalInterface
public interface Transport {
    void send(int toNode, Message message);
}
