package dev.pgqueue.jdbi;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;

/**
 * A clock that stands still until a test moves it. Instants are kept to whole microseconds, the
 * precision of PostgreSQL's timestamptz, so that what a test expects compares equal to what was stored.
 */
final class TestClock extends Clock {

    /** Far from the database's own clock, so that a statement that ignores the injected time shows. */
    static final Instant START = Instant.parse("2031-03-14T09:26:53.589793Z");

    private volatile Instant now;

    TestClock() {
        this(START);
    }

    TestClock(Instant start) {
        set(start);
    }

    void set(Instant instant) {
        now = instant.truncatedTo(ChronoUnit.MICROS);
    }

    Instant advance(Duration duration) {
        set(now.plus(duration));
        return now;
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("a TestClock is always UTC");
    }
}
