package dev.pgqueue.spi;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions.DependencyFailure;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.internal.PayloadCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The storage SPI: what a storage module implements so that {@code JobQueue} and {@code Worker}
 * can run on it. Applications do not call it; they hand a store to those two.
 *
 * <p><b>This interface may change in any minor release.</b> Methods are named noun-first after the
 * operation and take one parameter record each, so that adding a parameter does not add overloads.
 *
 * <p>Contract for every implementation (checked by the conformance suite that a store runs,
 * {@code dev.pgqueue.testing.JobStoreConformance} in {@code queue-testing}):
 * <ul>
 *   <li>Thread-safe; every method is one transaction unless the store is bound to a caller's
 *       transaction, and either takes effect completely or not at all.</li>
 *   <li>Time: a {@code now} of {@code null} means the database's clock; a non-null {@code now}
 *       replaces it (tests move time that way).</li>
 *   <li>Fencing: every change to a {@code processing} job is made only if the caller's
 *       {@code leaseToken} still matches and the job is still {@code processing}; otherwise the job
 *       is left as it is and the result says so. Rescue takes only leases expired at the moment of
 *       the update, or held by a worker the registry counts as dead at that moment.</li>
 *   <li>Failures throw {@link dev.pgqueue.StoreException}.</li>
 * </ul>
 */
public interface JobStore {

    /**
     * Inserts all jobs in one transaction; returns, in order, each one's id, or for a job with a
     * dedupe key that an existing job holds (see {@link NewJob}), that job's id flagged as a
     * duplicate, and then nothing is inserted for it. Jobs without dedupe keys take one round trip.
     * A race with a concurrent insert of the same key never fails: the loser gets the winner's id.
     *
     * <p>A job with dependencies ({@link NewJob#dependsOn()}) is inserted {@code waiting} until they
     * have all completed ({@code pending} if they have already), or {@code cancelled} if one has
     * failed or was cancelled and its policy is {@link DependencyFailure#CANCEL}. A dependency is an
     * existing job or another job of the same insert; the unfinished ones are locked until the
     * transaction ends, so that none finishes unseen. Once every dependency has finished, the store
     * makes the dependent {@code pending} (or cancels it) in the transaction that finished the last
     * one, whichever operation or producer finished it.
     *
     * @param params the jobs to insert (in order) and the store's notion of now
     * @return one result per job, in the order of {@code params.jobs()}
     * @throws dev.pgqueue.ValidationException if a dependency does not exist, the jobs of the insert
     *     depend on each other in a cycle, or a job that another one of the insert depends on has a
     *     dedupe key; nothing is inserted then
     */
    List<EnqueueResult> jobInsertMany(InsertParams params);

    /**
     * Claims up to {@code limit} due {@code pending} jobs of one queue and the given types, in
     * priority then {@code run_at} order, skipping rows locked by other claimers: sets them
     * {@code processing}, increments {@code attempt}, stamps {@code processed_at} and the lease.
     *
     * <p>Subject to the queue's {@linkplain #policyPutMany policies}, which the store shares between
     * all its users: while a global concurrency or rate limit is reached, fewer jobs (or none) are
     * claimed; in a fair queue, jobs are taken round-robin across partition keys instead of in
     * priority order. With none (the default) it is exactly the claim above.
     *
     * @param params the queue, types, how many at most, the claiming worker, its lease token and duration
     * @return the claimed jobs, at most {@code params.limit()}; empty if none is due
     */
    List<ClaimedJob> jobClaim(ClaimParams params);

    /**
     * Records outcomes, fenced by lease token; returns the outcomes that took effect (a missing id
     * means its lease had been lost and nothing changed).
     *
     * @param params the outcomes to record, each under the lease token of its claim
     * @return the outcomes that took effect, in no particular order
     */
    List<FinishedJob> jobFinishMany(FinishParams params);

    /**
     * Extends the leases that are still held. Returns one status per lease the store could check:
     * held (extended) or lost. A lease whose row is busy right now (locked by an outcome being
     * recorded, say) may be missing from the result: neither extended nor known to be lost; the
     * caller asks again at its next heartbeat. The store never waits for such a row.
     *
     * @param params the leases to extend and the new lease duration, counted from {@code params.now()}
     * @return one status per lease the store could check
     */
    List<LeaseStatus> jobExtendLeaseMany(ExtendLeaseParams params);

    /**
     * Takes up to {@code limit} jobs whose lease has expired and returns each to {@code pending},
     * counting a failed attempt, or to {@code failed} when no retries are left. A store with a worker
     * registry ({@link #workerRegister}) also takes the processing jobs of registered workers that
     * count as dead (no renewal for {@value #WORKER_STALE_INTERVALS} presence intervals), before
     * their leases expire; their lease tokens fence those workers' late outcomes as for any rescue.
     *
     * @param params how many jobs at most, and now
     * @return the rescued jobs and the status each was left in
     */
    List<RescuedJob> jobRescue(RescueParams params);

    /**
     * Cancels a pending job, or records a cancellation request on a processing one.
     *
     * @param params the job's id, and now
     * @return what the request did
     */
    CancelResult jobCancel(CancelParams params);

    /**
     * Deletes up to {@code limit} final jobs of the given statuses that finished before the cut-off.
     *
     * @param params the statuses, the age cut-off and how many rows at most
     * @return the number of rows deleted
     */
    int jobPrune(PruneParams params);

    /**
     * The job's row, if it exists.
     *
     * @param id the job's id
     * @return the row, or empty if no such job exists (or it was pruned)
     */
    Optional<JobSnapshot> jobGet(UUID id);

