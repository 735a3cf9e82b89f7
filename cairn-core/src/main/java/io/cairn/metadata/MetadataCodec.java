package io.cairn.metadata;

import io.cairn.membership.Member;
import io.cairn.namespace.Consistency;
import io.cairn.namespace.Namespace;
import io.cairn.namespace.NamespaceSpec;
import io.cairn.placement.Quorum;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The binary form of metadata log entries ({@link MetadataCommand}) and of {@link ClusterState}
 * (log snapshots, and the copy every node keeps of the last epoch it applied). Big-endian; texts as
 * u16 length + UTF-8; node ids as u16.
 *
 * <pre>
 *   command: u8 type | fields
 *     1 Join(member)  2 Decommission(u16 node, u8 allowZoneLoss)  3 Remove(u16 node, u8 allowZoneLoss)
 *     4 Replace(u16 node, member, u8 allowZoneLoss)  5 StreamDone(i64 plan, i32 partition, u16 node)
 *     6 Finish(i64 plan, i32 count, i32 partition * count)  7 Pause(u8 paused)  8 Cancel
 *     9 PutNamespace(namespace, i32 max namespaces)  10 StreamsDone(i64 plan, u16 node, i32 count, i32 partition * count)
 *     11 SetSettings(u8 first, settings)
 *   state:   u8 format (5, or 4 when nothing is queued; 3 has no settings, 2 no default policy either, 1 no namespaces either)
 *            | i64 epoch | i32 partitions
 *            | u8 N | i32 members | member+state * members | assignment * partitions | u8 has plan | plan | i32 count
 *            | namespace * count
 *            | namespace (the default namespace's policy; format 3: written only when one is set, format 4: after a u8 has policy)
 *            | settings (format 4: written only when the cluster recorded some; format 5: always)
 *            | i32 count | (i32 partition | ids target) * count   (format 5 only: the partitions queued to move)
 *   settings: i32 count | (name | value) * count
 *   namespace: i32 id | name | u8 consistency | quorum read | quorum write | i64 default TTL ms | i64 max value bytes
 *   quorum:  u8 kind (0 none, 1 one, 2 quorum, 3 all, 4 count) | i32 count
 *   member:  u16 id | zone | http address | internode address | metadata address (may be empty)   (+ u8 state in a state)
 *   assignment: ids owners | i8 next count (-1: none) + u16 * | u8 reads next | ids streamed | i64 since | i64 previous since
 *   plan:    i64 id | u8 kind | u16 subject | u16 replacement | u8 paused | u8 cancelled
 * </pre>
 * Everything decoded is validated (bounds, then the records' own checks); anything else is a
 * {@link MetadataCodecException}: a damaged entry or snapshot is refused, never half-applied.
 */
public final class MetadataCodec {
    private static final int STATE_FORMAT_WITH_QUEUE = 5;
    private static final int STATE_FORMAT_WITH_SETTINGS = 4;
    private static final int STATE_FORMAT_WITH_DEFAULT_POLICY = 3;
    private static final int STATE_FORMAT = 2;
    private static final int STATE_FORMAT_WITHOUT_NAMESPACES = 1;
    private static final int MAX_NAMESPACES = 100_000;
    private static final int MAX_MEMBERS = 10_000;
    private static final int MAX_PARTITIONS = 1 << 16;
    private static final int MAX_TEXT = 1024;

    private MetadataCodec() {}

    /** A metadata entry or state that cannot be decoded. */
    public static final class MetadataCodecException extends RuntimeException {
        MetadataCodecException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static byte[] encode(MetadataCommand c) {
        return write(out -> {
            switch (c) {
                case MetadataCommand.Join j -> {
                    out.writeByte(1);
                    member(out, j.member());
                }
                case MetadataCommand.Decommission d -> {
                    out.writeByte(2);
                    out.writeShort(d.node());
                    out.writeByte(d.allowZoneLoss() ? 1 : 0);
                }
                case MetadataCommand.Remove r -> {
                    out.writeByte(3);
                    out.writeShort(r.node());
                    out.writeByte(r.allowZoneLoss() ? 1 : 0);
                }
                case MetadataCommand.Replace r -> {
                    out.writeByte(4);
                    out.writeShort(r.node());
                    member(out, r.replacement());
                    out.writeByte(r.allowZoneLoss() ? 1 : 0);
                }
                case MetadataCommand.StreamDone d -> {
                    out.writeByte(5);
                    out.writeLong(d.plan());
                    out.writeInt(d.partition());
                    out.writeShort(d.node());
                }
                case MetadataCommand.StreamsDone d -> {
                    out.writeByte(10);
                    out.writeLong(d.plan());
                    out.writeShort(d.node());
                    int[] parts = d.partitions();
                    out.writeInt(parts.length);
                    for (int p : parts) {
                        out.writeInt(p);
                    }
                }
                case MetadataCommand.Finish f -> {
                    out.writeByte(6);
                    out.writeLong(f.plan());
                    out.writeInt(f.partitions().length);
                    for (int p : f.partitions()) {
                        out.writeInt(p);
                    }
                }
                case MetadataCommand.Pause p -> {
                    out.writeByte(7);
                    out.writeByte(p.paused() ? 1 : 0);
                }
                case MetadataCommand.Cancel x -> out.writeByte(8);
                case MetadataCommand.PutNamespace n -> {
                    out.writeByte(9);
                    namespace(out, n.spec());
                    out.writeInt(n.maxNamespaces());
                }
                case MetadataCommand.SetSettings set -> {
                    out.writeByte(11);
                    out.writeByte(set.first() ? 1 : 0);
                    settings(out, set.settings());
                }
            }
        });
    }

    public static MetadataCommand decodeCommand(byte[] bytes) {
        return read(bytes, in -> switch (in.get()) {
            case 1 -> new MetadataCommand.Join(member(in));
            case 2 -> new MetadataCommand.Decommission(u16(in), flag(in));
            case 3 -> new MetadataCommand.Remove(u16(in), flag(in));
            case 4 -> new MetadataCommand.Replace(u16(in), member(in), flag(in));
            case 5 -> new MetadataCommand.StreamDone(in.getLong(), in.getInt(), u16(in));
            case 6 -> {
                long plan = in.getLong();
                int n = count(in.getInt(), MAX_PARTITIONS);
                int[] parts = new int[n];
                for (int i = 0; i < n; i++) {
                    parts[i] = in.getInt();
                }
                yield new MetadataCommand.Finish(plan, parts);
            }
            case 7 -> new MetadataCommand.Pause(flag(in));
            case 8 -> new MetadataCommand.Cancel();
            case 9 -> new MetadataCommand.PutNamespace(namespace(in), count(in.getInt(), MAX_NAMESPACES));
            case 10 -> {
                long plan = in.getLong();
                int node = u16(in);
                int n = count(in.getInt(), MAX_PARTITIONS);
                int[] parts = new int[n];
                for (int i = 0; i < n; i++) {
                    parts[i] = in.getInt();
                }
                yield new MetadataCommand.StreamsDone(plan, node, parts);
            }
            case 11 -> {
                boolean first = flag(in);
                yield new MetadataCommand.SetSettings(settings(in), first);
            }
            default -> throw new IllegalArgumentException("unknown metadata command type");
        });
    }

    public static byte[] encode(ClusterState s) {
        return write(out -> {
            // The oldest format that holds the state, which nodes of earlier releases read too.
            // The oldest format that holds the state, so a state without the newer parts reads as it did.
            int format = !s.queued().isEmpty() ? STATE_FORMAT_WITH_QUEUE
                    : !s.settings().isEmpty() ? STATE_FORMAT_WITH_SETTINGS
                    : s.defaultPolicy() != null ? STATE_FORMAT_WITH_DEFAULT_POLICY : STATE_FORMAT;
            out.writeByte(format);
            out.writeLong(s.epoch());
            out.writeInt(s.partitions());
            out.writeByte(s.replicationFactor());
            out.writeInt(s.members().size());
            for (MemberRecord m : s.members()) {
                member(out, m.member());
                out.writeByte(m.state().ordinal());
            }
            for (Assignment a : s.assignments()) {
                ids(out, a.owners());
                if (a.next() == null) {
                    out.writeByte(-1);
                } else {
                    out.writeByte(a.next().length);
                    for (int n : a.next()) {
                        out.writeShort(n);
                    }
                }
                out.writeByte(a.readsNext() ? 1 : 0);
                ids(out, a.streamed());
                out.writeLong(a.since());
                out.writeLong(a.previousSince());
            }
            Plan p = s.plan();
            out.writeByte(p == null ? 0 : 1);
            if (p != null) {
                out.writeLong(p.id());
                out.writeByte(p.kind().ordinal());
                out.writeShort(p.subject());
                out.writeShort(p.replacement());
                out.writeByte(p.paused() ? 1 : 0);
                out.writeByte(p.cancelled() ? 1 : 0);
            }
            out.writeInt(s.namespaces().size());
            for (NamespaceSpec ns : s.namespaces()) {
                namespace(out, ns);
            }
            if (format >= STATE_FORMAT_WITH_SETTINGS) {
                out.writeByte(s.defaultPolicy() == null ? 0 : 1);
            }
            if (s.defaultPolicy() != null) {
                namespace(out, s.defaultPolicy());
            }
            if (format >= STATE_FORMAT_WITH_SETTINGS) {
                settings(out, s.settings());
            }
            if (format == STATE_FORMAT_WITH_QUEUE) {
                out.writeInt(s.queued().size());
                for (ClusterState.Queued q : s.queued()) {
                    out.writeInt(q.partition());
                    ids(out, q.target());
                }
            }
        });
    }

    public static ClusterState decodeState(byte[] bytes) {
        return read(bytes, in -> {
            int format = in.get();
            if (format != STATE_FORMAT_WITH_QUEUE && format != STATE_FORMAT_WITH_SETTINGS && format != STATE_FORMAT_WITH_DEFAULT_POLICY
                    && format != STATE_FORMAT && format != STATE_FORMAT_WITHOUT_NAMESPACES) {
                throw new IllegalArgumentException("unknown cluster state format " + format);
            }
            long epoch = in.getLong();
            int partitions = count(in.getInt(), MAX_PARTITIONS);
            int n = in.get() & 0xFF;
            int memberCount = count(in.getInt(), MAX_MEMBERS);
            List<MemberRecord> members = new ArrayList<>(memberCount);
            for (int i = 0; i < memberCount; i++) {
                Member m = member(in);
                int state = in.get() & 0xFF;
                if (state >= NodeState.values().length) {
                    throw new IllegalArgumentException("unknown node state " + state);
                }
                members.add(new MemberRecord(m, NodeState.values()[state]));
            }
            List<Assignment> assignments = new ArrayList<>(partitions);
            for (int p = 0; p < partitions; p++) {
                int[] owners = ids(in);
                int nextCount = in.get();
                int[] next = null;
                if (nextCount >= 0) {
                    next = new int[nextCount];
                    for (int i = 0; i < nextCount; i++) {
                        next[i] = u16(in);
                    }
                } else if (nextCount != -1) {
                    throw new IllegalArgumentException("next count " + nextCount);
                }
                boolean readsNext = flag(in);
                int[] streamed = ids(in);
                assignments.add(new Assignment(owners, next, readsNext, streamed, in.getLong(), in.getLong()));
            }
            Plan plan = null;
            if (flag(in)) {
                long id = in.getLong();
                int kind = in.get() & 0xFF;
                if (kind >= Plan.Kind.values().length) {
                    throw new IllegalArgumentException("unknown plan kind " + kind);
                }
                plan = new Plan(id, Plan.Kind.values()[kind], u16(in), u16(in), flag(in), flag(in));
            }
            List<NamespaceSpec> namespaces = new ArrayList<>();
            if (format != STATE_FORMAT_WITHOUT_NAMESPACES) {
                int count = count(in.getInt(), MAX_NAMESPACES);
                for (int i = 0; i < count; i++) {
                    namespaces.add(namespace(in));
                }
            }
            boolean hasPolicy = format == STATE_FORMAT_WITH_DEFAULT_POLICY || (format >= STATE_FORMAT_WITH_SETTINGS && flag(in));
            NamespaceSpec defaultPolicy = hasPolicy ? namespace(in) : null;
            java.util.SortedMap<String, String> settings = format >= STATE_FORMAT_WITH_SETTINGS ? settings(in) : new java.util.TreeMap<>();
            List<ClusterState.Queued> queued = new ArrayList<>();
            if (format == STATE_FORMAT_WITH_QUEUE) {
                int count = count(in.getInt(), partitions);
                for (int i = 0; i < count; i++) {
                    queued.add(new ClusterState.Queued(in.getInt(), ids(in)));
                }
            }
            return new ClusterState(epoch, partitions, n, members, assignments, plan, namespaces, defaultPolicy, settings, queued);
        });
    }

    /** A list of namespace definitions on its own (a single node keeps its namespaces so). */
    public static byte[] encodeNamespaces(List<NamespaceSpec> namespaces) {
        return write(out -> {
            out.writeInt(namespaces.size());
            for (NamespaceSpec ns : namespaces) {
                namespace(out, ns);
            }
        });
    }

    public static List<NamespaceSpec> decodeNamespaces(byte[] bytes) {
        return read(bytes, in -> {
            int count = count(in.getInt(), MAX_NAMESPACES);
            List<NamespaceSpec> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(namespace(in));
            }
            return out;
        });
    }

    private static void settings(DataOutputStream out, java.util.SortedMap<String, String> settings) throws IOException {
        out.writeInt(settings.size());
        for (var e : settings.entrySet()) {
            text(out, e.getKey());
            text(out, e.getValue());
        }
    }

    private static java.util.SortedMap<String, String> settings(ByteBuffer in) {
        int count = count(in.getInt(), ClusterMetadata.MAX_SETTINGS);
        java.util.SortedMap<String, String> out = new java.util.TreeMap<>();
        for (int i = 0; i < count; i++) {
            String name = text(in);
            if (out.put(name, text(in)) != null) {
                throw new IllegalArgumentException("setting " + name + " listed twice");
            }
        }
        String problem = ClusterMetadata.settingsProblem(out);
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
        return out;
    }

    private static void namespace(DataOutputStream out, NamespaceSpec ns) throws IOException {
        out.writeInt(ns.id());
        text(out, ns.name());
        out.writeByte(ns.consistency().ordinal());
        quorum(out, ns.readQuorum());
        quorum(out, ns.writeQuorum());
        out.writeLong(ns.defaultTtlMillis());
        out.writeLong(ns.maxValueBytes());
    }

    private static NamespaceSpec namespace(ByteBuffer in) {
        int id = in.getInt();
        String name = text(in);
        int consistency = in.get() & 0xFF;
        if (consistency >= Consistency.values().length) {
            throw new IllegalArgumentException("unknown consistency class " + consistency);
        }
        NamespaceSpec spec = new NamespaceSpec(id, name, Consistency.values()[consistency], quorum(in), quorum(in), in.getLong(), in.getLong());
        if (id < 0 || spec.defaultTtlMillis() < 0 || spec.maxValueBytes() < 0 || !Namespace.validName(name)) {
            throw new IllegalArgumentException("namespace " + name + " (id " + id + ") out of range");
        }
        return spec;
    }

    private static void quorum(DataOutputStream out, Quorum q) throws IOException {
        out.writeByte(q == null ? 0 : q.kind().ordinal() + 1);
        out.writeInt(q == null ? 0 : q.count());
    }

    private static Quorum quorum(ByteBuffer in) {
        int kind = in.get() & 0xFF;
        int count = in.getInt();
        return switch (kind) {
            case 0 -> null;
            case 1 -> Quorum.ONE;
            case 2 -> Quorum.MAJORITY;
            case 3 -> Quorum.ALL;
            case 4 -> new Quorum(Quorum.Kind.COUNT, count);
            default -> throw new IllegalArgumentException("unknown quorum kind " + kind);
        };
    }

    // ------------------------------------------------------------------ helpers

    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private interface Reader<T> {
        T read(ByteBuffer in);
    }

    private static byte[] write(Writer w) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            w.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static <T> T read(byte[] bytes, Reader<T> r) {
        ByteBuffer in = ByteBuffer.wrap(bytes);
        try {
            T value = r.read(in);
            if (in.hasRemaining()) {
                throw new IllegalArgumentException(in.remaining() + " trailing bytes");
            }
            return value;
        } catch (BufferUnderflowException e) {
            throw new MetadataCodecException("truncated metadata", e);
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new MetadataCodecException("malformed metadata: " + e.getMessage(), e);
        }
    }

    private static void member(DataOutputStream out, Member m) throws IOException {
        out.writeShort(m.id());
        text(out, m.zone());
        text(out, m.httpAddress());
        text(out, m.internodeAddress());
        text(out, m.metadataAddress());
    }

    private static Member member(ByteBuffer in) {
        return new Member(u16(in), text(in), text(in), text(in), text(in));
    }

    private static void ids(DataOutputStream out, int[] ids) throws IOException {
        out.writeByte(ids.length);
        for (int id : ids) {
            out.writeShort(id);
        }
    }

    private static int[] ids(ByteBuffer in) {
        int n = in.get() & 0xFF;
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = u16(in);
        }
        return ids;
    }

    private static void text(DataOutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > MAX_TEXT) {
            throw new IllegalArgumentException("text longer than " + MAX_TEXT + " bytes");
        }
        out.writeShort(b.length);
        out.write(b);
    }

    private static String text(ByteBuffer in) {
        int n = in.getShort() & 0xFFFF;
        if (n > MAX_TEXT) {
            throw new IllegalArgumentException("text of " + n + " bytes");
        }
        byte[] b = new byte[n];
        in.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static int u16(ByteBuffer in) {
        return in.getShort() & 0xFFFF;
    }

    private static boolean flag(ByteBuffer in) {
        int b = in.get();
        if (b != 0 && b != 1) {
            throw new IllegalArgumentException("flag " + b);
        }
        return b == 1;
    }

    private static int count(int n, int max) {
        if (n < 0 || n > max) {
            throw new IllegalArgumentException("count " + n + " outside 0.." + max);
        }
        return n;
    }
}
