package io.cairn.auth;

import java.util.regex.Pattern;

/**
 * One grant a token carries, written {@code read:NS}, {@code write:NS} or {@code admin:NS} (NS a
 * namespace name, or {@code *} for every namespace), or {@code metrics} (scraping
 * {@code /metrics}). {@code write} includes {@code read}; {@code admin} includes both, and
 * {@code admin:*} is also what every {@code /admin} route needs.
 */
public record Role(Right right, String namespace, boolean metrics) {
    // First: the constants below are checked against it.
    private static final Pattern NAMESPACE = Pattern.compile("\\*|[a-z][a-z0-9_-]{0,62}");
    public static final String ANY_NAMESPACE = "*";
    public static final Role METRICS = new Role(null, null, true);
    public static final Role ADMIN_ALL = new Role(Right.ADMIN, ANY_NAMESPACE, false);
    /** The longest role text accepted. */
    public static final int MAX_TEXT = 80;

    public Role {
        if (metrics ? right != null || namespace != null : right == null || namespace == null || !NAMESPACE.matcher(namespace).matches()) {
            throw new IllegalArgumentException("not a role: " + right + ":" + namespace);
        }
    }

    /** Parses {@code read:NS}, {@code write:NS}, {@code admin:NS} or {@code metrics}. */
    public static Role parse(String text) {
        if (text == null || text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("a role is read:NAMESPACE, write:NAMESPACE, admin:NAMESPACE or metrics");
        }
        if (text.equals("metrics")) {
            return METRICS;
        }
        int colon = text.indexOf(':');
        Right right = colon < 0 ? null : switch (text.substring(0, colon)) {
            case "read" -> Right.READ;
            case "write" -> Right.WRITE;
            case "admin" -> Right.ADMIN;
            default -> null;
        };
        String ns = colon < 0 ? "" : text.substring(colon + 1);
        if (right == null || !NAMESPACE.matcher(ns).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a role: use read:NAMESPACE, write:NAMESPACE, admin:NAMESPACE "
                    + "(NAMESPACE a namespace name or * for all) or metrics");
        }
        return new Role(right, ns, false);
    }

    /** Whether this role alone meets {@code need}. */
    public boolean meets(Need need) {
        return switch (need) {
            case Need.Data d -> !metrics && right.includes(d.right()) && (namespace.equals(ANY_NAMESPACE) || namespace.equals(d.namespace()));
            case Need.Admin a -> this.equals(ADMIN_ALL);
            case Need.Metrics m -> metrics || this.equals(ADMIN_ALL);
            case Need.Any any -> true;
        };
    }

    @Override
    public String toString() {
        return metrics ? "metrics" : right.label() + ":" + namespace;
    }
}
