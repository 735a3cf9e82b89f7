package io.cairn.membership;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A node of the cluster as the metadata knows it: id, zone, and where it listens.
 *
 * @param id       stable node id, 1..65535; part of every version the node issues
 * @param zone     failure domain (rack, availability zone); replicas are spread across zones
 * @param httpAddress      host:port of the client API
 * @param internodeAddress host:port of the internode transport
 * @param metadataAddress  host:port of its metadata log server (a voter of the metadata group),
 *                         or empty for a member that only follows the log
 */
public record Member(int id, String zone, String httpAddress, String internodeAddress, String metadataAddress) {
    /** A member that only follows the metadata log. */
    public Member(int id, String zone, String httpAddress, String internodeAddress) {
        this(id, zone, httpAddress, internodeAddress, "");
    }

    private static final Pattern ZONE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    public Member {
        if (id < 1 || id > 65_535) {
            throw new IllegalArgumentException("member id must be between 1 and 65535, got " + id);
        }
        Objects.requireNonNull(zone, "zone");
        if (!ZONE.matcher(zone).matches()) {
            throw new IllegalArgumentException("zone must match " + ZONE + ", got '" + zone + "'");
        }
        Objects.requireNonNull(httpAddress, "httpAddress");
        Objects.requireNonNull(internodeAddress, "internodeAddress");
        Objects.requireNonNull(metadataAddress, "metadataAddress");
    }

    /** Whether this member runs a voter of the metadata log. */
    public boolean metadataVoter() {
        return !metadataAddress.isEmpty();
    }

    public String metadataHost() {
        return host(metadataAddress);
    }

    public int metadataPort() {
        return port(metadataAddress);
    }

    public String internodeHost() {
        return host(internodeAddress);
    }

    public int internodePort() {
        return port(internodeAddress);
    }

    public int httpPort() {
        return port(httpAddress);
    }

    /** The host of {@code host:port}, without the brackets of an IPv6 literal. */
    private static String host(String hostPort) {
        String h = hostPort.substring(0, hostPort.lastIndexOf(':'));
        return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
    }

    private static int port(String hostPort) {
        return Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    }
}
