package dev.pgqueue.internal;

import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.ValidationException;
import dev.pgqueue.spi.JobStore;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Argument checks shared by every API edge, so that one rule has one wording. Each throws
 * {@link ValidationException} ({@code expected <field> to be <rule>, got: <value>}) and returns the
 * value unchanged: nothing is ever silently corrected.
 */
public final class Check {

    /** Job type names: what the {@code job_queue_job_type_check} constraint accepts. */
    public static final String JOB_TYPE_RULE =
            "1-128 characters of letters, digits and _ . : / -, starting with a letter or digit";
    private static final Pattern JOB_TYPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:/-]{0,127}");

    /** Queue names: what the {@code job_queue_queue_check} constraint accepts. */
    public static final String QUEUE_RULE =
            "1-63 characters of letters, digits, _ and -, starting with a letter or _";
    private static final Pattern QUEUE = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]{0,62}");

    /** Schema names: plain lower-case SQL identifiers, so quoting never changes their meaning. */
    public static final String SCHEMA_RULE =
            "a lower-case SQL identifier: 1-63 characters of a-z, 0-9 and _, starting with a letter or _";
    private static final Pattern SCHEMA = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Dedupe keys: what the {@code job_queue_dedupe_check} constraint accepts. */
    public static final String DEDUPE_KEY_RULE = "1-255 characters without \\u0000";
    /**
     * The prefix of the dedupe keys of recurring jobs' ticks, which workers enqueue; reserved so that
     * no producer can hold (and so silence) a tick. The database rejects it for producers too.
     */
    public static final String RESERVED_KEY_PREFIX = "recurring:";

    private Check() {}

    /** Partition keys: what the {@code job_queue_partition_key_check} constraint accepts. */
    public static final String PARTITION_KEY_RULE = "1-255 characters without \\u0000";

    public static String partitionKey(String field, String value) {
        if (value == null || value.isEmpty() || value.length() > 255 || value.indexOf('\u0000') >= 0) {
            throw new ValidationException(field, PARTITION_KEY_RULE, value);
        }
        return unicode(field, value);
    }

    /** A dedupe key a producer may use: a valid key that does not start with {@link #RESERVED_KEY_PREFIX}. */
    public static String dedupeKey(String field, String value) {
        if (value == null || value.isEmpty() || value.length() > 255 || value.indexOf('\u0000') >= 0) {
            throw new ValidationException(field, DEDUPE_KEY_RULE, value);
        }
        unicode(field, value);
        if (value.startsWith(RESERVED_KEY_PREFIX)) {
            throw new ValidationException(field,
                    "a key not starting with " + RESERVED_KEY_PREFIX + " (reserved for the ticks of recurring jobs)", value);
        }
        return value;
    }

    /**
     * Text that UTF-8 can hold: no half of a surrogate pair, which the driver would store as '?' (so
     * that a key holding one would collide with the key "?").
     */
    public static String unicode(String field, String value) {
        int broken = PayloadCodec.unpairedSurrogate(value);
        if (broken >= 0) {
            throw new ValidationException(field, "valid Unicode (it holds half a surrogate pair, U+"
                    + Integer.toHexString(value.charAt(broken)).toUpperCase(java.util.Locale.ROOT) + " at index " + broken
                    + ", which UTF-8 cannot store)", value);
        }
        return value;
    }

    /** Text for a {@code text} column: at most {@code maxLength} characters, no {@code \u0000} (null allowed). */
    public static String text(String field, String value, int maxLength) {
        if (value != null && (value.length() > maxLength || value.indexOf('\u0000') >= 0)) {
            throw new ValidationException(field, "at most " + maxLength + " characters without \\u0000", value);
        }
        return value;
    }

    /** Keys of a stored trace context (EnqueueInterceptor): lowercase, as W3C header names are. */
    private static final Pattern TRACE_KEY = Pattern.compile("[a-z0-9_.*-]{1," + EnqueueInterceptor.MAX_TRACE_CONTEXT_KEY_LENGTH + "}");

    /**
     * A context to store with jobs ({@link EnqueueInterceptor}): at most
     * {@link EnqueueInterceptor#MAX_TRACE_CONTEXT_BYTES} bytes of keys and values, keys of the
     * W3C header-name alphabet, values printable ASCII. Returns an unmodifiable copy.
     */
    public static Map<String, String> traceContext(String field, Map<String, String> context) {
        notNull(field, context);
        int bytes = 0;
        for (Map.Entry<String, String> entry : context.entrySet()) {
            String key = entry.getKey();
            if (key == null || !TRACE_KEY.matcher(key).matches()) {
                throw new ValidationException(field + " key", "1-" + EnqueueInterceptor.MAX_TRACE_CONTEXT_KEY_LENGTH
                        + " characters a-z 0-9 _ - . *", key);
            }
            String value = entry.getValue();
            if (value == null || !printableAscii(value)) {
                throw new ValidationException(field + " value of " + key, "printable ASCII (space to ~)", value);
            }
            bytes += key.length() + value.length();
        }
        if (bytes > EnqueueInterceptor.MAX_TRACE_CONTEXT_BYTES) {
            throw new ValidationException(field, "at most " + EnqueueInterceptor.MAX_TRACE_CONTEXT_BYTES
                    + " bytes of keys and values", bytes);
        }
        return Map.copyOf(context);
    }

    private static boolean printableAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    public static String jobType(String field, String value) {
        return matches(field, value, JOB_TYPE, JOB_TYPE_RULE);
    }

    public static String queue(String field, String value) {
        return matches(field, value, QUEUE, QUEUE_RULE);
    }

    public static String schema(String field, String value) {
        return matches(field, value, SCHEMA, SCHEMA_RULE);
    }

    public static <T> T notNull(String field, T value) {
        if (value == null) {
            throw new ValidationException(field, "non-null", null);
        }
        return value;
    }

    public static int atLeast(String field, int value, int min) {
        if (value < min) {
            throw new ValidationException(field, ">= " + min, value);
        }
        return value;
    }

    public static long atLeast(String field, long value, long min) {
        if (value < min) {
            throw new ValidationException(field, ">= " + min, value);
        }
        return value;
    }

    public static int between(String field, int value, int min, int max) {
        if (value < min || value > max) {
            throw new ValidationException(field, "between " + min + " and " + max, value);
        }
        return value;
    }

    public static Duration positive(String field, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new ValidationException(field, "> 0", value);
        }
        return value;
    }

    public static Duration notNegative(String field, Duration value) {
        if (value == null || value.isNegative()) {
            throw new ValidationException(field, ">= 0", value);
        }
        return value;
    }

    /** A delay the database can add to a timestamp: between zero and {@link JobStore#MAX_DELAY}. */
    public static Duration delay(String field, Duration value) {
        if (value == null || value.isNegative() || value.compareTo(JobStore.MAX_DELAY) > 0) {
            throw new ValidationException(field, "between PT0S and " + JobStore.MAX_DELAY, value);
        }
        return value;
    }

    /** An instant PostgreSQL's timestamptz can hold and that makes sense for a job: years 1 to 9999. */
    public static Instant instant(String field, Instant value) {
        if (value == null || value.isBefore(EARLIEST) || value.isAfter(LATEST)) {
            throw new ValidationException(field, "between " + EARLIEST + " and " + LATEST, value);
        }
        return value;
    }

    private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");

    private static String matches(String field, String value, Pattern pattern, String rule) {
        if (value == null || !pattern.matcher(value).matches()) {
            throw new ValidationException(field, rule, value);
        }
        return value;
    }
}
