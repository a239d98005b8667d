package dev.pgqueue;

import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.Ticks;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Optional;

/**
 * When a recurring job is enqueued: at the ticks of a cron expression in a time zone, or every fixed
 * interval; and what happens to ticks that were missed because no worker was running. Immutable and
 * thread-safe. Register one with {@link Worker.Builder#recurring}.
 *
 * <pre>{@code
 * Schedule.cron("0 3 * * *", "Europe/Berlin")              // 03:00 Berlin time, every day
 * Schedule.cron("*&#47;15 * * * *", "UTC").skipMissed()         // every quarter hour; never catch up
 * Schedule.every(Duration.ofMinutes(10)).catchUp(6)         // after downtime, run up to 6 missed ticks
 * }</pre>
 *
 * <p><b>Cron</b> expressions have the classic crontab's five fields (minute, hour, day of month,
 * month, day of week, with {@code * , - /} and names such as {@code MON}), or a nickname
 * ({@code @hourly}, {@code @daily}, {@code @midnight}, {@code @weekly}, {@code @monthly},
 * {@code @yearly}, {@code @annually}), or six fields with seconds first as Spring's
 * {@code @Scheduled(cron = ...)} and Quartz write them ({@code "0 30 9 * * MON-FRI"},
 * {@code "0 15 10 ? * MON"}; also {@code ? L W #}), whose day of week must be named ({@code MON}, not
 * {@code 1}: Spring and Quartz number the days differently) and whose year field (Quartz's seventh)
 * is not supported; they are parsed by cron-utils and read in the given time zone.
 * Around daylight-saving changes a local time that does not exist that day (clocks go forward) is
 * skipped, and one that occurs twice (clocks go back) fires once for schedules that fire less often
 * than hourly and at both instants for more frequent ones.
 *
 * <p><b>Intervals</b> are absolute time, counted from the Unix epoch (1970-01-01T00:00Z), so that
 * every worker computes the same ticks: {@code every(Duration.ofMinutes(15))} fires at :00, :15, :30
 * and :45 UTC. A time zone does not apply to them.
 *
 * <p><b>Missed ticks.</b> A tick is missed when its time passed while no worker with this schedule
 * was running (a worker learns, when it starts, which tick was enqueued last). By default the most
 * recent {@value #DEFAULT_CATCH_UP} missed tick is enqueued when a worker starts again
 * ({@link #catchUp(int)}); {@link #skipMissed()} enqueues none. Ticks that come due while a worker
 * runs are never missed.
 */
public final class Schedule {

    /** How many missed ticks are enqueued after downtime unless {@link #catchUp(int)} says otherwise. */
    public static final int DEFAULT_CATCH_UP = 1;
    /** The most missed ticks {@link #catchUp(int)} may ask for. */
    public static final int MAX_CATCH_UP = 1_000;

    private final Ticks ticks;
    private final String description;
    private final int catchUp;

    private Schedule(Ticks ticks, String description, int catchUp) {
        this.ticks = ticks;
        this.description = description;
        this.catchUp = catchUp;
    }

    /**
     * Fires at the ticks of {@code expression} in {@code timeZone} (an id such as {@code UTC} or
     * {@code Europe/Berlin}).
     *
     * @param expression a five-field cron expression, a nickname such as {@code @daily}, or six
     *     fields with seconds first (Spring, Quartz)
     * @param timeZone the zone id the expression is read in
     * @return the schedule, catching up {@value #DEFAULT_CATCH_UP} missed tick
     * @throws ValidationException if the expression does not parse or never fires, or the time zone
     *     is unknown
     */
    public static Schedule cron(String expression, String timeZone) {
        Ticks ticks = Ticks.cron(expression, timeZone);
        return new Schedule(ticks, "cron \"" + expression.trim() + "\" in " + timeZone, DEFAULT_CATCH_UP);
    }

    /**
     * Fires at the ticks of {@code expression} in {@code zone}.
     *
     * @param expression a five-field cron expression, a nickname such as {@code @daily}, or six
     *     fields with seconds first (Spring, Quartz)
     * @param zone the zone the expression is read in
     * @return the schedule, catching up {@value #DEFAULT_CATCH_UP} missed tick
     * @throws ValidationException if the expression does not parse or never fires
     */
    public static Schedule cron(String expression, ZoneId zone) {
        Ticks ticks = Ticks.cron(expression, zone);
        return new Schedule(ticks, "cron \"" + expression.trim() + "\" in " + zone.getId(), DEFAULT_CATCH_UP);
    }

    /**
     * Fires every {@code interval}, at whole multiples of it since the Unix epoch.
     *
     * @param interval the interval, whole seconds
     * @return the schedule, catching up {@value #DEFAULT_CATCH_UP} missed tick
     * @throws ValidationException unless {@code interval} is a whole number of seconds, at least one
     */
    public static Schedule every(Duration interval) {
        return new Schedule(Ticks.every(interval), "every " + interval, DEFAULT_CATCH_UP);
    }

    /**
     * A copy that, when a worker starts after downtime, enqueues the newest {@code maxMissedTicks}
     * ticks that were missed (each as its own job, due at once) and skips older ones. Zero skips
     * every missed tick, like {@link #skipMissed()}.
     *
     * @param maxMissedTicks how many missed ticks to enqueue at most
     * @return the copy
     * @throws ValidationException unless 0 ≤ {@code maxMissedTicks} ≤ {@value #MAX_CATCH_UP}
     */
    public Schedule catchUp(int maxMissedTicks) {
        return new Schedule(ticks, description, Check.between("catchUp", maxMissedTicks, 0, MAX_CATCH_UP));
    }

    /**
     * A copy that enqueues no missed tick: after downtime, the next tick to come is the first to run.
     *
     * @return the copy
     */
    public Schedule skipMissed() {
        return catchUp(0);
    }

    /**
     * How many missed ticks are enqueued after downtime; 0 means they are skipped.
     *
     * @return the number of missed ticks enqueued at most
     */
    public int maxCatchUp() {
        return catchUp;
    }

    /**
     * The first tick strictly after {@code instant}; empty if the schedule never fires again.
     *
     * @param instant the point in time to look after
     * @return the next tick, or empty
     */
    public Optional<Instant> nextTick(Instant instant) {
        return ticks.next(Check.notNull("instant", instant));
    }

    /**
     * The latest tick at or before {@code instant}; empty if the schedule never fired before it.
     *
     * @param atOrBefore the point in time to look back from
     * @return the latest tick, or empty
     */
    public Optional<Instant> latestTick(Instant atOrBefore) {
        return ticks.latestAtOrBefore(Check.notNull("atOrBefore", atOrBefore));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Schedule other && description.equals(other.description) && catchUp == other.catchUp;
    }

    @Override
    public int hashCode() {
        return description.hashCode() * 31 + catchUp;
    }

    @Override
    public String toString() {
        return description + (catchUp == 0 ? ", missed ticks skipped" : ", catch up " + catchUp + " missed");
    }
}
