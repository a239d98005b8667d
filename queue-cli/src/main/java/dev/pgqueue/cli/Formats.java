package dev.pgqueue.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/** How tables show times and ages: instants in UTC to the second, durations as {@code 1d02h}, {@code 3m05s}, {@code 42s}. */
final class Formats {

    private Formats() {}

    static String instant(Instant instant) {
        return instant == null ? null : instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }

    static String age(Duration duration) {
        if (duration == null) {
            return null;
        }
        long seconds = Math.max(0, duration.getSeconds());
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return String.format("%dm%02ds", seconds / 60, seconds % 60);
        }
        if (seconds < 86_400) {
            return String.format("%dh%02dm", seconds / 3600, seconds % 3600 / 60);
        }
        return String.format("%dd%02dh", seconds / 86_400, seconds % 86_400 / 3600);
    }

    /** How long ago {@code instant} was, seen from {@code now}. */
    static String ago(Instant instant, Instant now) {
        return instant == null ? null : age(Duration.between(instant, now)) + " ago";
    }
}