    /**
     * The rows of the jobs that {@code id} depends on and that still exist, oldest first.
     *
     * @param id the dependent job's id
     * @return the dependencies' rows; empty if it has none (or none is left)
     */
    List<JobSnapshot> jobDependencies(UUID id);

    /**
     * The rows of the jobs of the given types and statuses (and, if asked, due by {@code now}), oldest
     * first ({@code created_at}, then id), at most {@code limit}. Made for test tools (the queue tester lists what was enqueued and
     * finds the next due job with it), not for a worker's hot path: it reads every matching row.
     *
     * @param params the types, statuses, whether due only, now and the row limit
     * @return the rows, oldest first; empty if none match
     */
    List<JobSnapshot> jobList(ListParams params);

    /**
     * Claims the {@code pending} job {@code id}, due or not, as {@link #jobClaim} claims a job (it
     * becomes {@code processing} with this lease, its attempt counts, a cancellation request left from
     * before is cleared), ignoring the queue's policies; empty if the job is not {@code pending}. For
     * test tools that run one chosen job on the caller's thread.
     *
     * @param params the job, the claiming worker and its lease
     * @return the claimed job, or empty if it is not pending
     */
    Optional<ClaimedJob> jobClaimById(ClaimByIdParams params);

    /**
     * Records claim policies (global concurrency limits, rate limits, fairness) where every user of
     * the store's table reads them, in one transaction: for each policy's key, the limits it sets
     * replace the stored ones and those it leaves null are kept; fairness can only be turned on here.
     * Users of the store, in every process, follow a change within their refresh interval; this
     * store at once.
     *
     * @param params the policies to store
     */
    void policyPutMany(PolicyParams params);

    /** {@return every stored claim policy} */
    List<QueuePolicy> policyList();

    /**
     * Records the latest progress of running jobs, fenced by lease token; returns the ids whose
     * lease was still held (only those were written).
     *
     * @param params the progress reports, each under the lease token of its claim
     * @return the ids whose progress was written
     */
    List<UUID> jobProgressMany(ProgressParams params);

    /**
     * The greatest dedupe key, in code point order, among jobs of {@code type} whose key starts with
     * {@code prefix}, is at most {@code atMost} (if given) and still holds its uniqueness; empty if
     * there is none. (The recurring-job
     * scheduler finds a schedule's latest tick this way.)
     *
     * @param params the job type, the key prefix and the optional upper bound
     * @return the greatest matching key, or empty
     */
    Optional<String> jobLatestDedupeKey(LatestDedupeKeyParams params);

    /**
     * How long until the earliest not-yet-due pending job of the queue and types becomes due; empty
     * if there is none. A queue whose last claim was held back by a limit may report when a claim is
     * worth trying again (the rate limit's window moves on, or a running job may have finished).
     *
     * @param params the queue, the job types and now
     * @return the time until the next job is due, or empty if none is waiting
     */
    Optional<Duration> jobNextDue(NextDueParams params);

    /**
     * Live and dead rows of the job table, when vacuum last cleaned it, and the oldest transaction
     * that may hold back its cleanup, as far as the store can see. Empty if the store cannot tell.
     *
     * @return the table's health, or empty if this store cannot tell
     */
    default Optional<TableHealth> jobTableHealth() {
        return Optional.empty();
    }

    /**
     * The Jackson mapper for payloads and results that every queue, worker and tester over this store
     * uses: set once, on the store. Default: a shared {@link dev.pgqueue.PayloadMapper#create(com.fasterxml.jackson.databind.Module...)}.
     *
     * @return the mapper; never null
     */
    default ObjectMapper objectMapper() {
        return PayloadCodec.defaultMapper();
    }

    /**
     * Called once by a worker's {@code start()}, before its first claim: the store may do now, with no
     * effect on any job, what its first claims and outcomes would otherwise do while jobs wait (a fresh
     * JVM loads and compiles the code of each statement and of decoding its rows the first time it
     * runs). Failures are the store's to swallow: the worker starts regardless. Default: nothing.
     *
     * @param types the job types the worker claims
     */
    default void warmUp(Set<String> types) {
    }

    /**
     * How many connections this store can lend its callers at once, if it can tell: its pool's
     * maximum size, less the connection it keeps for notifications while anyone is subscribed. A
     * worker warns at start when that is fewer than it may use at once.
     *
     * @return the number of connections, or empty if unknown
     */
    default Optional<Integer> connectionLimit() {
        return Optional.empty();
    }

    /**
     * Whether {@code handler} holds one of this store's connections while it runs (one this store made transactional).
     *
     * @param handler a handler registered with a worker over this store
     * @return true if the handler's runs each hold a connection of this store
     */
    default boolean holdsConnection(dev.pgqueue.JobHandler<?> handler) {
        return false;
    }

    /**
     * Tells {@code listener} promptly about jobs becoming available and cancellation requests, from
     * this process and (where the store can) from others. Returns a handle that stops it. A store
     * without cross-process notifications still reports its own inserts; workers poll regardless.
     *
     * @param listener called on a store thread; must return quickly
     * @return a subscription whose {@code close()} stops the notifications
     */
    Subscription subscribe(StoreListener listener);

    /**
     * The queues that are paused for every worker of the store's table (see {@link #queuePause}). A
     * worker claims nothing from them. Read often (about every second per worker): keep it cheap.
     * Default: none, for stores that cannot pause queues.
     *
     * @return the names of the paused queues
     */
    default Set<String> queuePausedList() {
        return Set.of();
    }

