package io.cairn.clock;

/**
 * The port through which the core reads physical time; production wires the system clock, the
 * simulator a virtual one.
 */
@FunctionalInterface
public interface Clock {
    /** Milliseconds since the Unix epoch. May jump backwards or forwards; callers must cope. */
    long nowMillis();
}
