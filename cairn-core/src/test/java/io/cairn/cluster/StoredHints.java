package io.cairn.cluster;

import io.cairn.clock.Clock;
import io.cairn.replica.LocalStore;
import io.cairn.storage.StorageEngine;
import java.util.ArrayList;
import java.util.List;

/** For tests: the hints an engine holds, as a node restarting on it would find them. */
public final class StoredHints {
    private StoredHints() {}

    /** Up to {@code limit} hints for {@code target}, oldest first, read through a fresh store. */
    public static List<Hint> pending(StorageEngine engine, Clock clock, int target, int limit) {
        List<Hint> out = new ArrayList<>();
        HintStore reopened = new HintStore(engine, LocalStore.direct(null, engine), clock, 3_600_000);
        reopened.pending(target, limit, out::addAll);
        return out;
    }
}
