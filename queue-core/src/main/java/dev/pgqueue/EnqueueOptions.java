package dev.pgqueue;

import dev.pgqueue.internal.Check;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * How to enqueue a job: which queue, its priority, when it becomes due, how many retries it gets,
 * which user (or tenant) it belongs to, whether it is unique, and which jobs it waits for. Immutable
 * and thread-safe; start from {@link #defaults()} and change what you need with the withers, each of
 * which returns a copy (new options are added as new withers, so code written against this class
 * keeps compiling):
 *
 * <pre>{@code
 * EnqueueOptions.defaults().queue("images").priority(-10).delay(Duration.ofMinutes(5)).userId(user)
 * EnqueueOptions.defaults().dedupeKey("digest:" + userId)   // at most one pending or running digest per user
 * EnqueueOptions.defaults().dependsOn(resized, watermarked) // runs once both have completed
 * }</pre>
 */
public final class EnqueueOptions {

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

    /** The queue of a job enqueued without {@link #queue(String)}. */
    public static final String DEFAULT_QUEUE = "default";
    /** The priority of a job enqueued without {@link #priority(int)}. */
    public static final int DEFAULT_PRIORITY = 0;
    /**
     * The retries of a job whose type sets none ({@link JobType#withMaxRetries(int)}) and that is
     * enqueued without {@link #maxRetries(int)}.
     */
    public static final int DEFAULT_MAX_RETRIES = 3;
    /** Longest dedupe key; what the {@code job_queue_dedupe_check} constraint accepts. */
    public static final int MAX_DEDUPE_KEY_LENGTH = 255;
    /** Longest partition key; what the {@code job_queue_partition_key_check} constraint accepts. */
    public static final int MAX_PARTITION_KEY_LENGTH = 255;

    private static final EnqueueOptions DEFAULTS = new EnqueueOptions(new Values());

    private final String queue;
    private final int priority;
    private final Instant runAt;
    private final Duration delay;
    private final Integer maxRetries;
    private final UUID userId;
    private final String dedupeKey;
    private final Uniqueness uniqueness;
    private final List<UUID> dependsOn;
    private final DependencyFailure onDependencyFailure;
    private final String partitionKey;

    private EnqueueOptions(Values v) {
        this.queue = v.queue;
        this.priority = v.priority;
        this.runAt = v.runAt;
        this.delay = v.delay;
        this.maxRetries = v.maxRetries;
        this.userId = v.userId;
        this.dedupeKey = v.dedupeKey;
        this.uniqueness = v.uniqueness;
        this.dependsOn = v.dependsOn;
        this.onDependencyFailure = v.onDependencyFailure;
        this.partitionKey = v.partitionKey;
    }

    /**
     * The options every job gets unless told otherwise: the named {@code DEFAULT_} constants.
     *
     * @return the default options
     */
    public static EnqueueOptions defaults() {
        return DEFAULTS;
    }

    /**
     * The queue; workers serve named queues. Default {@value #DEFAULT_QUEUE}.
     *
     * @return the queue's name
     */
    public String queue() {
        return queue;
    }

    /**
     * Lower runs first. Default {@value #DEFAULT_PRIORITY}.
     *
     * @return the priority
     */
    public int priority() {
        return priority;
    }

    /**
     * When the job becomes due, or null to use {@link #delay()}.
     *
     * @return the due time, or null
     */
    public Instant runAt() {
        return runAt;
    }

    /**
     * How long after enqueue (by the database's clock) the job becomes due, used when
     * {@link #runAt()} is null. Default zero: due at once.
     *
     * @return the delay; never null
     */
    public Duration delay() {
        return delay;
    }

    /**
     * Retries after the first run, if set here; empty means the job type's
     * ({@link JobType#maxRetries()}, by default {@value #DEFAULT_MAX_RETRIES}).
     *
     * @return the retries, or empty for the job type's
     */
    public OptionalInt maxRetries() {
        return maxRetries == null ? OptionalInt.empty() : OptionalInt.of(maxRetries);
    }

    /**
     * The user (or tenant) the job belongs to, the seed's {@code user_id}; or null.
     *
     * @return the user's id, or null
     */
    public UUID userId() {
        return userId;
    }

    /**
     * The job's dedupe key, or null for none; see {@link #dedupeKey(String)}.
     *
     * @return the key, or null
     */
    public String dedupeKey() {
        return dedupeKey;
    }

    /**
     * When the dedupe key blocks duplicates, or null for {@link Uniqueness#DEFAULT}; only meaningful
     * with a dedupe key.
     *
     * @return the uniqueness, or null for the default
     */
    public Uniqueness uniqueness() {
        return uniqueness;
    }

    /**
     * The jobs this one waits for, distinct; empty for none. See {@link #dependsOn(UUID...)}.
     *
     * @return the dependencies' ids; never null
     */
    public List<UUID> dependsOn() {
        return dependsOn;
    }

    /**
     * What happens to the job when a dependency fails for good or is cancelled; null for
     * {@link DependencyFailure#CANCEL}. Only meaningful with dependencies.
     *
     * @return the policy, or null for cancel
     */
    public DependencyFailure onDependencyFailure() {
        return onDependencyFailure;
    }

    /**
     * The tenant the job belongs to for fair queues, or null to use {@link #userId()}.
     *
     * @return the key, or null
     */
    public String partitionKey() {
        return partitionKey;
    }

    /**
     * In the named queue; workers serve named queues.
     *
     * @param queue the queue's name
     * @return a copy of these options with the queue set
     * @throws ValidationException if the name is not a valid queue name
     */
    public EnqueueOptions queue(String queue) {
        Check.queue("queue", queue);
        return with(v -> v.queue = queue);
    }

    /**
     * With this priority; lower runs first.
     *
     * @param priority the priority; lower runs first
     * @return a copy of these options with the priority set
     */
    public EnqueueOptions priority(int priority) {
        return with(v -> v.priority = priority);
    }

    /**
     * Due at {@code runAt}; replaces any delay.
     *
     * @param runAt when the job becomes due; not null
     * @return a copy of these options with the due time set and no delay
     * @throws ValidationException if {@code runAt} is null or outside what the database stores
     */
    public EnqueueOptions runAt(Instant runAt) {
        Check.instant("runAt", Check.notNull("runAt", runAt));
        return with(v -> {
            v.runAt = runAt;
            v.delay = Duration.ZERO;
        });
    }

    /**
     * Due {@code delay} after enqueue, by the database's clock; replaces any runAt.
     *
     * @param delay how long after enqueue; zero or positive
     * @return a copy of these options with the delay set and no due time
     * @throws ValidationException if the delay is null, negative or longer than the database stores
     */
    public EnqueueOptions delay(Duration delay) {
        Check.delay("delay", delay);
        return with(v -> {
            v.runAt = null;
            v.delay = delay;
        });
    }

    /**
     * With {@code maxRetries} retries after the first run, whatever the job type says.
     *
     * @param maxRetries retries after the first run; 0 for none
     * @return a copy of these options with max retries set
     * @throws ValidationException if it is negative
     */
    public EnqueueOptions maxRetries(int maxRetries) {
        Check.atLeast("maxRetries", maxRetries, 0);
        return with(v -> v.maxRetries = maxRetries);
    }

    /**
     * Belonging to the user (or tenant) {@code userId}; null for none.
     *
     * @param userId the owning user, or null
     * @return a copy of these options with the user set
     */
    public EnqueueOptions userId(UUID userId) {
        return with(v -> v.userId = userId);
    }

    /**
     * Makes the job unique by {@code dedupeKey} among jobs of its type, for as long as
     * {@link #uniqueness(Uniqueness)} says (default: while pending or processing): while a job of the
     * same type holds the same key, enqueueing another one enqueues nothing and returns the existing
     * job's id. Choose keys from what makes two jobs the same, e.g. {@code "invoice:" + invoiceId}.
     * A job that waits for dependencies also holds its key while {@code waiting}. Keys are unique per
     * job type across the whole schema, whoever enqueued the job holding them: where row-level
     * security hides other producers' jobs, a key held by one of them fails the enqueue with
     * {@link DedupeKeyHeldException}.
     *
     * @param dedupeKey the key; not null
     * @return a copy of these options with the dedupe key set
     * @throws ValidationException if the key is not 1-{@value #MAX_DEDUPE_KEY_LENGTH} characters of
     *     valid Unicode without {@code \u0000}, or starts with {@code recurring:} (reserved for
     *     recurring jobs)
     */
    public EnqueueOptions dedupeKey(String dedupeKey) {
        Check.dedupeKey("dedupeKey", Check.notNull("dedupeKey", dedupeKey));
        return with(v -> v.dedupeKey = dedupeKey);
    }

    /**
     * When the dedupe key blocks duplicates; see {@link Uniqueness}.
     *
     * @param uniqueness when the key blocks duplicates; not null
     * @return a copy of these options with the uniqueness set
     */
    public EnqueueOptions uniqueness(Uniqueness uniqueness) {
        Check.notNull("uniqueness", uniqueness);
        return with(v -> v.uniqueness = uniqueness);
    }

    /**
     * The uniqueness that applies: the one set, or {@link Uniqueness#DEFAULT}.
     *
     * @return the uniqueness; never null
     */
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
     * @param jobIds the ids of the jobs to wait for
     * @return a copy of these options with the dependencies set
     * @throws ValidationException if an id is null or repeated
     */
    public EnqueueOptions dependsOn(UUID... jobIds) {
        Check.notNull("dependsOn", jobIds);
        return dependsOn(Arrays.asList(jobIds));
    }

    /**
     * As {@link #dependsOn(UUID...)}, for a collection (the ids of a fan-out, say).
     *
     * @param jobIds the ids of the jobs to wait for
     * @return a copy of these options with the dependencies set
     * @throws ValidationException if an id is null or repeated
     */
    public EnqueueOptions dependsOn(Collection<UUID> jobIds) {
        Check.notNull("dependsOn", jobIds);
        List<UUID> ids = distinctIds("dependsOn", jobIds);
        return with(v -> v.dependsOn = ids);
    }

    /**
     * What happens to the job when a dependency fails for good or is cancelled. Default {@link DependencyFailure#CANCEL}.
     *
     * @param onDependencyFailure the policy; not null
     * @return a copy of these options with the policy set
     */
    public EnqueueOptions onDependencyFailure(DependencyFailure onDependencyFailure) {
        Check.notNull("onDependencyFailure", onDependencyFailure);
        return with(v -> v.onDependencyFailure = onDependencyFailure);
    }

    /**
     * The policy that applies: the one set, or {@link DependencyFailure#CANCEL}.
     *
     * @return the policy; never null
     */
    public DependencyFailure effectiveDependencyFailure() {
        return onDependencyFailure != null ? onDependencyFailure : DependencyFailure.CANCEL;
    }

    /**
     * The tenant the job belongs to, for fair queues ({@link Worker.Builder#fairness(String)}): a fair
     * claim takes jobs round-robin across partition keys, so one tenant's backlog cannot starve
     * another's jobs. Default: the job's {@link #userId(UUID) userId}.
     *
     * @param partitionKey the tenant's key; not null
     * @return a copy of these options with the partition key set
     * @throws ValidationException if the key is not 1-{@value #MAX_PARTITION_KEY_LENGTH} characters of
     *     valid Unicode without {@code \u0000}
     */
    public EnqueueOptions partitionKey(String partitionKey) {
        Check.partitionKey("partitionKey", Check.notNull("partitionKey", partitionKey));
        return with(v -> v.partitionKey = partitionKey);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EnqueueOptions other
                && queue.equals(other.queue)
                && priority == other.priority
                && Objects.equals(runAt, other.runAt)
                && delay.equals(other.delay)
                && Objects.equals(maxRetries, other.maxRetries)
                && Objects.equals(userId, other.userId)
                && Objects.equals(dedupeKey, other.dedupeKey)
                && Objects.equals(uniqueness, other.uniqueness)
                && dependsOn.equals(other.dependsOn)
                && onDependencyFailure == other.onDependencyFailure
                && Objects.equals(partitionKey, other.partitionKey);
    }

    @Override
    public int hashCode() {
        return Objects.hash(queue, priority, runAt, delay, maxRetries, userId, dedupeKey, uniqueness, dependsOn,
                onDependencyFailure, partitionKey);
    }

    @Override
    public String toString() {
        return "EnqueueOptions[queue=" + queue + ", priority=" + priority + ", runAt=" + runAt + ", delay=" + delay
                + ", maxRetries=" + maxRetries + ", userId=" + userId + ", dedupeKey=" + dedupeKey
                + ", uniqueness=" + uniqueness + ", dependsOn=" + dependsOn + ", onDependencyFailure="
                + onDependencyFailure + ", partitionKey=" + partitionKey + "]";
    }

    private EnqueueOptions with(Consumer<Values> change) {
        Values values = new Values(this);
        change.accept(values);
        return new EnqueueOptions(values);
    }

    /** The mutable draft a wither changes before it is frozen into a new instance. */
    private static final class Values {
        String queue = DEFAULT_QUEUE;
        int priority = DEFAULT_PRIORITY;
        Instant runAt;
        Duration delay = Duration.ZERO;
        Integer maxRetries;
        UUID userId;
        String dedupeKey;
        Uniqueness uniqueness;
        List<UUID> dependsOn = List.of();
        DependencyFailure onDependencyFailure;
        String partitionKey;

        Values() {}

        Values(EnqueueOptions o) {
            queue = o.queue;
            priority = o.priority;
            runAt = o.runAt;
            delay = o.delay;
            maxRetries = o.maxRetries;
            userId = o.userId;
            dedupeKey = o.dedupeKey;
            uniqueness = o.uniqueness;
            dependsOn = o.dependsOn;
            onDependencyFailure = o.onDependencyFailure;
            partitionKey = o.partitionKey;
        }
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
