package dev.pgqueue.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.ValidationException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class TestClockTest {

    private final TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));

    @Test
    void standsStill_untilMoved() throws InterruptedException {
        Instant before = clock.instant();
        Thread.sleep(5);
        assertThat(clock.instant()).isEqualTo(before);
        assertThat(clock.millis()).isEqualTo(before.toEpochMilli());
    }

    @Test
    void advance_movesForwards_andSet_movesAnywhere() {
        assertThat(clock.advance(Duration.ofMinutes(90))).isEqualTo(Instant.parse("2030-01-01T01:30:00Z"));
        assertThat(clock.instant()).isEqualTo(Instant.parse("2030-01-01T01:30:00Z"));
        clock.set(Instant.parse("2029-12-31T00:00:00Z"));
        assertThat(clock.instant()).isEqualTo(Instant.parse("2029-12-31T00:00:00Z"));
    }

    @Test
    void advancingBackwards_isRejected_andTheClockStays() {
        assertThatThrownBy(() -> clock.advance(Duration.ofSeconds(-1)))
                .isInstanceOf(ValidationException.class)
                .hasMessage("expected duration to be >= 0 (use set(instant) to go back), got: PT-1S");
        assertThatThrownBy(() -> TestClock.at(null)).hasMessage("expected start to be non-null, got: null");
        assertThat(clock.instant()).isEqualTo(Instant.parse("2030-01-01T00:00:00Z"));
    }

    @Test
    void aZonedView_movesWithTheClock() {
        TestClock berlin = clock.withZone(ZoneId.of("Europe/Berlin"));
        clock.advance(Duration.ofHours(1));

        assertThat(berlin.instant()).isEqualTo(clock.instant());
        assertThat(berlin.getZone()).isEqualTo(ZoneId.of("Europe/Berlin"));
        assertThat(clock.getZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(berlin).isNotEqualTo(clock).isEqualTo(clock.withZone(ZoneId.of("Europe/Berlin")));
        assertThat(berlin).hasToString("TestClock[2030-01-01T01:00:00Z, Europe/Berlin]");
    }
}
