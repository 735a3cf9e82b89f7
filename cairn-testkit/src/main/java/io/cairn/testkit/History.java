package io.cairn.testkit;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every client request of a run in invocation order, and which keys have a single writer (only
 * one client writes them, one request at a time), for which the checkers can be exact.
 */
public final class History {
    private final List<Operation> operations = new ArrayList<>();
    private final Map<String, Operation> putsByValue = new TreeMap<>();
    private final Map<String, Integer> singleWriters = new TreeMap<>();

    void declareSingleWriter(String key, int client) {
        singleWriters.put(key, client);
    }

    Operation add(Operation op) {
        operations.add(op);
        if (op.kind == Operation.Kind.PUT) {
            putsByValue.put(new String(op.value, StandardCharsets.UTF_8), op);
        }
        return op;
    }

    public List<Operation> operations() {
        return Collections.unmodifiableList(operations);
    }

    /** The put that wrote this value; every put in a run writes a distinct value. */
    Operation putOf(byte[] value) {
        return putsByValue.get(new String(value, StandardCharsets.UTF_8));
    }

    boolean isSingleWriter(String key) {
        return singleWriters.containsKey(key);
    }

    List<Operation> on(String key) {
        List<Operation> out = new ArrayList<>();
        for (Operation op : operations) {
            if (op.key.equals(key)) {
                out.add(op);
            }
        }
        return out;
    }
}
