package io.cairn.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class OpenLoopDispatcherTest {
  private static final long START = 7_000_000_000L;
  private static final long MS = 1_000_000;

  /**
   * A connection that records the slot times it was given (also in a log shared by all, in the
   * order they were handed out) and stays busy until freed.
   */
  private static final class FakeConnection implements OpenLoopDispatcher.Sender {
    final List<Long> slots = new ArrayList<>();
    final List<Long> log;
    boolean busy;

    FakeConnection(List<Long> log) {
      this.log = log;
    }

    FakeConnection() {
      this(new ArrayList<>());
    }

    @Override
    public void send(long intendedNanos) {
      assertThat(busy).as("a slot went to a busy connection").isFalse();
      busy = true;
      slots.add(intendedNanos);
      log.add(intendedNanos);
    }
  }

  private final OpenLoopTally tally = new OpenLoopTally();

  private OpenLoopDispatcher dispatcher(double rate, long maxBacklog) {
    OpenLoopDispatcher d = new OpenLoopDispatcher(rate, maxBacklog, tally);
    d.begin(START);
    return d;
  }

  @Test
  void dueSlotsGoToIdleConnectionsOnTime() {
    OpenLoopDispatcher d = dispatcher(1000, 100);
    FakeConnection a = new FakeConnection();
    FakeConnection b = new FakeConnection();
    d.onIdle(a);
    d.onIdle(b);
    assertThat(d.onTick(START)).isEqualTo(START + MS);
    assertThat(d.onTick(START + MS / 2)).isEqualTo(START + MS);
    d.onTick(START + MS);
    assertThat(a.slots).containsExactly(START);
    assertThat(b.slots).containsExactly(START + MS);
    assertThat(tally.snapshot()).isEqualTo(new OpenLoopTally.Snapshot(2, 2, 0, 0));
  }

  @Test
  void whenEveryConnectionIsBusyASlotWaitsAndKeepsItsIntendedTime() {
    OpenLoopDispatcher d = dispatcher(1000, 100);
    FakeConnection a = new FakeConnection();
    d.onIdle(a);
    d.onTick(START);
    d.onTick(START + 3 * MS);
    assertThat(d.backlog()).isEqualTo(3);
    a.busy = false;
    d.onIdle(a);
    assertThat(a.slots).containsExactly(START, START + MS);
    assertThat(d.backlog()).isEqualTo(2);
    assertThat(d.idleConnections()).isZero();
    assertThat(tally.snapshot()).isEqualTo(new OpenLoopTally.Snapshot(4, 1, 1, 0));
  }

  @Test
  void aFullBacklogDropsItsOldestSlotsAsUnsent() {
    OpenLoopDispatcher d = dispatcher(1000, 2);
    d.onTick(START + 9 * MS);
    assertThat(d.backlog()).isEqualTo(2);
    FakeConnection a = new FakeConnection();
    d.onIdle(a);
    assertThat(a.slots).containsExactly(START + 8 * MS);
    assertThat(tally.snapshot()).isEqualTo(new OpenLoopTally.Snapshot(10, 0, 1, 8));
  }

  @Test
  void withoutABacklogASlotThatFindsNoConnectionIsUnsent() {
    OpenLoopDispatcher d = dispatcher(1000, 0);
    FakeConnection a = new FakeConnection();
    d.onIdle(a);
    d.onTick(START + 4 * MS);
    assertThat(a.slots).containsExactly(START);
    a.busy = false;
    d.onIdle(a);
    assertThat(a.slots).hasSize(1);
    assertThat(d.idleConnections()).isEqualTo(1);
    assertThat(tally.snapshot()).isEqualTo(new OpenLoopTally.Snapshot(5, 1, 0, 4));
  }

  @Test
  void aClosedConnectionGetsNoSlot() {
    OpenLoopDispatcher d = dispatcher(1000, 10);
    FakeConnection a = new FakeConnection();
    d.onIdle(a);
    d.onGone(a);
    d.onTick(START);
    assertThat(a.slots).isEmpty();
    assertThat(d.backlog()).isEqualTo(1);
  }

  /**
   * Seeded random ticks, frees and closes: every due slot is accounted for exactly once, slots
   * go out in timetable order and never before they are due, the backlog keeps its bound, and a
   * connection is never idle while a slot waits.
   */
  @Test
  void everySlotIsSentOnceInOrderOrCountedUnsent() {
    for (long seed = 0; seed < 200; seed++) {
      SplittableRandom random = new SplittableRandom(seed);
      OpenLoopTally t = new OpenLoopTally();
      double rate = 100 + random.nextInt(100_000);
      long maxBacklog = random.nextInt(50);
      OpenLoopDispatcher d = new OpenLoopDispatcher(rate, maxBacklog, t);
      d.begin(START);
      Timetable timetable = new Timetable(START, rate);
      List<Long> sent = new ArrayList<>();
      List<FakeConnection> connections = new ArrayList<>();
      for (int i = 0; i < 1 + random.nextInt(8); i++) {
        connections.add(new FakeConnection(sent));
      }
      List<FakeConnection> listed = new ArrayList<>();
      long now = START;
      for (int step = 0; step < 2_000; step++) {
        now += random.nextLong(0, 3 * MS);
        int sentBefore = sent.size();
        FakeConnection c = connections.get(random.nextInt(connections.size()));
        switch (random.nextInt(3)) {
          case 0 -> d.onTick(now);
          case 1 -> {
            if (!listed.contains(c)) {
              c.busy = false;
              listed.add(c);
              d.onIdle(c);
            }
          }
          default -> {
            if (listed.remove(c)) {
              d.onGone(c);
            }
          }
        }
        listed.removeIf(x -> x.busy);
        for (long slotTime : sent.subList(sentBefore, sent.size())) {
          assertThat(slotTime).as("seed %d: sent before its time", seed).isLessThanOrEqualTo(now);
          long slot = timetable.dueBy(slotTime) - 1;
          assertThat(timetable.intended(slot)).as("seed %d: a real slot", seed).isEqualTo(slotTime);
        }
        OpenLoopTally.Snapshot s = t.snapshot();
        assertThat(s.scheduled())
            .as("seed %d: every due slot accounted for", seed)
            .isEqualTo(s.sentOnTime() + s.sentDelayed() + s.unsent() + d.backlog());
        assertThat((long) sent.size()).isEqualTo(s.sentOnTime() + s.sentDelayed());
        assertThat(d.backlog()).as("seed %d: backlog bound", seed).isLessThanOrEqualTo(maxBacklog);
        assertThat(d.idleConnections()).isEqualTo(listed.size());
        if (d.backlog() > 0) {
          assertThat(d.idleConnections()).as("seed %d: idle while slots wait", seed).isZero();
        }
      }
      for (int i = 1; i < sent.size(); i++) {
        assertThat(sent.get(i)).as("seed %d: timetable order", seed).isGreaterThan(sent.get(i - 1));
      }
    }
  }
}
