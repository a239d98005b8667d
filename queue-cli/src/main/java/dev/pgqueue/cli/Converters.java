package dev.pgqueue.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Option values that need more than picocli's defaults, each failing with what was expected and what was given. */
final class Converters {

    private static final Pattern AGE = Pattern.compile("(\\d{1,9})(s|m|h|d)");

    private Converters() {}

    /** A job id: a UUID. */
    static final class JobId implements ITypeConverter<UUID> {
        @Override
        public UUID convert(String value) {
            try {
                UUID id = UUID.fromString(value);
                if (id.toString().equalsIgnoreCase(value)) {
                    return id;
                }
            } catch (IllegalArgumentException e) {
                // reported below
            }
            throw new TypeConversionException("expected a UUID (like 0190d3c4-5a6b-7c8d-9e0f-123456789abc), got: "
                    + OneLine.of(value));
        }
    }

    /**
     * A point in time: an ISO-8601 instant ({@code 2026-01-31T12:00:00Z}), a date-time or a date in UTC
     * ({@code 2026-01-31T12:00}, {@code 2026-01-31}), or an age back from now ({@code 90s}, {@code 15m},
     * {@code 2h}, {@code 7d}).
     */
    static final class Time implements ITypeConverter<Instant> {
        @Override
        public Instant convert(String value) {
            Matcher age = AGE.matcher(value);
            if (age.matches()) {
                return Instant.now().minus(duration(age));
            }
            try {
                return Instant.parse(value);
            } catch (DateTimeParseException e) {
                // next form
            }
            try {
                return LocalDateTime.parse(value).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                // next form
            }
            try {
                return LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
            } catch (DateTimeParseException e) {
                throw new TypeConversionException("expected a time: an instant (2026-01-31T12:00:00Z), a UTC date "
                        + "(2026-01-31) or an age back from now (90s, 15m, 2h, 7d), got: " + OneLine.of(value));
            }
        }
    }

    /** A duration: {@code 90s}, {@code 15m}, {@code 2h}, {@code 7d}, or ISO-8601 ({@code PT15M}); positive. */
    static final class Age implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            Matcher age = AGE.matcher(value);
            Duration duration = null;
            if (age.matches()) {
                duration = duration(age);
            } else {
                try {
                    duration = Duration.parse(value);
                } catch (DateTimeParseException e) {
                    // reported below
                }
            }
            if (duration == null || duration.isNegative() || duration.isZero()) {
                throw new TypeConversionException("expected a positive duration (90s, 15m, 2h, 7d), got: " + OneLine.of(value));
            }
            return duration;
        }
    }

    private static Duration duration(Matcher age) {
        long n = Long.parseLong(age.group(1));
        return switch (age.group(2)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
