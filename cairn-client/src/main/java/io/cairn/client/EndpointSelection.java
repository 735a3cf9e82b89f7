package io.cairn.client;

/** How the client spreads requests over its endpoints. */
public enum EndpointSelection {
    /** Each request goes to the next healthy endpoint in turn: load spreads over every node. */
    ROUND_ROBIN,
    /**
     * Requests go to the first healthy endpoint in the order given (a nearby node first, say);
     * the others are used while it is down.
     */
    PREFERRED_FIRST
}
