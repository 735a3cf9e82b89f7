package io.cairn.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.property.Gen;
import io.cairn.property.Trials;
import io.cairn.record.Record;
import io.cairn.clock.Version;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link ReadTally} against a naive oracle over random replies (records, tombstones, nothing,
 * failures; duplicates and outsiders included): the first answer of each replica counts, the
 * answer is the newest version among all replies, stale means older or missing.
 */
class ReadTallyProperties {
    /** A reply in the oracle: a record (possibly null = holds nothing), or a failure. */
    private record Answer(boolean failed, Record record) {}

    @Test
    void agreesWithTheOracleAfterEveryReply() {
        Trials.run(0x2EAD_7A11L, 400, 40, gen -> {
            Set<Integer> replicas = WriteTallyProperties.replicaSet(gen);
            int required = gen.between(1, replicas.size());
            ReadTally tally = new ReadTally(replicas, required);
            Map<Integer, Answer> first = new LinkedHashMap<>();
            List<String> log = new ArrayList<>();
            ReadTally.Decision settled = null;
            for (int i = 0; i < gen.size(); i++) {
                int node = gen.between(0, 9);
                ReadTally.Decision d;
                Answer answer;
                if (gen.chance(0.2)) {
                    answer = new Answer(true, null);
                    log.add("fail " + node);
                    d = tally.fail(node);
                } else {
                    answer = new Answer(false, record(gen));
                    log.add(node + " holds " + answer.record());
                    d = tally.reply(node, answer.record());
                }
                if (replicas.contains(node)) {
                    first.putIfAbsent(node, answer);
                }
                String why = "replicas " + replicas + " R=" + required + " after " + log;
                long replies = first.values().stream().filter(a -> !a.failed()).count();
                long failures = first.size() - replies;
                ReadTally.Decision expected = replies >= required ? ReadTally.Decision.READY
                        : replicas.size() - failures < required ? ReadTally.Decision.FAILED
                        : ReadTally.Decision.PENDING;
                assertThat(d).as(why).isEqualTo(expected);
                assertThat(tally.replies()).as(why).isEqualTo((int) replies);

                Record newest = null;
                for (Answer a : first.values()) {
                    if (!a.failed() && a.record() != null && (newest == null || a.record().version().compareTo(newest.version()) > 0)) {
                        newest = a.record();
                    }
                }
                assertThat(tally.newest()).as(why).isEqualTo(newest);
                Set<Integer> stale = new LinkedHashSet<>();
                if (newest != null) {
                    for (var e : first.entrySet()) {
                        Answer a = e.getValue();
                        if (!a.failed() && (a.record() == null || a.record().version().compareTo(newest.version()) < 0)) {
                            stale.add(e.getKey());
                        }
                    }
                }
                assertThat(tally.stale()).as(why).isEqualTo(stale);
                Set<Integer> unanswered = new LinkedHashSet<>(replicas);
                unanswered.removeAll(first.keySet());
                assertThat(tally.unanswered()).as(why).isEqualTo(unanswered);
                if (settled != null) {
                    assertThat(d).as(why).isEqualTo(settled);
                } else if (d != ReadTally.Decision.PENDING) {
                    settled = d;
                }
            }
        });
    }

    /** Few distinct versions, so that ties (equal versions are not stale) happen often. */
    private static Record record(Gen gen) {
        if (gen.chance(0.2)) {
            return null;
        }
        Version v = new Version(Version.pack(1_000 + gen.between(0, 3), gen.between(0, 1)), gen.between(1, 2));
        return gen.chance(0.25) ? Record.tombstone(v) : Record.value(v, Record.NO_EXPIRY, null, new byte[] {(byte) v.timestamp()});
    }
}
