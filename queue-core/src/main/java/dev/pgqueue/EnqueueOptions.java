package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

/**
 * How to enqueue a job: which queue, its priority, when it becomes due, how many retries it gets
 * and which user it belongs to. Immutable; start from {@link #defaults()} and change what you need:
 *
 * <pre>{@code
 * EnqueueOptions.defaults().queue("images").priority(-10).delay(Duration.ofMinutes(5)).userId(user)
 * }</pre>
 *
 * @param queue      the queue; workers serve named queues. Default {@value #DEFAULT_QUEUE}
 * @param priority   lower runs first. Default {@value #DEFAULT_PRIORITY}
 * @param runAt      when the job becomes due, or null to use {@code delay}
 * @param delay      how long after enqueue (by the database's clock) the job becomes due, used when
 *                   {@code runAt} is null. Default zero: due at once
 * @param maxRetries retries after the first run. Default {@value #DEFAULT_MAX_RETRIES}
 * @param userId     the seed's {@code user_id}, or null
 */
public record EnqueueOptions(
        String queue, int priority, Instant runAt, Duration delay, int maxRetries, UUID userId) {

    public static final String DEFAULT_QUEUE = "default";
    public static final int DEFAULT_PRIORITY = 0;
    public static final int DEFAULT_MAX_RETRIES = 3;

    private static final EnqueueOptions DEFAULTS =
            new EnqueueOptions(DEFAULT_QUEUE, DEFAULT_PRIORITY, null, Duration.ZERO, DEFAULT_MAX_RETRIES, null);

    /** @throws ValidationException if a value is outside what is allowed */
    public EnqueueOptions {
        Check.queue("queue", queue);
        Check.delay("delay", delay);
        if (runAt != null) {
            Check.instant("runAt", runAt);
        }
        Check.atLeast("maxRetries", maxRetries, 0);
    }

    public static EnqueueOptions defaults() {
        return DEFAULTS;
    }

    public EnqueueOptions queue(String queue) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId);
    }

    public EnqueueOptions priority(int priority) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId);
    }

    /** Due at {@code runAt}; replaces any delay. */
    public EnqueueOptions runAt(Instant runAt) {
        return new EnqueueOptions(queue, priority, Check.notNull("runAt", runAt), Duration.ZERO, maxRetries, userId);
    }

    /** Due {@code delay} after enqueue, by the database's clock; replaces any runAt. */
    public EnqueueOptions delay(Duration delay) {
        return new EnqueueOptions(queue, priority, null, delay, maxRetries, userId);
    }

    public EnqueueOptions maxRetries(int maxRetries) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId);
    }

    public EnqueueOptions userId(UUID userId) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId);
    }
}