    /**
     * Pauses or resumes a queue for every worker of the store's table, and tells subscribers in every
     * process ({@link StoreListener#queuesChanged()}), who then re-read {@link #queuePausedList()}.
     * While paused, its jobs stay pending and enqueue keeps working; jobs already running finish.
     *
     * @param params the queue and whether to pause or resume it
     * @return true if this call changed the queue's state, false if it was already so
     * @throws UnsupportedOperationException if this store cannot pause queues (the default)
     */
    default boolean queuePause(QueuePauseParams params) {
        throw new UnsupportedOperationException(this + " cannot pause queues");
    }

    /**
     * Records a worker in the store's worker registry, or replaces its record: what it serves and how
     * often it will renew its presence ({@link #workerBeat}). A worker whose record is not renewed for
     * {@value #WORKER_STALE_INTERVALS} presence intervals counts as dead: {@link #jobRescue} returns
     * its processing jobs to pending without waiting for their leases to expire. Default: nothing,
     * for stores without a registry (a worker then counts as neither alive nor dead).
     *
     * @param params the worker's record and now
     */
    default void workerRegister(WorkerParams params) {}

    /**
     * Renews a worker's presence in the registry (one cheap statement), recording how many jobs it
     * runs, and says whether its record still exists and whether any dead worker still holds
     * processing jobs (then a rescue is worth running now).
     *
     * @param params the worker, its running count and now
     * @return what the beat found; default: registered, no orphans
     */
    default WorkerBeat workerBeat(WorkerBeatParams params) {
        return new WorkerBeat(true, false);
    }

    /**
     * Removes a worker's record from the registry (it is closing). Default: nothing.
     *
     * @param workerId the worker's id
     */
    default void workerDelete(String workerId) {}

    /**
     * Deletes the records of workers that have not renewed their presence for
     * {@value #WORKER_PRUNE_INTERVALS} of their presence intervals. Default: nothing.
     *
     * @param now the store's notion of the current time
     * @return how many records were deleted
     */
    default int workerPrune(Instant now) {
        return 0;
    }

    /**
     * Pending jobs that no live worker serves: due for longer than {@code params.pendingFor()}, of a
     * queue and job type that no worker alive in the registry both serves and has a handler for,
     * counted per queue and type, most first. Such jobs wait forever unless a worker for them starts.
     * Default: none, for stores without a registry.
     *
     * @param params how long due, how many groups at most, and now
     * @return the groups, most jobs first
     */
    default List<UnservedJobs> jobUnservedList(UnservedParams params) {
        return List.of();
    }

    /** Presence intervals without renewal after which a registered worker counts as dead: {@value}. */
    int WORKER_STALE_INTERVALS = 3;
    /** Presence intervals without renewal after which a dead worker's record is deleted: {@value}. */
    int WORKER_PRUNE_INTERVALS = 10;

    // ---------------------------------------------------------------------------------------------

    /**
     * A job to insert. Immutable; made with {@link #builder(UUID, String, String)}, whose setters
     * default every optional value, so that a new column is a new setter and breaks no caller.
     */
    final class NewJob {
        private final UUID id;
        private final String type;
        private final String queue;
        private final String payloadJson;
        private final int priority;
        private final Instant runAt;
        private final Duration delay;
        private final int maxRetries;
        private final UUID userId;
        private final String dedupeKey;
        private final Set<JobStatus> uniqueStates;
        private final Duration uniqueFor;
        private final List<UUID> dependsOn;
        private final DependencyFailure onDependencyFailure;
        private final String partitionKey;
        private final Map<String, String> traceContext;

        private NewJob(Builder b) {
            this.id = Objects.requireNonNull(b.id, "id");
            this.type = Objects.requireNonNull(b.type, "type");
            this.queue = b.queue;
            this.payloadJson = Objects.requireNonNull(b.payloadJson, "payloadJson");
            this.priority = b.priority;
            this.runAt = b.runAt;
            this.delay = b.delay;
            this.maxRetries = b.maxRetries;
            this.userId = b.userId;
            this.dedupeKey = b.dedupeKey;
            this.uniqueStates = b.uniqueStates == null ? null : Set.copyOf(b.uniqueStates);
            this.uniqueFor = b.uniqueFor;
            this.dependsOn = b.dependsOn == null ? List.of() : List.copyOf(b.dependsOn);
            this.onDependencyFailure = b.onDependencyFailure;
            this.partitionKey = b.partitionKey;
            this.traceContext = b.traceContext == null ? Map.of() : Map.copyOf(b.traceContext);
        }

        /**
         * A job of type {@code type} with the given id and payload (JSON text), in the default queue,
         * due at once, with default priority and retries and nothing else set.
         *
         * @param id the job's id, chosen by the caller (a UUIDv7); not null
         * @param type the job type's name; not null
         * @param payloadJson the payload as JSON text; not null
         * @return a builder
         */
        public static Builder builder(UUID id, String type, String payloadJson) {
            return new Builder(id, type, payloadJson);
        }

        /** {@return a builder that starts from this job's values} */
        public Builder toBuilder() {
            return new Builder(id, type, payloadJson).queue(queue).priority(priority).runAt(runAt).delay(delay)
                    .maxRetries(maxRetries).userId(userId).dedupeKey(dedupeKey).uniqueStates(uniqueStates)
                    .uniqueFor(uniqueFor).dependsOn(dependsOn).onDependencyFailure(onDependencyFailure)
                    .partitionKey(partitionKey).traceContext(traceContext);
        }

