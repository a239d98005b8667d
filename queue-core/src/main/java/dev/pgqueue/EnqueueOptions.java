package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * How to enqueue a job: which queue, its priority, when it becomes due, how many retries it gets,
 * which user it belongs to, and whether it is unique. Immutable; start from {@link #defaults()} and
 * change what you need:
 *
 * <pre>{@code
 * EnqueueOptions.defaults().queue("images").priority(-10).delay(Duration.ofMinutes(5)).userId(user)
 * EnqueueOptions.defaults().dedupeKey("digest:" + userId)   // at most one pending or running digest per user
 * }</pre>
 *
 * @param queue      the queue; workers serve named queues. Default {@value #DEFAULT_QUEUE}
 * @param priority   lower runs first. Default {@value #DEFAULT_PRIORITY}
 * @param runAt      when the job becomes due, or null to use {@code delay}
 * @param delay      how long after enqueue (by the database's clock) the job becomes due, used when
 *                   {@code runAt} is null. Default zero: due at once
 * @param maxRetries retries after the first run. Default {@value #DEFAULT_MAX_RETRIES}
 * @param userId     the seed's {@code user_id}, or null
 * @param dedupeKey  the job's dedupe key, or null for none: while a job of the same type holds the
 *                   same key (see {@code uniqueness}), enqueueing another one enqueues nothing and
 *                   returns the existing job's id. 1-{@value #MAX_DEDUPE_KEY_LENGTH} characters
 * @param uniqueness when the key blocks duplicates, or null for {@link Uniqueness#DEFAULT} (while
 *                   pending or processing); only meaningful with a dedupe key
 */
public record EnqueueOptions(
        String queue,
        int priority,
        Instant runAt,
        Duration delay,
        int maxRetries,
        UUID userId,
        String dedupeKey,
        Uniqueness uniqueness) {

    public static final String DEFAULT_QUEUE = "default";
    public static final int DEFAULT_PRIORITY = 0;
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Longest dedupe key; what the {@code job_queue_dedupe_check} constraint accepts. */
    public static final int MAX_DEDUPE_KEY_LENGTH = 255;

    private static final EnqueueOptions DEFAULTS = new EnqueueOptions(
            DEFAULT_QUEUE, DEFAULT_PRIORITY, null, Duration.ZERO, DEFAULT_MAX_RETRIES, null, null, null);

    /** @throws ValidationException if a value is outside what is allowed */
    public EnqueueOptions {
        Check.queue("queue", queue);
        Check.delay("delay", delay);
        if (runAt != null) {
            Check.instant("runAt", runAt);
        }
        Check.atLeast("maxRetries", maxRetries, 0);
        if (dedupeKey != null) {
            Check.dedupeKey("dedupeKey", dedupeKey);
        }
    }

    public static EnqueueOptions defaults() {
        return DEFAULTS;
    }

    public EnqueueOptions queue(String queue) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness);
    }

    public EnqueueOptions priority(int priority) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness);
    }

    /** Due at {@code runAt}; replaces any delay. */
    public EnqueueOptions runAt(Instant runAt) {
        return new EnqueueOptions(
                queue, priority, Check.notNull("runAt", runAt), Duration.ZERO, maxRetries, userId, dedupeKey, uniqueness);
    }

    /** Due {@code delay} after enqueue, by the database's clock; replaces any runAt. */
    public EnqueueOptions delay(Duration delay) {
        return new EnqueueOptions(queue, priority, null, delay, maxRetries, userId, dedupeKey, uniqueness);
    }

    public EnqueueOptions maxRetries(int maxRetries) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness);
    }

    public EnqueueOptions userId(UUID userId) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness);
    }

    /**
     * Makes the job unique by {@code dedupeKey} among jobs of its type, for as long as
     * {@link #uniqueness(Uniqueness)} says (default: while pending or processing). Choose keys from
     * what makes two jobs the same, e.g. {@code "invoice:" + invoiceId}.
     *
     * @throws ValidationException if the key is not 1-{@value #MAX_DEDUPE_KEY_LENGTH} characters
     *     without {@code \u0000}
     */
    public EnqueueOptions dedupeKey(String dedupeKey) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId,
                Check.notNull("dedupeKey", dedupeKey), uniqueness);
    }

    /** When the dedupe key blocks duplicates; see {@link Uniqueness}. */
    public EnqueueOptions uniqueness(Uniqueness uniqueness) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey,
                Check.notNull("uniqueness", uniqueness));
    }

    /** The uniqueness that applies: the one set, or {@link Uniqueness#DEFAULT}. */
    public Uniqueness effectiveUniqueness() {
        return uniqueness != null ? uniqueness : Uniqueness.DEFAULT;
    }
}
