package dev.pgqueue.dashboard;

import dev.pgqueue.admin.JobCount;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** Times, durations and counts as pages show them (UTC). */
final class Format {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

    private Format() {}

    static String time(Instant t) {
        return t == null ? "–" : TIME.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    /** {@code 3 min ago}, {@code in 20 s}. */
    static String relative(Instant t, Instant now) {
        if (t == null) {
            return "–";
        }
        Duration d = Duration.between(t, now);
        return d.isNegative() ? "in " + duration(d.negated()) : duration(d) + " ago";
    }

    static String duration(Duration d) {
        if (d == null) {
            return "–";
        }
        long s = d.getSeconds();
        if (s < 1) {
            return d.toMillis() + " ms";
        }
        if (s < 120) {
            return s + " s";
        }
        if (s < 7200) {
            return (s / 60) + " min";
        }
        if (s < 172800) {
            return (s / 3600) + " h " + (s % 3600) / 60 + " min";
        }
        return (s / 86400) + " d";
    }

    /**
     * The last 12 hex digits of an id: pgqueue's ids are time-ordered (UUIDv7), so their first digits
     * are the same for jobs created close together, and their last ones are random.
     */
    static String shortId(java.util.UUID id) {
        return "…" + id.toString().substring(24);
    }

    static String count(long n) {
        return String.format(java.util.Locale.ROOT, "%,d", n);
    }

    /** {@code 1,204}, {@code 10,000+} (counting stopped there), {@code ≈ 915,000} (a planner estimate, to 3 digits). */
    static String count(JobCount n) {
        return switch (n.accuracy()) {
            case EXACT -> count(n.value());
            case AT_LEAST -> count(n.value()) + "+";
            case ESTIMATE -> "≈ " + count(roughly(n.value()));
        };
    }

    /** What a count's accuracy means, for a tooltip; null for an exact count. */
    static String accuracyNote(JobCount n) {
        return switch (n.accuracy()) {
            case EXACT -> null;
            case AT_LEAST -> "more than " + count(n.value()) + ": counting stops there";
            case ESTIMATE -> "estimate from PostgreSQL's planner statistics (kept by ANALYZE), not counted";
        };
    }

    /** An estimate to three significant digits: its other digits mean nothing. */
    static long roughly(long n) {
        long scale = 1;
        while (n / scale >= 1000) {
            scale *= 10;
        }
        return Math.round((double) n / scale) * scale;
    }
}