        /** {@return the job's id, chosen by the caller (a UUIDv7)} */
        public UUID id() {
            return id;
        }

        /** {@return the job type's name} */
        public String type() {
            return type;
        }

        /** {@return the queue} */
        public String queue() {
            return queue;
        }

        /** {@return the payload as JSON text} */
        public String payloadJson() {
            return payloadJson;
        }

        /**
         * Lower runs first.
         *
         * @return the priority; lower runs first
         */
        public int priority() {
            return priority;
        }

        /** {@return when it becomes due, or null for {@code now + delay}} */
        public Instant runAt() {
            return runAt;
        }

        /** {@return how long after {@code now} it becomes due when {@code runAt} is null} */
        public Duration delay() {
            return delay;
        }

        /**
         * Retries after the first run.
         *
         * @return the number of retries after the first run
         */
        public int maxRetries() {
            return maxRetries;
        }

        /** {@return the user it belongs to, or null} */
        public UUID userId() {
            return userId;
        }

        /** {@return null, or the key that makes it unique among jobs of its type} */
        public String dedupeKey() {
            return dedupeKey;
        }

        /**
         * With a dedupe key: the statuses in which it blocks duplicates (must hold {@code PENDING});
         * null for the default, pending and processing. A job that is inserted {@code waiting} blocks
         * duplicates while waiting, too.
         *
         * @return the blocking statuses, or null for the default
         */
        public Set<JobStatus> uniqueStates() {
            return uniqueStates;
        }

        /** {@return with a dedupe key: how long after {@code now} its uniqueness lasts at most; null for no limit} */
        public Duration uniqueFor() {
            return uniqueFor;
        }

        /**
         * The jobs it waits for: ids of existing jobs or of other jobs of the same insert, distinct;
         * empty for none.
         *
         * @return the dependencies' ids; never null
         */
        public List<UUID> dependsOn() {
            return dependsOn;
        }

        /**
         * What happens to it when a dependency fails for good or is cancelled; null for
         * {@link DependencyFailure#CANCEL}.
         *
         * @return the policy, or null for {@link DependencyFailure#CANCEL}
         */
        public DependencyFailure onDependencyFailure() {
            return onDependencyFailure;
        }

        /** {@return the tenant for fair claiming, or null for {@code userId}} */
        public String partitionKey() {
            return partitionKey;
        }

        /**
         * The context its producer records with it ({@link dev.pgqueue.EnqueueInterceptor}), validated
         * by the queue; stored as a JSON object, or not at all when empty.
         *
         * @return the key/value pairs; empty for none, never null
         */
        public Map<String, String> traceContext() {
            return traceContext;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof NewJob j && id.equals(j.id) && type.equals(j.type) && Objects.equals(queue, j.queue)
                    && payloadJson.equals(j.payloadJson) && priority == j.priority && Objects.equals(runAt, j.runAt)
                    && Objects.equals(delay, j.delay) && maxRetries == j.maxRetries && Objects.equals(userId, j.userId)
                    && Objects.equals(dedupeKey, j.dedupeKey) && Objects.equals(uniqueStates, j.uniqueStates)
                    && Objects.equals(uniqueFor, j.uniqueFor) && dependsOn.equals(j.dependsOn)
                    && onDependencyFailure == j.onDependencyFailure && Objects.equals(partitionKey, j.partitionKey)
                    && traceContext.equals(j.traceContext);
        }

        @Override
        public int hashCode() {
            return id.hashCode();
        }

        @Override
        public String toString() {
            return "NewJob[id=" + id + ", type=" + type + ", queue=" + queue + ", priority=" + priority + ", runAt="
                    + runAt + ", delay=" + delay + ", maxRetries=" + maxRetries + ", dedupeKey=" + dedupeKey
                    + ", dependsOn=" + dependsOn + "]";
        }

        /** Sets a {@link NewJob}'s optional values; every one has a default. Not thread-safe. */
        public static final class Builder {
            private final UUID id;
            private final String type;
            private final String payloadJson;
            private String queue = dev.pgqueue.EnqueueOptions.DEFAULT_QUEUE;
            private int priority = dev.pgqueue.EnqueueOptions.DEFAULT_PRIORITY;
            private Instant runAt;
            private Duration delay = Duration.ZERO;
            private int maxRetries = dev.pgqueue.EnqueueOptions.DEFAULT_MAX_RETRIES;
            private UUID userId;
            private String dedupeKey;
            private Set<JobStatus> uniqueStates;
            private Duration uniqueFor;
            private List<UUID> dependsOn = List.of();
            private DependencyFailure onDependencyFailure;
            private String partitionKey;
            private Map<String, String> traceContext = Map.of();

            private Builder(UUID id, String type, String payloadJson) {
                this.id = id;
                this.type = type;
                this.payloadJson = payloadJson;
            }

            /**
             * See {@link NewJob#queue()}. Default {@code default}.
             *
             * @param queue the queue's name
             * @return this builder
             */
            public Builder queue(String queue) {
                this.queue = queue;
                return this;
            }

            /**
             * See {@link NewJob#priority()}. Default 0.
             *
             * @param priority the priority; lower runs first
             * @return this builder
             */
            public Builder priority(int priority) {
                this.priority = priority;
                return this;
            }

            /**
             * See {@link NewJob#runAt()}. Default null.
             *
             * @param runAt when the job becomes due, or null for {@code now + delay}
             * @return this builder
             */
            public Builder runAt(Instant runAt) {
                this.runAt = runAt;
                return this;
            }

