package dev.pgqueue.internal;

import dev.pgqueue.Schedule;
import dev.pgqueue.ValidationException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a schedule back from its text ({@link Schedule#toString()}), as workers record it in the
 * worker registry, so that tools without the worker's code (the admin API) can compute its next
 * tick. The missed-tick policy after the comma does not change the ticks and is ignored.
 */
public final class ScheduleText {

    private static final Pattern CRON = Pattern.compile("^cron \"(.*)\" in ([^,\\s]+)(,.*)?$");
    private static final Pattern EVERY = Pattern.compile("^every (\\S+?)(,.*)?$");

    private ScheduleText() {}

    /**
     * The schedule {@code text} describes.
     *
     * @param text a schedule's {@code toString()}
     * @return the schedule, or empty if the text is not one (written by another version, say)
     */
    public static Optional<Schedule> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        try {
            Matcher cron = CRON.matcher(text);
            if (cron.matches()) {
                return Optional.of(Schedule.cron(cron.group(1), cron.group(2)));
            }
            Matcher every = EVERY.matcher(text);
            if (every.matches()) {
                return Optional.of(Schedule.every(Duration.parse(every.group(1))));
            }
        } catch (ValidationException | DateTimeParseException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
