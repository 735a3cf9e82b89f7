package io.cairn.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.metadata.MetadataCommand;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class ReportBatcherTest {
    private final List<MetadataCommand> submitted = new CopyOnWriteArrayList<>();

    @Test
    void reportsWithinAnIntervalLeaveTogetherAndOtherCommandsAtOnce() throws Exception {
        try (ReportBatcher batcher = new ReportBatcher(submitted::add, 300)) {
            batcher.propose(new MetadataCommand.StreamsDone(1, 4, new int[] {7}));
            assertThat(submitted).as("the first report finds no recent batch: it goes at once")
                    .containsExactly(new MetadataCommand.StreamsDone(1, 4, new int[] {7}));

            batcher.propose(new MetadataCommand.StreamsDone(1, 4, new int[] {9}));
            batcher.propose(new MetadataCommand.Finish(1, new int[] {7}));
            batcher.propose(new MetadataCommand.StreamsDone(1, 4, new int[] {8}));
            batcher.propose(new MetadataCommand.Pause(true));
            assertThat(submitted).as("reports wait for the interval; other commands do not")
                    .containsExactly(new MetadataCommand.StreamsDone(1, 4, new int[] {7}), new MetadataCommand.Pause(true));

            long deadline = System.nanoTime() + 5_000_000_000L;
            while (submitted.size() < 4 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(submitted.subList(2, submitted.size())).containsExactly(
                    new MetadataCommand.StreamsDone(1, 4, new int[] {8, 9}), new MetadataCommand.Finish(1, new int[] {7}));
        }
    }

    @Test
    void withoutAnIntervalEveryReportGoesAtOnce() {
        try (ReportBatcher batcher = new ReportBatcher(submitted::add, 0)) {
            batcher.propose(new MetadataCommand.StreamsDone(1, 4, new int[] {7}));
            batcher.propose(new MetadataCommand.StreamsDone(1, 4, new int[] {8}));
            assertThat(submitted).hasSize(2);
        }
    }
}