            /**
             * See {@link NewJob#delay()}. Default zero.
             *
             * @param delay how long after now the job becomes due when {@code runAt} is null
             * @return this builder
             */
            public Builder delay(Duration delay) {
                this.delay = delay;
                return this;
            }

            /**
             * See {@link NewJob#maxRetries()}. Default 3.
             *
             * @param maxRetries retries after the first run; 0 for none
             * @return this builder
             */
            public Builder maxRetries(int maxRetries) {
                this.maxRetries = maxRetries;
                return this;
            }

            /**
             * See {@link NewJob#userId()}. Default null.
             *
             * @param userId the owning user, or null
             * @return this builder
             */
            public Builder userId(UUID userId) {
                this.userId = userId;
                return this;
            }

            /**
             * See {@link NewJob#dedupeKey()}. Default null.
             *
             * @param dedupeKey the key that makes the job unique among jobs of its type, or null
             * @return this builder
             */
            public Builder dedupeKey(String dedupeKey) {
                this.dedupeKey = dedupeKey;
                return this;
            }

            /**
             * See {@link NewJob#uniqueStates()}. Default null.
             *
             * @param uniqueStates the statuses in which the key blocks duplicates, or null for the default
             * @return this builder
             */
            public Builder uniqueStates(Set<JobStatus> uniqueStates) {
                this.uniqueStates = uniqueStates;
                return this;
            }

            /**
             * See {@link NewJob#uniqueFor()}. Default null.
             *
             * @param uniqueFor how long the uniqueness lasts at most, or null for no limit
             * @return this builder
             */
            public Builder uniqueFor(Duration uniqueFor) {
                this.uniqueFor = uniqueFor;
                return this;
            }

            /**
             * See {@link NewJob#dependsOn()}. Default empty.
             *
             * @param dependsOn the ids of the jobs it waits for; null or empty for none
             * @return this builder
             */
            public Builder dependsOn(List<UUID> dependsOn) {
                this.dependsOn = dependsOn;
                return this;
            }

            /**
             * See {@link NewJob#onDependencyFailure()}. Default null.
             *
             * @param onDependencyFailure what happens when a dependency fails, or null for cancel
             * @return this builder
             */
            public Builder onDependencyFailure(DependencyFailure onDependencyFailure) {
                this.onDependencyFailure = onDependencyFailure;
                return this;
            }

            /**
             * See {@link NewJob#partitionKey()}. Default null.
             *
             * @param partitionKey the tenant for fair claiming, or null for the user id
             * @return this builder
             */
            public Builder partitionKey(String partitionKey) {
                this.partitionKey = partitionKey;
                return this;
            }

            /**
             * See {@link NewJob#traceContext()}. Default empty.
             *
             * @param traceContext the key/value pairs; empty for none
             * @return this builder
             */
            public Builder traceContext(Map<String, String> traceContext) {
                this.traceContext = traceContext;
                return this;
            }

            /** {@return the job} */
            public NewJob build() {
                return new NewJob(this);
            }
        }
    }

    /**
     * What {@link #jobInsertMany} inserts.
     *
     * @param jobs the jobs, in order; copied
     * @param now the store's notion of the current time
     */
    record InsertParams(List<NewJob> jobs, Instant now) {
        /**
         * Copies the job list.
         *
         * @param jobs the jobs, in order; copied
         * @param now the store's notion of the current time
         */
        public InsertParams {
            jobs = List.copyOf(jobs);
        }
    }

    /**
     * What {@link #jobClaim} claims.
     *
     * @param queue the queue to claim from
     * @param types the job types' names the claimer handles; copied
     * @param limit how many jobs at most
     * @param workerId the claiming worker, recorded as the jobs' owner
     * @param leaseToken the fencing token every claimed job carries until its next claim
     * @param leaseDuration how long the lease lasts unless extended
     * @param now the store's notion of the current time
     */
    record ClaimParams(
            String queue,
            Set<String> types,
            int limit,
            String workerId,
            UUID leaseToken,
            Duration leaseDuration,
            Instant now) {
        /**
         * Copies the type set.
         *
         * @param queue the queue to claim from
         * @param types the job types' names the claimer handles; copied
         * @param limit how many jobs at most
         * @param workerId the claiming worker, recorded as the jobs' owner
         * @param leaseToken the fencing token every claimed job carries until its next claim
         * @param leaseDuration how long the lease lasts unless extended
         * @param now the store's notion of the current time
         */
        public ClaimParams {
            types = Set.copyOf(types);
        }
    }

    /**
     * What {@link #jobClaimById} claims.
     *
     * @param id         the pending job to claim
     * @param workerId   recorded as the lease's owner
     * @param leaseToken the fencing token the claimed job carries until its next claim
     * @param leaseDuration how long the lease lasts from {@code now}
     * @param now        the time, or null for the database's clock
     */
    record ClaimByIdParams(UUID id, String workerId, UUID leaseToken, Duration leaseDuration, Instant now) {}

    /**
     * What {@link #jobList} lists.
     *
     * @param types    the job types to list; empty for every type
     * @param statuses the statuses to list; empty for every status
     * @param dueOnly  only jobs whose {@code run_at} has come by {@code now}
     * @param now      with {@code dueOnly}: the time, or null for the database's clock
     * @param limit    the most rows returned; at least 1
     */
    record ListParams(Set<String> types, Set<JobStatus> statuses, boolean dueOnly, Instant now, int limit) {
        /**
         * Copies the type and status sets.
         *
         * @param types the job types to list; empty for every type
         * @param statuses the statuses to list; empty for every status
         * @param dueOnly only jobs whose {@code run_at} has come by {@code now}
         * @param now with {@code dueOnly}: the time, or null for the database's clock
         * @param limit the most rows returned; at least 1
         */
        public ListParams {
            types = Set.copyOf(types);
            statuses = Set.copyOf(statuses);
        }
    }

