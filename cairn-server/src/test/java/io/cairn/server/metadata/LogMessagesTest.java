package io.cairn.server.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.membership.Member;
import io.cairn.metadata.ClusterMetadata;
import io.cairn.metadata.ClusterState;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogMessagesTest {
    private static final ClusterState STATE = ClusterState.bootstrap(
            List.of(new Member(1, "a", "h:1", "h:2", "h:3"), new Member(2, "b", "h:4", "h:5", "h:6")), 4, 2);

    @Test
    void anAppliedOutcomeCarriesTheState() {
        ClusterMetadata.Result applied = new ClusterMetadata.Result(STATE, null);
        assertThat(LogMessages.decodeOutcome(LogMessages.outcome(applied, true))).isEqualTo(applied);
    }

    @Test
    void aRefusalCarriesItsKindAndMessage() {
        ClusterMetadata.Result refused = new ClusterMetadata.Result(STATE,
                new ClusterMetadata.Refusal(ClusterMetadata.Refusal.Kind.UNSAFE, "would leave 1 node, fewer than … 2"));
        assertThat(LogMessages.decodeOutcome(LogMessages.outcome(refused, true))).isEqualTo(refused);
    }

    @Test
    void aLongMessageIsCutToValidText() {
        String message = "é".repeat(10_000);
        ClusterMetadata.Result refused = new ClusterMetadata.Result(STATE, new ClusterMetadata.Refusal(ClusterMetadata.Refusal.Kind.INVALID, message));
        String decoded = LogMessages.decodeOutcome(LogMessages.outcome(refused, true)).refusal().message();
        assertThat(message).startsWith(decoded);
        assertThat(decoded).isNotEmpty();
    }

    @Test
    void anOutcomeWithoutItsStateOrCutShortIsMalformed() {
        ClusterMetadata.Result applied = new ClusterMetadata.Result(STATE, null);
        assertThatThrownBy(() -> LogMessages.decodeOutcome(LogMessages.outcome(applied, false)))
                .isInstanceOf(LogMessages.MalformedReplyException.class);
        byte[] whole = LogMessages.outcome(applied, true);
        for (int cut = 0; cut < whole.length; cut += 7) {
            byte[] part = Arrays.copyOf(whole, cut);
            assertThatThrownBy(() -> LogMessages.decodeOutcome(part)).isInstanceOf(LogMessages.MalformedReplyException.class);
        }
    }

    @Test
    void aStateQueryIsAnsweredOnlyWithANewerState() {
        byte[] query = LogMessages.stateQuery(1);
        assertThat(LogMessages.decodeStateQuery(query)).isEqualTo(1);
        assertThat(LogMessages.decodeStateQuery(new byte[] {1, 2})).isEqualTo(-1);
        assertThat(LogMessages.decodeStateAnswer(LogMessages.stateAnswer(STATE, 1))).isNull();
        assertThat(LogMessages.decodeStateAnswer(LogMessages.stateAnswer(STATE, 0))).isEqualTo(STATE);
        assertThatThrownBy(() -> LogMessages.decodeStateAnswer(new byte[] {1, 9, 9})).isInstanceOf(LogMessages.MalformedReplyException.class);
    }
}
