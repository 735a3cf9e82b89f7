package io.cairn.clock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Unit tests of versions: packing, ordering and the opaque token. */
class VersionTest {

    @Test
    void tokenRoundTripsForEdgeAndRandomValues() {
        List<Version> versions = new ArrayList<>(List.of(
                new Version(0, 0),
                new Version(1, 1),
                new Version(Long.MAX_VALUE, Integer.MAX_VALUE),
                new Version(Version.pack(1_700_000_000_000L, 65_535), 0xABCDEF)));
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 1_000; i++) {
            versions.add(new Version(random.nextLong(Long.MAX_VALUE), random.nextInt(Integer.MAX_VALUE)));
        }
        for (Version v : versions) {
            assertThat(Version.parseToken(v.token())).as(v.token()).isEqualTo(v);
        }
    }

    @Test
    void tokenHasTheDocumentedShape() {
        Version v = new Version(Version.pack(1_700_000_000_000L, 5), 0x2a);

        assertThat(v.token()).isEqualTo(String.format("%016x", (1_700_000_000_000L << 16) | 5) + "-2a");
        assertThat(v.toString()).isEqualTo(v.token());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "-",
        "abc",
        "0000000000000001",
        "0000000000000001-",
        "000000000000001-1",
        "00000000000000001-1",
        "000000000000000g-1",
        "0000000000000001-g",
        "0000000000000001-1 ",
        " 000000000000001-1",
        "0000000000000001--1",
        "-000000000000001-1",
        "ffffffffffffffff-1",
        "0000000000000001-ffffffff",
        "0000000000000001-100000000",
        "0000000000000001_1",
        "\"0000000000000001-1\"",
        "+000000000000001-1",
        "0000000000000001-+1",
    })
    void parseRejectsGarbageWithNull(String garbage) {
        assertThat(Version.parseToken(garbage)).isNull();
    }

    @Test
    void packSplitsPhysicalAndLogicalParts() {
        long ts = Version.pack(123_456_789L, 42);
        Version v = new Version(ts, 1);

        assertThat(v.physicalMillis()).isEqualTo(123_456_789L);
        assertThat(v.logical()).isEqualTo(42);
        assertThat(v.instant().toEpochMilli()).isEqualTo(123_456_789L);
    }

    @Test
    void ordersByTimestampFirst() {
        Version older = new Version(Version.pack(1000, 5), 9);
        Version newer = new Version(Version.pack(1000, 6), 1);

        assertThat(newer).isGreaterThan(older);
        assertThat(newer.isNewerThan(older)).isTrue();
        assertThat(older.isNewerThan(newer)).isFalse();
    }

    @Test
    void tiesOnTimestampAreBrokenByNodeId() {
        long ts = Version.pack(1000, 5);
        Version nodeOne = new Version(ts, 1);
        Version nodeTwo = new Version(ts, 2);

        assertThat(nodeTwo.compareTo(nodeOne)).isPositive();
        assertThat(nodeOne.compareTo(nodeTwo)).isNegative();
        assertThat(nodeOne.compareTo(new Version(ts, 1))).isZero();
        assertThat(nodeTwo.isNewerThan(nodeOne)).isTrue();
        assertThat(nodeOne).isNotEqualTo(nodeTwo);
    }

    @Test
    void sortingAShuffledListGivesTimestampThenNodeOrder() {
        List<Version> expected = List.of(
                new Version(1, 0), new Version(1, 3), new Version(2, 0),
                new Version(Version.pack(5, 0), 1), new Version(Version.pack(5, 0), 2), new Version(Version.pack(5, 1), 0));
        List<Version> shuffled = new ArrayList<>(expected);
        Collections.shuffle(shuffled, new java.util.Random(7));
        Collections.sort(shuffled);
        assertThat(shuffled).containsExactlyElementsOf(expected);
    }

    @Test
    void rejectsNegativeParts() {
        assertThatThrownBy(() -> new Version(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Version(0, -1)).isInstanceOf(IllegalArgumentException.class);
    }
}