    /**
     * A job just claimed: its row as the claim left it, and the lease it is held under.
     *
     * @param id the job's id
     * @param type the job type's name
     * @param queue the queue
     * @param payloadJson the payload as JSON text
     * @param attempt this attempt's number, from 1
     * @param retryCount failed attempts so far
     * @param maxRetries retries allowed after the first run
     * @param priority lower runs first
     * @param runAt when it became due
     * @param createdAt when it was inserted
     * @param userId the owning user, or null
     * @param leaseToken the token that fences this claim's outcome
     * @param leaseExpiresAt when the lease runs out unless extended
     * @param claimedAt when it was claimed ({@code processed_at}), by the store's clock
     * @param traceContext the context its producer recorded with it ({@link NewJob#traceContext()});
     *                     empty for none
     */
    record ClaimedJob(
            UUID id,
            String type,
            String queue,
            String payloadJson,
            int attempt,
            int retryCount,
            int maxRetries,
            int priority,
            Instant runAt,
            Instant createdAt,
            UUID userId,
            UUID leaseToken,
            Instant leaseExpiresAt,
            Instant claimedAt,
            Map<String, String> traceContext) {

        /**
         * Copies the context.
         *
         * @param id the job's id
         * @param type the job type's name
         * @param queue the queue
         * @param payloadJson the payload as JSON text
         * @param attempt this attempt's number, from 1
         * @param retryCount failed attempts so far
         * @param maxRetries retries allowed after the first run
         * @param priority lower runs first
         * @param runAt when it became due
         * @param createdAt when it was inserted
         * @param userId the owning user, or null
         * @param leaseToken the token that fences this claim's outcome
         * @param leaseExpiresAt when the lease runs out unless extended
         * @param claimedAt when it was claimed ({@code processed_at}), by the store's clock
         * @param traceContext the context its producer recorded with it; empty (or null) for none
         */
        public ClaimedJob {
            traceContext = traceContext == null ? Map.of() : Map.copyOf(traceContext);
        }
    }

    /** How an attempt ended, as the store records it. */
    enum FinishKind {
        /** → completed. */
        COMPLETE,
        /** A failed attempt → pending after {@code delay}, or failed once retries are used up. */
        RETRY,
        /** → failed now. */
        FAIL,
        /** → pending after {@code delay}; not a failure. */
        SNOOZE,
        /** → cancelled. */
        CANCEL,
        /** Handed back unfinished (shutdown) → pending now; neither a failure nor an attempt. */
        RELEASE
    }

    /**
     * One outcome for {@link #jobFinishMany}.
     *
     * @param id         the job's id
     * @param leaseToken the token of the claim being finished
     * @param kind       how the attempt ended
     * @param message    the error message for RETRY, FAIL and CANCEL; ignored otherwise
     * @param delay      for RETRY and SNOOZE: how long after now the job is due again
     * @param resultJson for COMPLETE: the handler's result as JSON text, or null; ignored otherwise
     * @param progress   progress reported but not yet written, or null: written first, in the same
     *                   transaction and under the same fence, so that the last report is never lost
     */
    record Finish(
            UUID id, UUID leaseToken, FinishKind kind, String message, Duration delay, String resultJson,
            ReportedProgress progress) {

        /**
         * Rejects a delay beyond {@link #MAX_DELAY}.
         *
         * @param id the job's id
         * @param leaseToken the token of the claim being finished
         * @param kind how the attempt ended
         * @param message the error message for RETRY, FAIL and CANCEL; ignored otherwise
         * @param delay for RETRY and SNOOZE: how long after now the job is due again
         * @param resultJson for COMPLETE: the handler's result as JSON text, or null; ignored otherwise
         * @param progress progress reported but not yet written, or null: written first, in the same transaction and under the same fence, so that the last report is never lost
         */
        public Finish {
            if (delay != null && delay.compareTo(MAX_DELAY) > 0) {
                throw new IllegalArgumentException("delay " + delay + " exceeds " + MAX_DELAY);
            }
        }

        /**
         * An outcome without result or pending progress.
         *
         * @param id the job's id
         * @param leaseToken the token of the claim being finished
         * @param kind how the attempt ended
         * @param message the error message, or null
         * @param delay for RETRY and SNOOZE: how long until due again; null otherwise
         */
        public Finish(UUID id, UUID leaseToken, FinishKind kind, String message, Duration delay) {
            this(id, leaseToken, kind, message, delay, null, null);
        }
    }

    /** The longest delay a retry or snooze may ask for (about 1,000 years): PostgreSQL's interval range. */
    Duration MAX_DELAY = Duration.ofDays(365_000);
    /** A handler's progress report: 0-100 and an optional message. */
    record ReportedProgress(int percent, String message) {}

    /** The latest progress of one running job, under its lease. */
    record ProgressUpdate(UUID id, UUID leaseToken, ReportedProgress progress) {}

    /**
     * What {@link #jobProgressMany} writes.
     *
     * @param updates the progress reports; copied
     * @param now the store's notion of the current time
     */
    record ProgressParams(List<ProgressUpdate> updates, Instant now) {
        /**
         * Copies the update list.
         *
         * @param updates the progress reports; copied
         * @param now the store's notion of the current time
         */
        public ProgressParams {
            updates = List.copyOf(updates);
        }
    }

