package dev.pgqueue.testing;

import dev.pgqueue.ValidationException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A clock that stands still until the test moves it, so that time-based behaviour (delays, retry
 * backoff, snoozes, uniqueness periods, recurring ticks) is tested without sleeping. Give the same
 * instance to everything under test that takes a clock: {@code JdbiJobQueue.builder(store).clock(c)},
 * {@code Worker.builder(store).clock(c)}, {@link QueueTester.Builder#clock(Clock)}; pgqueue then
 * passes its time to the database instead of using the database's own.
 *
 * <pre>{@code
 * TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));
 * queue.enqueue(REMIND, reminder, EnqueueOptions.defaults().delay(Duration.ofHours(1)));
 * assertThat(tester.drain()).isEmpty();          // not due yet
 * clock.advance(Duration.ofHours(1));
 * assertThat(tester.drain()).hasSize(1);
 * }</pre>
 *
 * <p>Thread-safe: workers read it from their own threads while the test moves it. {@link #withZone}
 * gives a view in another zone that moves together with this clock.
 */
public final class TestClock extends Clock {

    private final AtomicReference<Instant> now;
    private final ZoneId zone;

    private TestClock(AtomicReference<Instant> now, ZoneId zone) {
        this.now = now;
        this.zone = zone;
    }

    /**
     * A clock standing at {@code start}, in UTC.
     *
     * @param start the initial instant
     * @return the clock
     */
    public static TestClock at(Instant start) {
        return new TestClock(new AtomicReference<>(requireNonNull("start", start)), ZoneOffset.UTC);
    }

    /**
     * Moves the clock to {@code instant}, forwards or back; returns it.
     *
     * @param instant the new time
     * @return {@code instant}
     */
    public Instant set(Instant instant) {
        now.set(requireNonNull("instant", instant));
        return instant;
    }

    /**
     * Moves the clock forwards by {@code duration}; returns the new time.
     *
     * @param duration how far to move; zero or positive
     * @return the new time
     * @throws ValidationException if {@code duration} is negative (use {@link #set} to go back)
     */
    public Instant advance(Duration duration) {
        requireNonNull("duration", duration);
        if (duration.isNegative()) {
            throw new ValidationException("duration", ">= 0 (use set(instant) to go back)", duration);
        }
        return now.updateAndGet(t -> t.plus(duration));
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    @Override
    public ZoneId getZone() {
        return zone;
    }

    /** A view of this clock in {@code zone}: it shows, and moves with, the same instant. */
    @Override
    public TestClock withZone(ZoneId zone) {
        return new TestClock(now, requireNonNull("zone", zone));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TestClock other && other.now == now && other.zone.equals(zone);
    }

    @Override
    public int hashCode() {
        return Objects.hash(System.identityHashCode(now), zone);
    }

    @Override
    public String toString() {
        return "TestClock[" + now.get() + (zone.equals(ZoneOffset.UTC) ? "" : ", " + zone) + "]";
    }

    private static <T> T requireNonNull(String field, T value) {
        if (value == null) {
            throw new ValidationException(field, "non-null", null);
        }
        return value;
    }
}
