package io.cairn.metadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * Gathers a node's move reports into fewer metadata log entries: every {@link MetadataCommand.StreamsDone}
 * of one plan and node becomes one, as does every {@link MetadataCommand.Finish} of one plan, each
 * listing the union of their partitions (sorted, once each) where the first of them stood; any
 * other command is kept as it is, in its place. Sound because a report is idempotent and its
 * partitions independent: applying the union is applying each one, and a report that comes too
 * early for a partition changes nothing there and is sent again.
 */
public final class Reports {
    private Reports() {}

    public static List<MetadataCommand> coalesce(List<MetadataCommand> commands) {
        Map<Object, TreeSet<Integer>> merged = new LinkedHashMap<>();
        List<Object> order = new ArrayList<>(commands.size());
        for (MetadataCommand c : commands) {
            Object key = switch (c) {
                case MetadataCommand.StreamsDone d -> new StreamsKey(d.plan(), d.node());
                case MetadataCommand.Finish f -> new FinishKey(f.plan());
                default -> null;
            };
            if (key == null) {
                order.add(c);
                continue;
            }
            TreeSet<Integer> partitions = merged.get(key);
            if (partitions == null) {
                partitions = new TreeSet<>();
                merged.put(key, partitions);
                order.add(key);
            }
            int[] parts = c instanceof MetadataCommand.StreamsDone d ? d.partitions() : ((MetadataCommand.Finish) c).partitions();
            for (int p : parts) {
                partitions.add(p);
            }
        }
        List<MetadataCommand> out = new ArrayList<>(order.size());
        for (Object o : order) {
            int[] parts = merged.containsKey(o) ? merged.get(o).stream().mapToInt(Integer::intValue).toArray() : null;
            out.add(switch (o) {
                case StreamsKey k -> new MetadataCommand.StreamsDone(k.plan(), k.node(), Objects.requireNonNull(parts));
                case FinishKey k -> new MetadataCommand.Finish(k.plan(), Objects.requireNonNull(parts));
                default -> (MetadataCommand) o;
            });
        }
        return out;
    }

    private record StreamsKey(long plan, int node) {}

    private record FinishKey(long plan) {}
}