    /**
     * @param atMost the greatest key to consider, in code point order; null for no bound (keys
     *               beyond it are ignored, e.g. a recurring schedule's ticks far in the future)
     */
    record LatestDedupeKeyParams(String type, String prefix, String atMost) {
        /**
         * A query without an upper bound.
         *
         * @param type the job type's name
         * @param prefix the key prefix, e.g. a schedule's name
         */
        public LatestDedupeKeyParams(String type, String prefix) {
            this(type, prefix, null);
        }
    }

    /**
     * What {@link #jobFinishMany} records.
     *
     * @param finishes the outcomes; copied
     * @param now the store's notion of the current time
     */
    record FinishParams(List<Finish> finishes, Instant now) {
        /**
         * Copies the outcome list.
         *
         * @param finishes the outcomes; copied
         * @param now the store's notion of the current time
         */
        public FinishParams {
            finishes = List.copyOf(finishes);
        }
    }

    /** An outcome that took effect, and the status it left the job in. */
    record FinishedJob(UUID id, JobStatus status, int retryCount) {}

    /**
     * A claimed job's lease.
     *
     * @param id the job's id
     * @param leaseToken the token it was claimed under
     */
    record LeaseRef(UUID id, UUID leaseToken) {}

    /**
     * What {@link #jobExtendLeaseMany} extends.
     *
     * @param leases the leases; copied
     * @param leaseDuration the new lease length, from {@code now}
     * @param now the store's notion of the current time
     */
    record ExtendLeaseParams(List<LeaseRef> leases, Duration leaseDuration, Instant now) {
        /**
         * Copies the lease list.
         *
         * @param leases the leases; copied
         * @param leaseDuration the new lease length, from {@code now}
         * @param now the store's notion of the current time
         */
        public ExtendLeaseParams {
            leases = List.copyOf(leases);
        }
    }

    /**
     * What a heartbeat learned about one lease: still {@code held} (then extended until
     * {@code expiresAt}, and {@code cancelRequested} tells whether a producer asked to cancel the
     * job) or lost (the job was rescued, finished, or re-claimed under another token).
     */
    record LeaseStatus(UUID id, boolean held, Instant expiresAt, boolean cancelRequested) {}

    /**
     * What {@link #jobRescue} takes.
     *
     * @param limit how many jobs at most
     * @param now the store's notion of the current time
     */
    record RescueParams(int limit, Instant now) {}

    /**
     * What {@link #queuePause} does.
     *
     * @param queue  the queue's name
     * @param paused true to pause it, false to resume it
     */
    record QueuePauseParams(String queue, boolean paused) {}

    /**
     * A recurring schedule as a worker runs it, for the registry.
     *
     * @param name     the schedule's name
     * @param type     the job type it enqueues
     * @param queue    the queue it enqueues into
     * @param schedule the schedule as written ({@link dev.pgqueue.Schedule#toString()})
     */
    record RecurringRecord(String name, String type, String queue, String schedule) {}

    /**
     * A worker's record in the registry ({@link #workerRegister}).
     *
     * @param id               the worker's id, recorded as {@code lease_owner} on its jobs
     * @param host             the host it runs on
     * @param pid              its process id
     * @param queues           the queues it serves, with its concurrency for each; copied
     * @param types            the job types it has handlers for; copied
     * @param recurring        the recurring schedules it runs; copied
     * @param version          the pgqueue version it runs
     * @param presenceInterval how often it renews its presence ({@link #workerBeat})
     * @param now              the store's notion of the current time
     */
    record WorkerParams(String id, String host, long pid, java.util.Map<String, Integer> queues, Set<String> types,
            List<RecurringRecord> recurring, String version, Duration presenceInterval, Instant now) {
        /**
         * Copies the collections.
         *
         * @param id               the worker's id
         * @param host             its host
         * @param pid              its process id
         * @param queues           its queues and concurrency; copied
         * @param types            its job types; copied
         * @param recurring        its recurring schedules; copied
         * @param version          its pgqueue version
         * @param presenceInterval how often it renews its presence
         * @param now              the store's notion of the current time
         */
        public WorkerParams {
            queues = java.util.Map.copyOf(queues);
            types = Set.copyOf(types);
            recurring = List.copyOf(recurring);
        }
    }

    /**
     * What {@link #workerBeat} renews.
     *
     * @param id      the worker's id
     * @param running how many jobs it runs now
     * @param now     the store's notion of the current time
     */
    record WorkerBeatParams(String id, int running, Instant now) {}

    /**
     * What a {@link #workerBeat} found.
     *
     * @param registered false if the worker's record was gone (deleted as dead after a long stall):
     *                   the worker registers again
     * @param orphans    whether a dead worker still holds processing jobs: a rescue is worth running now
     */
    record WorkerBeat(boolean registered, boolean orphans) {}

    /**
     * What {@link #jobUnservedList} looks for.
     *
     * @param pendingFor how long a job must have been due
     * @param limit      the most groups returned
     * @param onlyFor    null to look in any case; a worker's id to look only if that worker is the
     *                   oldest live one in the registry (so that one worker of the table runs a
     *                   periodic check: it reads the pending jobs due before the cut-off), else
     *                   return nothing
     * @param now        the store's notion of the current time
     */
    record UnservedParams(Duration pendingFor, int limit, String onlyFor, Instant now) {}

