package io.cairn.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReportsTest {
    @Test
    void reportsOfOnePlanAndNodeBecomeOneEntryEachWhereTheFirstStoodAndOtherCommandsKeepTheirPlace() {
        List<MetadataCommand> in = List.of(
                new MetadataCommand.StreamsDone(7, 4, new int[] {9}),
                new MetadataCommand.Finish(7, new int[] {3, 1}),
                new MetadataCommand.Pause(true),
                new MetadataCommand.StreamsDone(7, 4, new int[] {2, 9}),
                new MetadataCommand.StreamsDone(7, 5, new int[] {2}),
                new MetadataCommand.Finish(8, new int[] {1}),
                new MetadataCommand.Finish(7, new int[] {1, 4}));

        assertThat(Reports.coalesce(in)).containsExactly(
                new MetadataCommand.StreamsDone(7, 4, new int[] {2, 9}),
                new MetadataCommand.Finish(7, new int[] {1, 3, 4}),
                new MetadataCommand.Pause(true),
                new MetadataCommand.StreamsDone(7, 5, new int[] {2}),
                new MetadataCommand.Finish(8, new int[] {1}));
        assertThat(Reports.coalesce(List.of())).isEmpty();
    }
}
