package io.cairn.testkit.linearizability;

/**
 * An operation on one key of a {@link KeyedModel}.
 *
 * @param key the key; not {@code null}, compared with {@code equals}
 * @param input the operation on that key's object
 */
public record Keyed<K, I>(K key, I input) {
    public Keyed {
        if (key == null) {
            throw new IllegalArgumentException("a key is not null");
        }
    }

    public static <K, I> Keyed<K, I> on(K key, I input) {
        return new Keyed<>(key, input);
    }

    @Override
    public String toString() {
        return key + ": " + input;
    }
}
