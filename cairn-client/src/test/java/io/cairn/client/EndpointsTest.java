package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Endpoint parsing and health-aware selection, on a hand-driven clock. */
class EndpointsTest {
    private long now = 1_000;
    private static final long DOWN = TimeUnit.SECONDS.toNanos(5);

    private Endpoints endpoints(EndpointSelection selection, int n) {
        List<URI> bases = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            bases.add(URI.create("http://10.0.0." + i + ":7070"));
        }
        return new Endpoints(bases, selection, DOWN, () -> now);
    }

    private static String host(Endpoints.Endpoint e) {
        return e.base.getHost();
    }

    @Test
    void parsesHostPortAndUrls() {
        assertThat(Endpoints.parse("127.0.0.1:7070")).isEqualTo(URI.create("http://127.0.0.1:7070"));
        assertThat(Endpoints.parse("http://db.example:8080/")).isEqualTo(URI.create("http://db.example:8080"));
        assertThat(Endpoints.parse(" https://db.example ")).isEqualTo(URI.create("https://db.example:443"));
        assertThat(Endpoints.parse("http://[::1]:7070")).isEqualTo(URI.create("http://[::1]:7070"));
        for (String bad : new String[] {"ftp://h:1", "http://h:1/kv", "http://h:1?x=1", "http://user@h:1", "://", "http://:7070"}) {
            assertThatThrownBy(() -> Endpoints.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void roundRobinTakesEachEndpointInTurnAndSkipsOnesThatAreDown() {
        Endpoints e = endpoints(EndpointSelection.ROUND_ROBIN, 3);
        List<String> picked = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            picked.add(host(e.pick(null)));
        }
        assertThat(picked).containsExactly("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.3");
        e.markDown(e.all().get(1));
        picked.clear();
        for (int i = 0; i < 6; i++) {
            picked.add(host(e.pick(null)));
        }
        assertThat(picked).doesNotContain("10.0.0.2").contains("10.0.0.1", "10.0.0.3");
        now += DOWN;
        assertThat(e.isUp(e.all().get(1))).as("back after its down time").isTrue();
    }

    @Test
    void preferredFirstStaysOnTheFirstHealthyEndpoint() {
        Endpoints e = endpoints(EndpointSelection.PREFERRED_FIRST, 3);
        assertThat(host(e.pick(null))).isEqualTo("10.0.0.1");
        assertThat(host(e.pick(null))).isEqualTo("10.0.0.1");
        e.markDown(e.all().get(0));
        assertThat(host(e.pick(null))).isEqualTo("10.0.0.2");
        e.markUp(e.all().get(0));
        assertThat(host(e.pick(null))).isEqualTo("10.0.0.1");
    }

    @Test
    void aRetryMovesToAnotherEndpointUnlessTheFailedOneIsTheOnlyHealthyOne() {
        Endpoints e = endpoints(EndpointSelection.PREFERRED_FIRST, 3);
        Endpoints.Endpoint first = e.pick(null);
        assertThat(host(e.pick(first))).isEqualTo("10.0.0.2");
        e.markDown(e.all().get(1));
        e.markDown(e.all().get(2));
        assertThat(e.pick(first)).as("it answered (contention, say): ask it again").isSameAs(first);
    }

    @Test
    void whenEveryEndpointIsDownTheOneBackSoonestIsTriedAnyway() {
        Endpoints e = endpoints(EndpointSelection.ROUND_ROBIN, 3);
        e.markDown(e.all().get(2));
        now += 10;
        e.markDown(e.all().get(0));
        now += 10;
        e.markDown(e.all().get(1));
        for (int i = 0; i < 3; i++) {
            assertThat(host(e.pick(null))).isEqualTo("10.0.0.3");
        }
        assertThat(host(e.pick(e.all().get(2)))).as("not the one that just failed").isEqualTo("10.0.0.1");
        Endpoints single = endpoints(EndpointSelection.ROUND_ROBIN, 1);
        single.markDown(single.all().get(0));
        assertThat(single.pick(single.all().get(0))).isSameAs(single.all().get(0));
    }
}
