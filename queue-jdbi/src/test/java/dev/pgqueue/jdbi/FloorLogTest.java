package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.jdbi.FloorLog.Event;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.EventRecordingLogger;
import org.slf4j.event.SubstituteLoggingEvent;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.helpers.SubstituteLogger;

/**
 * What a store says about its floors: every switch at DEBUG, and INFO only for a floor that stayed on for
 * a minute (said once) and for its end. The clock is passed in, so each step is exact.
 */
class FloorLogTest {

    private static final long S = 1_000_000_000L;

    private static final FloorLog.Messages MESSAGES =
            new FloorLog.Messages("on {}", "off {} after {} ms", "held {} for {} s", "released {} after {} s");

    private final FloorLog log = new FloorLog(LoggerFactory.getLogger(FloorLogTest.class), MESSAGES);
    private final Object floor = new Object();

    @Test
    void aFloorThatFlaps_isNeverSaidAtInfo() {
        // As a busy queue under the default autovacuum: on for a few seconds, off, on again, for ten minutes.
        List<Event> events = new ArrayList<>();
        for (long t = 0; t < 600 * S; t += 10 * S) {
            events.add(log.observe(floor, false, true, t).event());
            events.add(log.observe(floor, true, true, t + 2 * S).event()); // a sweep while on
            events.add(log.observe(floor, true, false, t + 4 * S).event());
        }
        assertThat(events).containsOnly(Event.ON, Event.NONE, Event.OFF);
    }

    @Test
    void aFloorOnForAMinute_isSaidOnce_andItsEndToo() {
        assertThat(log.observe(floor, false, true, 0).event()).isEqualTo(Event.ON);
        assertThat(log.observe(floor, true, true, 59 * S).event()).as("a sweep before the minute").isEqualTo(Event.NONE);

        FloorLog.Note held = log.observe(floor, true, true, 61 * S);
        assertThat(held.event()).isEqualTo(Event.HELD);
        assertThat(held.on()).isEqualTo(Duration.ofSeconds(61));
        assertThat(log.observe(floor, true, true, 121 * S).event()).as("said once per spell").isEqualTo(Event.NONE);

        FloorLog.Note released = log.observe(floor, true, false, 130 * S);
        assertThat(released.event()).isEqualTo(Event.RELEASED);
        assertThat(released.on()).isEqualTo(Duration.ofSeconds(130));
    }

    @Test
    void theNextSpell_countsFromItsOwnStart() {
        log.observe(floor, false, true, 0);
        log.observe(floor, true, true, 61 * S);
        log.observe(floor, true, false, 62 * S);

        assertThat(log.observe(floor, false, true, 100 * S).event()).isEqualTo(Event.ON);
        assertThat(log.observe(floor, true, true, 150 * S).event()).as("50 s into the new spell").isEqualTo(Event.NONE);
        assertThat(log.observe(floor, true, true, 161 * S).event()).isEqualTo(Event.HELD);
    }

    @Test
    void aFloorOnForExactlyAMinute_isHeld() {
        log.observe(floor, false, true, 0);
        assertThat(log.observe(floor, true, true, 60 * S).event()).isEqualTo(Event.HELD);
    }

    @Test
    void aMinuteOn_thatNoSweepSaw_isSaidAtTheOff() {
        // Sweeps up to a minute apart: the first one after the switch on may be the one that ends it.
        log.observe(floor, false, true, 0);
        FloorLog.Note off = log.observe(floor, true, false, 70 * S);
        assertThat(off.event()).isEqualTo(Event.RELEASED);
        assertThat(off.on()).isEqualTo(Duration.ofSeconds(70));
    }

    @Test
    void anOffSeenTwice_isSaidOnce() {
        // An off reported twice (two reporters racing) is one off.
        log.observe(floor, false, true, 0);
        log.observe(floor, true, true, 61 * S);
        assertThat(log.observe(floor, true, false, 62 * S).event()).isEqualTo(Event.RELEASED);
        assertThat(log.observe(floor, true, false, 62 * S)).isEqualTo(FloorLog.Note.NONE);
    }

    @Test
    void aSwitchOn_startsANewSpell_evenIfTheOffWasNeverSeen() {
        // Claims and sweeps report from different threads: a second report of the same on, or one whose off
        // was never reported, must not make the spell look older than its latest start.
        log.observe(floor, false, true, 0);
        assertThat(log.observe(floor, false, true, 100 * S).event()).isEqualTo(Event.ON);
        assertThat(log.observe(floor, true, true, 110 * S).event()).isEqualTo(Event.NONE);
    }

    @Test
    void floorsAreCountedApart() {
        Object other = new Object();
        log.observe(floor, false, true, 0);
        log.observe(other, false, true, 50 * S);

        assertThat(log.observe(floor, true, true, 61 * S).event()).isEqualTo(Event.HELD);
        assertThat(log.observe(other, true, true, 61 * S).event()).isEqualTo(Event.NONE);
        assertThat(log.observe(other, true, false, 70 * S).event()).isEqualTo(Event.OFF);
        assertThat(log.observe(floor, true, false, 70 * S).event()).isEqualTo(Event.RELEASED);
    }

    @Test
    void aFloorOffAllAlong_saysNothing() {
        assertThat(log.observe(floor, false, false, 0)).isEqualTo(FloorLog.Note.NONE);
    }

    @Test
    void report_saysAFlapAtDebug_andAHeldFloorAtInfo_withTheirArguments() {
        Queue<SubstituteLoggingEvent> events = new ArrayDeque<>();
        FloorLog reporting = new FloorLog(new EventRecordingLogger(new SubstituteLogger("floors", events, false), events), MESSAGES);

        reporting.report("q", floor, false, true, 0);
        reporting.report("q", floor, true, false, 9 * S);
        reporting.report("q", floor, false, true, 10 * S);
        reporting.report("q", floor, true, true, 20 * S);
        reporting.report("q", floor, true, true, 71 * S);
        reporting.report("q", floor, true, true, 100 * S);
        reporting.report("q", floor, true, false, 130 * S);

        assertThat(events).extracting(e -> e.getLevel() + " " + MessageFormatter.basicArrayFormat(e.getMessage(), e.getArgumentArray()))
                .containsExactly("DEBUG on q", "DEBUG off q after 9000 ms", "DEBUG on q", "INFO held q for 61 s",
                        "INFO released q after 120 s");
    }
}
