package dev.pgqueue.internal;

import com.cronutils.model.Cron;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinition;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import dev.pgqueue.ValidationException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The instants a recurring schedule fires at: a cron expression in a time zone (parsed and evaluated
 * by cron-utils, never by hand), or a fixed interval counted from the Unix epoch. Every worker
 * computes the same instants from the same schedule, which is what lets them agree on each tick's
 * dedupe key without talking to each other. Ticks are whole seconds (five-field cron: whole minutes).
 */
public abstract sealed class Ticks {

    /**
     * The cron expressions pgqueue accepts: the classic crontab's five fields, the usual nicknames, and
     * six fields with seconds first as Spring and Quartz write them.
     */
    public static final String CRON_RULE = "a cron expression of 5 fields (minute hour day-of-month month day-of-week),"
            + " of 6 fields as Spring and Quartz write them (second minute hour day-of-month month day-of-week, the day"
            + " of week as *, ? or names such as MON-FRI)"
            + " or one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually";

    private static final CronDefinition UNIX_WITH_NICKNAMES = CronDefinitionBuilder.defineCron()
            .withMinutes().withValidRange(0, 59).withStrictRange().and()
            .withHours().withValidRange(0, 23).withStrictRange().and()
            .withDayOfMonth().withValidRange(1, 31).withStrictRange().and()
            .withMonth().withValidRange(1, 12).withStrictRange().and()
            .withDayOfWeek().withValidRange(0, 7).withMondayDoWValue(1).withIntMapping(7, 0).withStrictRange().and()
            .withSupportedNicknameHourly()
            .withSupportedNicknameDaily()
            .withSupportedNicknameMidnight()
            .withSupportedNicknameWeekly()
            .withSupportedNicknameMonthly()
            .withSupportedNicknameYearly()
            .withSupportedNicknameAnnually()
            .instance();
    private static final CronParser PARSER = new CronParser(UNIX_WITH_NICKNAMES);
    /**
     * Six fields, seconds first: Spring's {@code CronExpression} (5.3 and newer), which reads Quartz's
     * six-field expressions the same way (with {@code ?}, {@code L}, {@code W} and {@code #}), except
     * for a numbered day of week: 1 is Monday for Spring, Sunday for Quartz. So that neither reader is
     * surprised, a six-field expression names its days (MON-FRI), see {@link #NUMBERED_DAY_OF_WEEK}.
     */
    private static final CronParser SECONDS_PARSER = new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.SPRING53));
    /** A day-of-week field with a number in it, other than a {@code #n} occurrence or a {@code /n} step. */
    private static final Pattern NUMBERED_DAY_OF_WEEK = Pattern.compile(".*\\d.*");

    /** The first tick strictly after {@code instant}, if the schedule fires again. */
    public abstract Optional<Instant> next(Instant instant);

    /** The latest tick at or before {@code instant}, if there is one. */
    public abstract Optional<Instant> latestAtOrBefore(Instant instant);

    /**
     * @throws ValidationException if the expression does not parse, never fires, or the zone is unknown
     */
    public static Ticks cron(String expression, String zone) {
        Check.notNull("time zone", zone);
        ZoneId zoneId;
        try {
            zoneId = ZoneId.of(zone);
        } catch (DateTimeException e) {
            throw new ValidationException("time zone", "a time zone id such as UTC or Europe/Berlin (java.time.ZoneId)", zone);
        }
        return cron(expression, zoneId);
    }

    /** @throws ValidationException if the expression does not parse or never fires */
    public static Ticks cron(String expression, ZoneId zone) {
        Check.notNull("cron expression", expression);
        Check.notNull("time zone", zone);
        String trimmed = expression.trim();
        String[] fields = trimmed.split("\\s+");
        Cron cron;
        try {
            if (fields.length == 6) {
                String dayOfWeek = fields[5].replaceAll("[#/]\\d+", "");
                if (NUMBERED_DAY_OF_WEEK.matcher(dayOfWeek).matches()) {
                    throw new ValidationException("cron expression", CRON_RULE + " (a numbered day of week means"
                            + " another day to Spring than to Quartz: 1 is Monday for one, Sunday for the other;"
                            + " write MON, TUE, ... SUN)", expression);
                }
                cron = SECONDS_PARSER.parse(trimmed).validate();
            } else if (fields.length == 5 || trimmed.startsWith("@")) {
                cron = PARSER.parse(trimmed).validate();
            } else {
                throw new ValidationException("cron expression", CRON_RULE + " (" + (trimmed.isEmpty() ? "it is empty"
                        : "it has " + fields.length + " field" + (fields.length == 1 ? "" : "s")) + ")", expression);
            }
        } catch (IllegalArgumentException e) {
            throw new ValidationException("cron expression", CRON_RULE + " (" + e.getMessage() + ")", expression);
        }
        CronTicks ticks = new CronTicks(ExecutionTime.forCron(cron), zone);
        // From a fixed instant, so that whether an expression is accepted does not depend on the day.
        Instant probe = Instant.parse("2000-01-01T00:00:00Z");
        if (ticks.next(probe).isEmpty() || ticks.next(Instant.parse("2100-01-01T00:00:00Z")).isEmpty()) {
            throw new ValidationException("cron expression", "one that fires (on dates that exist)", expression);
        }
        return ticks;
    }

    /** @throws ValidationException unless the interval is a whole number of seconds, at least one */
    public static Ticks every(Duration interval) {
        Check.notNull("interval", interval);
        if (interval.compareTo(Duration.ofSeconds(1)) < 0 || interval.getNano() != 0) {
            throw new ValidationException("interval", "a whole number of seconds, at least 1 s", interval);
        }
        return new IntervalTicks(interval.getSeconds());
    }

    private static final class CronTicks extends Ticks {
        private final ExecutionTime executionTime;
        private final ZoneId zone;

        CronTicks(ExecutionTime executionTime, ZoneId zone) {
            this.executionTime = executionTime;
            this.zone = zone;
        }

        @Override
        public Optional<Instant> next(Instant instant) {
            // Ticks are whole seconds: the first tick after the truncated instant is the first after it.
            ZonedDateTime from = instant.truncatedTo(ChronoUnit.SECONDS).atZone(zone);
            return executionTime.nextExecution(from).map(ZonedDateTime::toInstant);
        }

        @Override
        public Optional<Instant> latestAtOrBefore(Instant instant) {
            // lastExecution is strictly before its argument.
            ZonedDateTime before = instant.truncatedTo(ChronoUnit.SECONDS).plusSeconds(1).atZone(zone);
            return executionTime.lastExecution(before).map(ZonedDateTime::toInstant);
        }
    }

    private static final class IntervalTicks extends Ticks {
        private final long seconds;

        IntervalTicks(long seconds) {
            this.seconds = seconds;
        }

        @Override
        public Optional<Instant> next(Instant instant) {
            long k = Math.floorDiv(instant.getEpochSecond(), seconds) + 1;
            return Optional.of(Instant.ofEpochSecond(k * seconds));
        }

        @Override
        public Optional<Instant> latestAtOrBefore(Instant instant) {
            long k = Math.floorDiv(instant.getEpochSecond(), seconds);
            return Optional.of(Instant.ofEpochSecond(k * seconds));
        }
    }
}
