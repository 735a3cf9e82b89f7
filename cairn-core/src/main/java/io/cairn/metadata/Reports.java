package io.cairn.metadata;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        // Each report's key (plan and node, or plan) → the union of its partitions; in `order`, a
        // key where its first report stood, any other command as it is.
        Map<Object, TreeSet<Integer>> merged = new LinkedHashMap<>();
        List<Object> order = new ArrayList<>(commands.size());
        for (MetadataCommand c : commands) {
            Object key = switch (c) {
                case MetadataCommand.StreamsDone d -> new StreamsKey(d.plan(), d.node());
                case MetadataCommand.Finish f -> new FinishKey(f.plan());
                default -> c;
            };
            if (key == c) {
                order.add(c);
                continue;
            }
            TreeSet<Integer> partitions = merged.get(key);
            if (partitions == null) {
                partitions = new TreeSet<>();
                merged.put(key, partitions);
                order.add(key);
            }
            for (int p : c instanceof MetadataCommand.StreamsDone d ? d.partitions() : ((MetadataCommand.Finish) c).partitions()) {
                partitions.add(p);
            }
        }
        List<MetadataCommand> out = new ArrayList<>(order.size());
        for (Object o : order) {
            out.add(switch (o) {
                case StreamsKey k -> new MetadataCommand.StreamsDone(k.plan(), k.node(), sorted(merged.get(k)));
                case FinishKey k -> new MetadataCommand.Finish(k.plan(), sorted(merged.get(k)));
                default -> (MetadataCommand) o;
            });
        }
        return out;
    }

    private static int[] sorted(TreeSet<Integer> partitions) {
        return partitions.stream().mapToInt(Integer::intValue).toArray();
    }

    private record StreamsKey(long plan, int node) {}

    private record FinishKey(long plan) {}
}
