package io.cairn.auth;

import java.util.Objects;

/**
 * What one request needs of its caller, by route class: {@code data} routes need a right in the
 * namespace they touch, {@code admin} routes the admin right over every namespace, and
 * {@code metrics} the metrics role (or admin). Front ends (HTTP, later RESP) say what a request
 * needs; {@link Access} decides whether a token has it.
 */
public sealed interface Need {
    Need ADMIN = new Admin();
    Need METRICS = new Metrics();
    /** Any live token: routes that show the caller only itself, or that do not exist. */
    Need ANY = new Any();

    static Need data(String namespace, Right right) {
        return new Data(namespace, right);
    }

    /** The route class, as counted in metrics: data, admin or metrics. */
    String routeClass();

    record Data(String namespace, Right right) implements Need {
        public Data {
            Objects.requireNonNull(namespace);
            Objects.requireNonNull(right);
        }

        @Override
        public String routeClass() {
            return "data";
        }

        @Override
        public String toString() {
            return right.label() + " on namespace " + namespace;
        }
    }

    record Admin() implements Need {
        @Override
        public String routeClass() {
            return "admin";
        }

        @Override
        public String toString() {
            return "the admin role on every namespace (admin:*)";
        }
    }

    record Any() implements Need {
        @Override
        public String routeClass() {
            return "other";
        }

        @Override
        public String toString() {
            return "any valid token";
        }
    }

    record Metrics() implements Need {
        @Override
        public String routeClass() {
            return "metrics";
        }

        @Override
        public String toString() {
            return "the metrics role (or admin:*)";
        }
    }
}
