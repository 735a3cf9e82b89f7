package io.cairn.testkit.linearizability;

import java.util.HashMap;
import java.util.Map;

/**
 * A map of independent objects, one per key, each following the same model (for instance a
 * key-value store as a map of {@link RegisterModel registers}). Inputs name their key
 * ({@link Keyed}); outputs are the per-key model's.
 *
 * <p>Its operations are partitioned by key, so the checker searches each key's operations on
 * its own: a history of many keys costs about the sum of its keys, not their product. The state
 * maps each key touched to its object's state; a key whose object is back in its initial state
 * is left out, so equal behaviour gives equal states.
 */
public final class KeyedModel<K, S, I, O> implements Model<Map<K, S>, Keyed<K, I>, O> {
    private final Model<S, I, O> perKey;

    private KeyedModel(Model<S, I, O> perKey) {
        this.perKey = perKey;
    }

    public static <K, S, I, O> KeyedModel<K, S, I, O> of(Model<S, I, O> perKey) {
        return new KeyedModel<>(perKey);
    }

    @Override
    public Map<K, S> initialState() {
        return Map.of();
    }

    @Override
    public Map<K, S> step(Map<K, S> state, Keyed<K, I> input, O output) {
        S next = perKey.step(current(state, input.key()), input.input(), output);
        return next == null ? null : with(state, input.key(), next);
    }

    @Override
    public Map<K, S> stepUnknownOutput(Map<K, S> state, Keyed<K, I> input) {
        S next = perKey.stepUnknownOutput(current(state, input.key()), input.input());
        return next == null ? null : with(state, input.key(), next);
    }

    @Override
    public Object partitionKey(Keyed<K, I> input) {
        return input.key();
    }

    private S current(Map<K, S> state, K key) {
        S s = state.get(key);
        return s == null ? perKey.initialState() : s;
    }

    private Map<K, S> with(Map<K, S> state, K key, S value) {
        boolean initial = value.equals(perKey.initialState());
        if (state.isEmpty() || state.size() == 1 && state.containsKey(key)) {
            return initial ? Map.of() : Map.of(key, value); // the usual case: one key per partition
        }
        Map<K, S> copy = new HashMap<>(state);
        if (initial) {
            copy.remove(key);
        } else {
            copy.put(key, value);
        }
        return Map.copyOf(copy);
    }
}
