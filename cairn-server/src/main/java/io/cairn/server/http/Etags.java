package io.cairn.server.http;

import io.cairn.error.CairnException;
import io.cairn.error.ErrorCode;
import io.cairn.clock.Version;
import java.util.HashSet;
import java.util.Set;

/**
 * ETag headers: a version's ETag is its token in quotes; If-Match and If-None-Match take a
 * comma-separated list of entity tags or "*".
 *
 * <p>Matching is strong (RFC 9110): weak tags ({@code W/"..."}) never match If-Match; a read's
 * If-None-Match compares weakly, so {@code W/"..."} matches the version it names. A
 * well-formed tag that is not a Cairn version simply never matches; a malformed header (an unquoted
 * tag included) is a 400.
 */
public final class Etags {
    private Etags() {}

    public static String of(Version v) {
        return "\"" + v.token() + "\"";
    }

    /** A parsed If-Match / If-None-Match header. */
    public record Match(boolean any, Set<Version> versions, boolean hasUnknown) {
        public boolean matches(Version v) {
            return any || versions.contains(v);
        }
    }

    /**
     * A causal token ({@code Cairn-After}): one strong entity tag naming a version, quoted or not
     * (clients copy the {@code ETag} header as it is).
     */
    public static Version causalToken(String header, String name) {
        String tag = header.trim();
        if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
            tag = tag.substring(1, tag.length() - 1);
        }
        Version v = Version.parseToken(tag);
        if (v == null) {
            throw new CairnException(ErrorCode.INVALID_HEADER, name + " must be one ETag this store issued, such as \"0000018c...-1\"");
        }
        return v;
    }

    /** A header compared strongly: weak tags never match (If-Match, and every condition of a write). */
    public static Match parse(String header, String name) {
        return parse(header, name, false);
    }

    /**
     * A header compared as {@code weak} says: weakly (a read's If-None-Match, RFC 9110 §13.1.2),
     * {@code W/"tag"} matches the version {@code "tag"} names; strongly, weak tags never match.
     */
    public static Match parse(String header, String name, boolean weak) {
        String h = header.trim();
        if (h.equals("*")) {
            return new Match(true, Set.of(), false);
        }
        Set<Version> versions = new HashSet<>();
        boolean unknown = false;
        for (String part : h.split(",", -1)) {
            String tag = part.trim();
            boolean weakTag = false;
            if (tag.startsWith("W/")) {
                weakTag = true;
                tag = tag.substring(2);
            }
            if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
                tag = tag.substring(1, tag.length() - 1);
            } else {
                // An entity tag is always quoted (RFC 9110 §8.8.3): an unquoted token is a malformed
                // header, not a tag that happens never to match.
                throw new CairnException(ErrorCode.INVALID_HEADER, name + " must be \"*\" or a list of quoted entity tags such as \"0000018c...-1\"");
            }
            if (tag.isEmpty() || tag.indexOf('"') >= 0 || tag.indexOf(' ') >= 0) {
                throw new CairnException(ErrorCode.INVALID_HEADER, name + " contains a malformed entity tag");
            }
            Version v = weakTag && !weak ? null : Version.parseToken(tag);
            if (v == null) {
                unknown = true;
            } else {
                versions.add(v);
            }
        }
        return new Match(false, versions, unknown);
    }
}
