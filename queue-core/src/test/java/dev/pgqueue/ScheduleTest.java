package dev.pgqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ScheduleTest {

    private static Instant at(String instant) {
        return Instant.parse(instant);
    }

    private static List<Instant> ticks(Schedule schedule, String from, int count) {
        List<Instant> ticks = new ArrayList<>();
        Instant t = at(from);
        for (int i = 0; i < count; i++) {
            t = schedule.nextTick(t).orElseThrow();
            ticks.add(t);
        }
        return ticks;
    }

    @Nested
    class Cron {

        @Test
        void nextTick_isStrictlyAfter_andReadInTheTimeZone() {
            Schedule nightly = Schedule.cron("0 3 * * *", "Europe/Berlin");

            assertThat(nightly.nextTick(at("2030-01-01T01:59:59Z"))).contains(at("2030-01-01T02:00:00Z"));
            assertThat(nightly.nextTick(at("2030-01-01T02:00:00Z"))).contains(at("2030-01-02T02:00:00Z"));
            assertThat(nightly.nextTick(at("2030-07-01T00:00:00Z"))).contains(at("2030-07-01T01:00:00Z"));
        }

        @Test
        void latestTick_isAtOrBefore() {
            Schedule quarterly = Schedule.cron("*/15 * * * *", ZoneId.of("UTC"));

            assertThat(quarterly.latestTick(at("2030-01-01T10:15:00Z"))).contains(at("2030-01-01T10:15:00Z"));
            assertThat(quarterly.latestTick(at("2030-01-01T10:14:59.999Z"))).contains(at("2030-01-01T10:00:00Z"));
        }

        @Test
        void nicknamesAndDayNames_areAccepted() {
            assertThat(ticks(Schedule.cron("@hourly", "UTC"), "2030-01-01T00:30:00Z", 2))
                    .containsExactly(at("2030-01-01T01:00:00Z"), at("2030-01-01T02:00:00Z"));
            assertThat(Schedule.cron("0 9 * * MON", "UTC").nextTick(at("2030-01-01T00:00:00Z")))   // a Tuesday
                    .contains(at("2030-01-07T09:00:00Z"));
            assertThat(Schedule.cron("0 9 * * 7", "UTC").nextTick(at("2030-01-01T00:00:00Z")))     // 7 is Sunday
                    .contains(at("2030-01-06T09:00:00Z"));
        }

        @Test
        void sixFields_secondsFirst_asSpringAndQuartzWriteThem() {
            // Spring's @Scheduled(cron = ...): 09:30 on weekdays (2030-01-01 is a Tuesday).
            assertThat(ticks(Schedule.cron("0 30 9 * * MON-FRI", "UTC"), "2030-01-01T00:00:00Z", 2))
                    .containsExactly(at("2030-01-01T09:30:00Z"), at("2030-01-02T09:30:00Z"));
            // Seconds: every 10 s.
            assertThat(ticks(Schedule.cron("*/10 * * * * *", "UTC"), "2030-01-01T00:00:05Z", 3))
                    .containsExactly(at("2030-01-01T00:00:10Z"), at("2030-01-01T00:00:20Z"), at("2030-01-01T00:00:30Z"));
            assertThat(Schedule.cron("15 * * * * *", "UTC").latestTick(at("2030-01-01T10:00:14Z")))
                    .contains(at("2030-01-01T09:59:15Z"));
            // Quartz's ? for "no specific day", and its L (the last day of the month).
            assertThat(Schedule.cron("0 15 10 ? * MON", "UTC").nextTick(at("2030-01-01T00:00:00Z")))
                    .contains(at("2030-01-07T10:15:00Z"));
            assertThat(Schedule.cron("0 0 12 L * ?", "UTC").nextTick(at("2030-02-01T00:00:00Z")))
                    .contains(at("2030-02-28T12:00:00Z"));
            // The same ticks as the five-field form, read in the time zone.
            assertThat(ticks(Schedule.cron("0 0 3 * * *", "Europe/Berlin"), "2030-01-01T00:00:00Z", 3))
                    .isEqualTo(ticks(Schedule.cron("0 3 * * *", "Europe/Berlin"), "2030-01-01T00:00:00Z", 3));
        }

        @Test
        void sixFields_withANumberedDayOfWeek_areRejected_forSpringAndQuartzNumberThemDifferently() {
            assertThatThrownBy(() -> Schedule.cron("0 0 9 * * 1-5", "UTC"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("1 is Monday for one, Sunday for the other; write MON, TUE, ... SUN)")
                    .hasMessageEndingWith("got: \"0 0 9 * * 1-5\"");
            assertThatThrownBy(() -> Schedule.cron("0 0 9 ? * 2", "UTC")).isInstanceOf(ValidationException.class);
            // A #n occurrence is not a day: the second Monday.
            assertThat(Schedule.cron("0 0 9 ? * MON#2", "UTC").nextTick(at("2030-01-01T00:00:00Z")))
                    .contains(at("2030-01-14T09:00:00Z"));
        }

        @Test
        void springForward_aLocalTimeThatDoesNotExistIsSkippedThatDay() {
            Schedule halfPastTwo = Schedule.cron("30 2 * * *", "Europe/Berlin");

            assertThat(ticks(halfPastTwo, "2030-03-30T12:00:00Z", 2))
                    .containsExactly(at("2030-04-01T00:30:00Z"), at("2030-04-02T00:30:00Z"));
        }

        @Test
        void fallBack_aDailyTimeThatOccursTwiceFiresOnce_aHalfHourlyOneAtBothInstants() {
            assertThat(ticks(Schedule.cron("30 2 * * *", "Europe/Berlin"), "2030-10-26T12:00:00Z", 2))
                    .containsExactly(at("2030-10-27T00:30:00Z"), at("2030-10-28T01:30:00Z"));
            assertThat(ticks(Schedule.cron("*/30 * * * *", "Europe/Berlin"), "2030-10-26T23:50:00Z", 4))
                    .containsExactly(at("2030-10-27T00:00:00Z"), at("2030-10-27T00:30:00Z"),
                            at("2030-10-27T01:00:00Z"), at("2030-10-27T01:30:00Z"));
        }

        @Test
        void invalidExpressions_unknownZones_andNeverFiring_areRejectedClearly() {
            assertThatThrownBy(() -> Schedule.cron("* * *", "UTC"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageEndingWith("(it has 3 fields), got: \"* * *\"");
            assertThatThrownBy(() -> Schedule.cron("0 0 12 * * ? 2030", "UTC"))
                    .hasMessageEndingWith("(it has 7 fields), got: \"0 0 12 * * ? 2030\"");
            assertThatThrownBy(() -> Schedule.cron("", "UTC"))
                    .hasMessageEndingWith("(it is empty), got: \"\"");
            assertThatThrownBy(() -> Schedule.cron("61 * * * * *", "UTC"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected cron expression to be a cron expression of 5 fields");
            assertThatThrownBy(() -> Schedule.cron(null, "UTC"))
                    .hasMessage("expected cron expression to be non-null, got: null");
            assertThatThrownBy(() -> Schedule.cron("0 0 31 4 *", "UTC"))
                    .hasMessage("expected cron expression to be one that fires (on dates that exist), got: \"0 0 31 4 *\"");
            assertThatThrownBy(() -> Schedule.cron("0 3 * * *", "CEST"))
                    .hasMessage("expected time zone to be a time zone id such as UTC or Europe/Berlin (java.time.ZoneId), got: \"CEST\"");
            assertThatThrownBy(() -> Schedule.cron("0 3 * * *", (String) null))
                    .hasMessage("expected time zone to be non-null, got: null");
        }

        @Test
        void aLeapDaySchedule_isValid() {
            assertThat(Schedule.cron("0 0 29 2 *", "UTC").nextTick(at("2030-01-01T00:00:00Z")))
                    .contains(at("2032-02-29T00:00:00Z"));
        }
    }

    @Nested
    class Interval {

        @Test
        void ticksAreWholeMultiplesOfTheIntervalSinceTheEpoch() {
            Schedule quarterHour = Schedule.every(Duration.ofMinutes(15));

            assertThat(quarterHour.nextTick(at("2030-01-01T10:07:13.5Z"))).contains(at("2030-01-01T10:15:00Z"));
            assertThat(quarterHour.nextTick(at("2030-01-01T10:15:00Z"))).contains(at("2030-01-01T10:30:00Z"));
            assertThat(quarterHour.latestTick(at("2030-01-01T10:29:59Z"))).contains(at("2030-01-01T10:15:00Z"));
            assertThat(Schedule.every(Duration.ofSeconds(7)).nextTick(Instant.EPOCH)).contains(Instant.ofEpochSecond(7));
        }

        @Test
        void intervalsBelowASecondOrWithFractions_areRejected() {
            assertThatThrownBy(() -> Schedule.every(Duration.ZERO))
                    .hasMessage("expected interval to be a whole number of seconds, at least 1 s, got: PT0S");
            assertThatThrownBy(() -> Schedule.every(Duration.ofMillis(-5)))
                    .hasMessage("expected interval to be a whole number of seconds, at least 1 s, got: PT-0.005S");
        }
    }

    @Test
    void catchUp_defaultsToOne_andIsBounded() {
        Schedule schedule = Schedule.every(Duration.ofHours(1));

        assertThat(schedule.maxCatchUp()).isEqualTo(Schedule.DEFAULT_CATCH_UP).isEqualTo(1);
        assertThat(schedule.skipMissed().maxCatchUp()).isZero();
        assertThat(schedule.catchUp(1_000).maxCatchUp()).isEqualTo(1_000);
        assertThatThrownBy(() -> schedule.catchUp(1_001)).hasMessage("expected catchUp to be between 0 and 1000, got: 1001");
    }

    @Test
    void equalsAndToString_describeTheSchedule() {
        assertThat(Schedule.cron("0 3 * * *", "Europe/Berlin")).isEqualTo(Schedule.cron(" 0 3 * * * ", ZoneId.of("Europe/Berlin")));
        assertThat(Schedule.cron("0 3 * * *", "Europe/Berlin").skipMissed())
                .hasToString("cron \"0 3 * * *\" in Europe/Berlin, missed ticks skipped");
        assertThat(Schedule.every(Duration.ofMinutes(5)).catchUp(3)).hasToString("every PT5M, catch up 3 missed");
        assertThat(Schedule.every(Duration.ofMinutes(5))).isNotEqualTo(Schedule.every(Duration.ofMinutes(5)).catchUp(2));
        assertThat(Schedule.every(Duration.ofSeconds(1)).nextTick(Instant.MAX.minusSeconds(10))).isNotEqualTo(Optional.empty());
    }
}
