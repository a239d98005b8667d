package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * How to enqueue a job: which queue, its priority, when it becomes due, how many retries it gets,
 * which user (or tenant) it belongs to, whether it is unique, and which jobs it waits for. Immutable;
 * start from {@link #defaults()} and change what you need:
 *
 * <pre>{@code
 * EnqueueOptions.defaults().queue("images").priority(-10).delay(Duration.ofMinutes(5)).userId(user)
 * EnqueueOptions.defaults().dedupeKey("digest:" + userId)   // at most one pending or running digest per user
 * EnqueueOptions.defaults().dependsOn(resized, watermarked) // runs once both have completed
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
 *                   returns the existing job's id. 1-{@value #MAX_DEDUPE_KEY_LENGTH} characters of
 *                   valid Unicode, not starting with {@code recurring:} (reserved for recurring jobs).
 *                   Keys are unique per job type across the whole schema, whoever enqueued the job
 *                   holding them: where row-level security hides other producers' jobs, a key held
 *                   by one of them fails the enqueue with {@link DedupeKeyHeldException}
 * @param uniqueness when the key blocks duplicates, or null for {@link Uniqueness#DEFAULT} (while
 *                   pending or processing); only meaningful with a dedupe key. A job that waits for
 *                   dependencies also holds its key while {@code waiting}
 * @param dependsOn  the jobs this one waits for (distinct ids of existing jobs), empty for none: it is
 *                   {@code waiting} until all of them have completed, then {@code pending}
 * @param onDependencyFailure what happens to it when one of them fails for good or is cancelled;
 *                   null for {@link DependencyFailure#CANCEL}. Only meaningful with dependencies
 * @param partitionKey the tenant it belongs to, for {@linkplain Worker.Builder#fairness fair queues},
 *                   or null to use {@code userId}. 1-{@value #MAX_PARTITION_KEY_LENGTH} characters of
 *                   valid Unicode
 */
public record EnqueueOptions(
        String queue,
        int priority,
        Instant runAt,
        Duration delay,
        int maxRetries,
        UUID userId,
        String dedupeKey,
        Uniqueness uniqueness,
        List<UUID> dependsOn,
        DependencyFailure onDependencyFailure,
        String partitionKey) {

    /**
     * What happens to a waiting job when one of the jobs it depends on fails for good (no retries
     * left, or failed permanently) or is cancelled. A dependency that fails an attempt and is retried
     * has not failed for good: its dependents keep waiting.
     */
    public enum DependencyFailure {
        /**
         * The job is cancelled at once, with an {@code error_message} naming the dependency; and so,
         * transitively, are the waiting jobs that depend on it and cancel too. The default.
         */
        CANCEL,
        /**
         * The job counts the failed dependency as finished and runs once all its dependencies have
         * finished, however they ended; its handler reads their outcomes with
         * {@link JobQueue#dependencies(UUID)}.
         */
        RUN
    }

    public static final String DEFAULT_QUEUE = "default";
    public static final int DEFAULT_PRIORITY = 0;
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Longest dedupe key; what the {@code job_queue_dedupe_check} constraint accepts. */
    public static final int MAX_DEDUPE_KEY_LENGTH = 255;
    /** Longest partition key; what the {@code job_queue_partition_key_check} constraint accepts. */
    public static final int MAX_PARTITION_KEY_LENGTH = 255;

    private static final EnqueueOptions DEFAULTS = new EnqueueOptions(
            DEFAULT_QUEUE, DEFAULT_PRIORITY, null, Duration.ZERO, DEFAULT_MAX_RETRIES, null, null, null,
            List.of(), null, null);

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
        dependsOn = dependsOn == null ? List.of() : distinctIds("dependsOn", dependsOn);
        if (partitionKey != null) {
            Check.partitionKey("partitionKey", partitionKey);
        }
    }

    /** Options as before workflows and fairness: no dependencies, no partition key. */
    public EnqueueOptions(String queue, int priority, Instant runAt, Duration delay, int maxRetries, UUID userId,
            String dedupeKey, Uniqueness uniqueness) {
        this(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness, List.of(), null, null);
    }

    public static EnqueueOptions defaults() {
        return DEFAULTS;
    }

    public EnqueueOptions queue(String queue) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, partitionKey);
    }

    public EnqueueOptions priority(int priority) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, partitionKey);
    }

    /** Due at {@code runAt}; replaces any delay. */
    public EnqueueOptions runAt(Instant runAt) {
        return new EnqueueOptions(queue, priority, Check.notNull("runAt", runAt), Duration.ZERO, maxRetries, userId,
                dedupeKey, uniqueness, dependsOn, onDependencyFailure, partitionKey);
    }

    /** Due {@code delay} after enqueue, by the database's clock; replaces any runAt. */
    public EnqueueOptions delay(Duration delay) {
        return new EnqueueOptions(queue, priority, null, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, partitionKey);
    }

    public EnqueueOptions maxRetries(int maxRetries) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, partitionKey);
    }

    public EnqueueOptions userId(UUID userId) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, partitionKey);
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
                Check.notNull("dedupeKey", dedupeKey), uniqueness, dependsOn, onDependencyFailure, partitionKey);
    }

    /** When the dedupe key blocks duplicates; see {@link Uniqueness}. */
    public EnqueueOptions uniqueness(Uniqueness uniqueness) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey,
                Check.notNull("uniqueness", uniqueness), dependsOn, onDependencyFailure, partitionKey);
    }

    /** The uniqueness that applies: the one set, or {@link Uniqueness#DEFAULT}. */
    public Uniqueness effectiveUniqueness() {
        return uniqueness != null ? uniqueness : Uniqueness.DEFAULT;
    }

    /**
     * The job waits for {@code jobIds} (replacing any set before): it is {@code waiting} until every
     * one of them has completed, and becomes {@code pending} in the same transaction as the last one
     * completes. Dependencies that completed already count as done. Each must be an existing job (or,
     * in a transaction of yours, one enqueued earlier in it); enqueueing locks the unfinished ones
     * until that transaction ends. See {@link #onDependencyFailure(DependencyFailure)} for failures.
     *
     * @throws ValidationException if an id is null or repeated
     */
    public EnqueueOptions dependsOn(UUID... jobIds) {
        Check.notNull("dependsOn", jobIds);
        return dependsOn(Arrays.asList(jobIds));
    }

    /** As {@link #dependsOn(UUID...)}, for a collection (the ids of a fan-out, say). */
    public EnqueueOptions dependsOn(Collection<UUID> jobIds) {
        Check.notNull("dependsOn", jobIds);
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                List.copyOf(distinctIds("dependsOn", jobIds)), onDependencyFailure, partitionKey);
    }

    /** What happens to the job when a dependency fails for good or is cancelled. Default {@link DependencyFailure#CANCEL}. */
    public EnqueueOptions onDependencyFailure(DependencyFailure onDependencyFailure) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, Check.notNull("onDependencyFailure", onDependencyFailure), partitionKey);
    }

    /** The policy that applies: the one set, or {@link DependencyFailure#CANCEL}. */
    public DependencyFailure effectiveDependencyFailure() {
        return onDependencyFailure != null ? onDependencyFailure : DependencyFailure.CANCEL;
    }

    /**
     * The tenant the job belongs to, for fair queues ({@link Worker.Builder#fairness(String)}): a fair
     * claim takes jobs round-robin across partition keys, so one tenant's backlog cannot starve
     * another's jobs. Default: the job's {@link #userId(UUID) userId}.
     *
     * @throws ValidationException if the key is not 1-{@value #MAX_PARTITION_KEY_LENGTH} characters
     *     without {@code \u0000}
     */
    public EnqueueOptions partitionKey(String partitionKey) {
        return new EnqueueOptions(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness,
                dependsOn, onDependencyFailure, Check.notNull("partitionKey", partitionKey));
    }

    private static List<UUID> distinctIds(String field, Collection<UUID> ids) {
        Set<UUID> seen = new HashSet<>();
        for (UUID id : ids) {
            if (id == null) {
                throw new ValidationException(field, "job ids, none null", ids);
            }
            if (!seen.add(id)) {
                throw new ValidationException(field, "distinct job ids", ids);
            }
        }
        return List.copyOf(ids);
    }
}