    /**
     * Pending jobs of one queue and type that no live worker serves.
     *
     * @param queue      the queue
     * @param type       the job type
     * @param count      how many such jobs
     * @param oldestDue  when the oldest of them became due
     */
    record UnservedJobs(String queue, String type, long count, Instant oldestDue) {}

    /** A job taken from a worker whose lease expired, and where it went. */
    record RescuedJob(UUID id, String type, String queue, JobStatus status, String previousOwner, int attempt) {}

    /**
     * What {@link #jobCancel} cancels.
     *
     * @param id the job's id
     * @param now the store's notion of the current time
     */
    record CancelParams(UUID id, Instant now) {}

    /** What a cancellation request did. */
    enum CancelResult {
        /** The job was pending and is now cancelled. */
        CANCELLED,
        /** The job is processing; the request is recorded and its worker will stop it. */
        REQUESTED,
        /** No such job, or it is already final. */
        NOT_CANCELLABLE
    }

    /**
     * What {@link #jobPrune} deletes.
     *
     * @param statuses the final statuses to prune; copied
     * @param olderThan how long ago a job must have finished
     * @param limit how many rows at most
     * @param now the store's notion of the current time
     */
    record PruneParams(Set<JobStatus> statuses, Duration olderThan, int limit, Instant now) {
        /**
         * Copies the status set.
         *
         * @param statuses the final statuses to prune; copied
         * @param olderThan how long ago a job must have finished
         * @param limit how many rows at most
         * @param now the store's notion of the current time
         */
        public PruneParams {
            statuses = Set.copyOf(statuses);
        }
    }

    /**
     * How workers claim from a queue, or from one job type in it; stored where every worker of the
     * table reads it. A null field sets nothing.
     *
     * @param queue        the queue
     * @param type         a job type's name, or null for the whole queue
     * @param maxRunning   a global concurrency limit: at most this many of its jobs processing at
     *                     once, across every worker; at least 1
     * @param maxStarts    a rate limit: at most this many of its jobs started (claimed) within any
     *                     {@code startsPeriod}; at least 1, set together with {@code startsPeriod}
     * @param startsPeriod the rate limit's window; positive
     * @param fair         claim round-robin across partition keys; whole queues only
     */
    record QueuePolicy(String queue, String type, Integer maxRunning, Integer maxStarts, Duration startsPeriod,
            Boolean fair) {}

    /**
     * What {@link #policyPutMany} stores.
     *
     * @param policies the policies; copied
     */
    record PolicyParams(List<QueuePolicy> policies) {
        /**
         * Copies the policy list.
         *
         * @param policies the policies; copied
         */
        public PolicyParams {
            policies = List.copyOf(policies);
        }
    }

    /**
     * What {@link #jobNextDue} looks at.
     *
     * @param queue the queue
     * @param types the job types' names; copied
     * @param now the store's notion of the current time
     */
    record NextDueParams(String queue, Set<String> types, Instant now) {
        /**
         * Copies the type set.
         *
         * @param queue the queue
         * @param types the job types' names; copied
         * @param now the store's notion of the current time
         */
        public NextDueParams {
            types = Set.copyOf(types);
        }
    }

    /**
     * @param liveRows           live rows of the table, as the statistics estimate them
     * @param deadRows           dead rows of the table not yet removed by vacuum, as the statistics estimate them
     * @param deadRowsMade       a running count of the row versions the table's writes may have made dead since
     *                           its statistics were last reset (each update and delete makes one; an insert one
     *                           if its transaction rolls back, so inserts count too): of two readings, the
     *                           difference is at least how many were made in between
     * @param insertedSinceVacuum rows inserted into the table since vacuum last ran on it
     * @param lastVacuum         when vacuum (auto or manual) last finished on the table, or null
     * @param oldestTransaction  the session whose snapshot is oldest, described for a log line, or null
     *                           if none is visible
     * @param oldestTransactionAge how long that session's transaction has been open, or null
     */
    record TableHealth(long liveRows, long deadRows, long deadRowsMade, long insertedSinceVacuum, Instant lastVacuum, String oldestTransaction,
            Duration oldestTransactionAge) {}

    /** Receives a store's notifications, on a thread of the store's; must return quickly. */
    interface StoreListener {
        /**
         * Jobs may be available on {@code queue}.
         *
         * @param queue the queue's name
         */
        void jobsAvailable(String queue);

        /**
         * A producer asked to cancel the processing job {@code jobId}.
         *
         * @param jobId the job's id
         */
        void cancelRequested(UUID jobId);

        /**
         * The store's notification channel was interrupted and is back; notifications sent in the
         * meantime are lost, so listeners should re-poll.
         */
        void reconnected();

        /**
         * A queue was paused or resumed, maybe: re-read {@link #queuePausedList()}. Only a hint (anyone
         * who can connect may send one); the default does nothing.
         */
        default void queuesChanged() {}
    }

    /** Stops a {@link #subscribe subscription}. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();

        /**
         * Whether cross-process notifications arrive right now.
         *
         * @return OFF if this store does not listen (notifications off, or it has none), UP while its
         *     listening connection is up, DOWN while it reconnects
         */
        default ListenState listenState() {
            return ListenState.OFF;
        }
    }

    /** Whether a subscription's cross-process notifications arrive; see {@link Subscription#listenState()}. */
    enum ListenState {
        /** The store does not listen for other processes' notifications; workers poll. */
        OFF,
        /** The listening connection is up. */
        UP,
        /** The listening connection is down and being re-established; workers poll meanwhile. */
        DOWN
    }
}
