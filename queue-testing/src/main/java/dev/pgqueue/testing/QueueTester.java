package dev.pgqueue.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Schedule;
import dev.pgqueue.ValidationException;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.HandlerRegistration;
import dev.pgqueue.internal.InlineRunner;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.internal.RecurringJob;
import dev.pgqueue.internal.RecurringScheduler;
import dev.pgqueue.internal.StandardJobQueue;
import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ClaimByIdParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ListParams;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * Test helpers for code that uses pgqueue, on a real PostgreSQL: assert what was enqueued, run one
 * job through its handler, and drain every due job, all on the calling thread and, with a
 * {@link TestClock}, without sleeping. For tests only: keep this module in test scope.
 *
 * <pre>{@code
 * TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));
 * JdbiJobQueue queue = JdbiJobQueue.builder(store).clock(clock).build();
 * QueueTester tester = QueueTester.builder(store).clock(clock)
 *         .handler(SEND_DIGEST, digestHandler)                       // plain or store.transactional(...)
 *         .build();
 *
 * signup.register("ann@example.com");                                // code under test enqueues
 * tester.assertEnqueuedMatching(SEND_DIGEST, digest -> digest.email().equals("ann@example.com"));
 * List<JobSnapshot> ran = tester.drain();                            // runs what is due, in claim order
 * clock.advance(Duration.ofHours(24));
 * tester.drain();                                                    // runs what came due meanwhile
 * }</pre>
 *
 * <p>Jobs run exactly as a worker runs them, through the same code: handlers get a real
 * {@code JobContext}, outcomes (retries and their delays, snoozes, failures, results, progress) are
 * recorded in the database, fenced by the claim's lease, and transactional handlers
 * ({@code store.transactional(...)}) run in their own real transaction, which commits with their
 * outcome. What a worker adds around a job is left out: there is no heartbeat (the claim's lease,
 * {@value #LEASE_MINUTES} minutes, must outlast the handler), no timeout and no cancellation while a
 * handler runs. Do not run workers on the same schema while using a tester: they would take jobs
 * from under it. Workflows work as in production (the database releases a waiting job when its last
 * dependency completes, so {@code drain()} runs it next); limits and fairness are not applied: the
 * tester runs what you ask, in claim order.
 *
 * <p>Assertions throw {@link AssertionError} with a message that lists what was found. Each method
 * reads or writes the database in its own transactions. Payloads and results are mapped by the
 * store's {@link JobStore#objectMapper() mapper}, as on your workers. Not thread-safe: use it from
 * the test's thread.
 */
public final class QueueTester {

    /** How long the lease of a job claimed by the tester lasts, in minutes. */
    public static final int LEASE_MINUTES = 10;
    /** The most jobs {@link #drain()} runs before it decides that something re-enqueues without end. */
    public static final int DEFAULT_MAX_DRAIN_RUNS = 1_000;
    private static final Duration LEASE = Duration.ofMinutes(LEASE_MINUTES);
    private static final int MAX_LISTED = 20;

    /** The workers' claim order: priority, then due time, then id as PostgreSQL orders uuids (unsigned). */
    private static final Comparator<JobSnapshot> CLAIM_ORDER = Comparator.comparingInt(JobSnapshot::priority)
            .thenComparing(JobSnapshot::runAt)
            .thenComparing(JobSnapshot::id, QueueTester::compareUnsigned);

    private final JobStore store;
    private final Clock clock;
    private final PayloadCodec codec;
    private final ObjectMapper mapper;
    private final InlineRunner runner;
    private final RecurringScheduler recurring;
    private final JobQueue queue;
    private final int maxDrainRuns;

    private QueueTester(Builder builder) {
        this.store = builder.store;
        this.clock = builder.clock;
        this.mapper = store.objectMapper();
        this.codec = new PayloadCodec(mapper);
        this.runner = new InlineRunner(store, builder.handlers, codec, builder.retryPolicy, clock, LEASE);
        this.queue = new StandardJobQueue(store, clock, JobQueue.DEFAULT_MAX_PAYLOAD_BYTES);
        this.maxDrainRuns = builder.maxDrainRuns;
        List<RecurringJob> schedules = new ArrayList<>();
        builder.recurring.values().forEach(r -> schedules.add(r.resolve(codec)));
        this.recurring = schedules.isEmpty() ? null : new RecurringScheduler(store, schedules, clock, Duration.ZERO);
        if (recurring != null) {
            recurring.enqueueDueTicks(); // as a worker's start: from now on, ticks that come due are enqueued
        }
    }

    /**
     * A tester for the jobs in {@code store} (for the JDBI store: its schema); it reads and writes them
     * through the store's SPI.
     *
     * @param store the store whose jobs to test; its mapper maps payloads
     * @return a builder
     */
    public static Builder builder(JobStore store) {
        return new Builder(store);
    }

    // ---- assertions ------------------------------------------------------------------------------

    /**
     * Asserts that a job of {@code type} whose payload matches was enqueued (in any status: it may
     * have run since); returns the first such job, oldest first.
     *
     * @param <P> the payload type
     * @param type the job type
     * @param matching tests the mapped payload
     * @return the oldest matching job
     * @throws AssertionError if there is none; the message lists the jobs of that type, with status
     *     and payload, and how many jobs of other types there are
     */
    public <P> JobSnapshot assertEnqueuedMatching(JobType<P> type, Predicate<? super P> matching) {
        Check.notNull("type", type);
        Check.notNull("matching", matching);
        List<Found> found = jobsOf(type);
        for (Found job : found) {
            if (job.payload(codec, type).filter(matching).isPresent()) {
                return snapshot(job.id());
            }
        }
        throw new AssertionError("expected a job of type " + type.name() + " with a matching payload to be enqueued, "
                + describe(type, found, true));
    }

    /**
     * Asserts that a job of {@code type} with exactly this payload (equal as JSON) was enqueued, in any
     * status; returns the first such job, oldest first.
     *
     * @param <P> the payload type
     * @param type the job type
     * @param payload the expected payload
     * @return the oldest such job
     * @throws AssertionError if there is none, listing what was found
     */
    public <P> JobSnapshot assertEnqueued(JobType<P> type, P payload) {
        Check.notNull("type", type);
        JsonNode expected = tree(codec.encode(type, payload));
        List<Found> found = jobsOf(type);
        for (Found job : found) {
            if (expected.equals(tree(job.payloadJson()))) {
                return snapshot(job.id());
            }
        }
        throw new AssertionError("expected a job of type " + type.name() + " with payload " + expected
                + " to be enqueued, " + describe(type, found, false));
    }

    /**
     * Asserts that no job of {@code type} whose payload matches was enqueued (in any status).
     *
     * @param <P> the payload type
     * @param type the job type
     * @param matching tests the mapped payload
     * @throws AssertionError naming the jobs that match
     */
    public <P> void assertNotEnqueuedMatching(JobType<P> type, Predicate<? super P> matching) {
        Check.notNull("type", type);
        Check.notNull("matching", matching);
        List<Found> matches = jobsOf(type).stream()
                .filter(job -> job.payload(codec, type).filter(matching).isPresent())
                .toList();
        if (!matches.isEmpty()) {
            StringBuilder message = new StringBuilder("expected no job of type " + type.name()
                    + " with a matching payload to be enqueued, but found " + count(matches.size()) + ":");
            list(message, matches, null);
            throw new AssertionError(message.toString());
        }
    }

    // ---- running -----------------------------------------------------------------------------------

    /**
     * Claims the pending job {@code jobId}, due or not, runs its handler on this thread and records
     * the outcome as a worker would; returns the job's row afterwards.
     *
     * @param jobId the pending job to run
     * @return the job's row after the run
     * @throws AssertionError if the job does not exist, is not pending, or its type has no handler
     */
    public JobSnapshot run(UUID jobId) {
        Check.notNull("jobId", jobId);
        JobSnapshot job = store.jobGet(jobId).orElseThrow(() -> new AssertionError(
                "expected job " + jobId + " to exist in " + store + " to run it, but there is no such job"));
        requireHandler(job.type(), jobId);
        ClaimedJob claimed = claim(jobId).orElseThrow(() -> new AssertionError(
                "expected job " + job.type() + "/" + jobId + " to be pending to run it, but it is "
                        + store.jobGet(jobId).map(j -> j.status().sqlValue()).orElse("gone")));
        runner.run(claimed);
        return snapshot(jobId);
    }

    /**
     * Enqueues a job of {@code type} with default options and runs it at once; see {@link #run(UUID)}.
     *
     * @param <P> the payload type
     * @param type the job type
     * @param payload the payload
     * @return the job's row after the run
     */
    public <P> JobSnapshot run(JobType<P> type, P payload) {
        Check.notNull("type", type);
        requireHandler(type.name(), null);
        return run(queue.enqueue(type, payload, EnqueueOptions.defaults()));
    }

    /**
     * Runs every job that is due by the clock and has a handler here, one at a time in the workers'
     * claim order (priority, then due time), on any queue, until none is due; jobs that come due by
     * running (a retry or snooze without delay, a job a handler enqueues) run too, and so do the ticks
     * of this tester's recurring jobs that have come due. Returns each run's job row right after it,
     * in run order (a job that ran twice appears twice).
     *
     * @return the job rows, one per run, in run order
     * @throws AssertionError if more than the {@linkplain Builder#maxDrainRuns maximum} jobs ran and
     *     more are still due: something re-enqueues without end
     */
    public List<JobSnapshot> drain() {
        List<JobSnapshot> ran = new ArrayList<>();
        while (true) {
            boolean ticked = recurring != null && recurring.enqueueDueTicks().values().stream().anyMatch(r -> !r.duplicate());
            Optional<UUID> next = nextDue();
            if (next.isEmpty()) {
                if (ticked) {
                    continue;
                }
                return Collections.unmodifiableList(ran);
            }
            if (ran.size() == maxDrainRuns) {
                throw new AssertionError("drain() ran " + maxDrainRuns + " jobs and jobs are still due, e.g. "
                        + snapshot(next.get()).type() + "/" + next.get() + ": a handler may be enqueueing or snoozing without"
                        + " end (raise QueueTester.Builder.maxDrainRuns if this many is expected); the last ones ran:"
                        + lastRuns(ran));
            }
            Optional<ClaimedJob> claimed = claim(next.get());
            if (claimed.isPresent()) {
                runner.run(claimed.get());
                ran.add(snapshot(next.get()));
            }
        }
    }

    // ---- internals -------------------------------------------------------------------------------

    private record Found(UUID id, String status, String payloadJson) {
        <P> Optional<P> payload(PayloadCodec codec, JobType<P> type) {
            try {
                return Optional.of(codec.decode(type, id, payloadJson));
            } catch (PayloadException e) {
                return Optional.empty();
            }
        }
    }

    private void requireHandler(String type, UUID jobId) {
        if (!runner.types().contains(type)) {
            throw new AssertionError("expected a handler for job type " + type + (jobId == null ? "" : " (job " + jobId + ")")
                    + " to run it, but this tester has handlers for " + (runner.types().isEmpty() ? "none" : runner.types().stream().sorted().toList())
                    + "; register one with QueueTester.builder(store).handler(type, handler)");
        }
    }

    private String describe(JobType<?> type, List<Found> found, boolean decode) {
        StringBuilder message = new StringBuilder();
        if (found.isEmpty()) {
            message.append("but there is no job of that type");
        } else {
            message.append("but none of the ").append(count(found.size())).append(" of that type matched:");
            list(message, found, decode ? type : null);
        }
        Map<String, Long> others = otherTypes(type.name());
        if (others.isEmpty()) {
            message.append(found.isEmpty() ? "; the queue is empty" : "\nthere are no jobs of other types");
        } else {
            message.append(found.isEmpty() ? "; " : "\n").append("jobs of other types: ");
            List<String> counts = new ArrayList<>();
            others.forEach((name, n) -> counts.add(name + " (" + n + ")"));
            message.append(String.join(", ", counts));
        }
        return message.toString();
    }

    private void list(StringBuilder message, List<Found> jobs, JobType<?> decodeAs) {
        for (Found job : jobs.subList(0, Math.min(MAX_LISTED, jobs.size()))) {
            message.append("\n  ").append(job.id()).append(' ').append(String.format("%-10s", job.status()))
                    .append(' ').append(abbreviate(job.payloadJson()));
            if (decodeAs != null) {
                try {
                    codec.decode(decodeAs, job.id(), job.payloadJson());
                } catch (PayloadException e) {
                    message.append("  (does not map to ").append(decodeAs.payloadType().getSimpleName()).append(')');
                }
            }
        }
        if (jobs.size() > MAX_LISTED) {
            message.append("\n  … and ").append(jobs.size() - MAX_LISTED).append(" more");
        }
    }

    private static String count(int n) {
        return n == 1 ? "1 job" : n + " jobs";
    }

    private static String lastRuns(List<JobSnapshot> ran) {
        StringBuilder text = new StringBuilder();
        for (JobSnapshot job : ran.subList(Math.max(0, ran.size() - 5), ran.size())) {
            text.append("\n  ").append(job.type()).append('/').append(job.id()).append(' ').append(job.status().sqlValue());
        }
        return text.toString();
    }

    private static String abbreviate(String json) {
        return json.length() <= 200 ? json : json.substring(0, 200) + "… (" + json.length() + " chars)";
    }

    private JsonNode tree(String json) {
        try {
            return mapper.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private JobSnapshot snapshot(UUID id) {
        return store.jobGet(id).orElseThrow(() -> new AssertionError("job " + id + " disappeared"));
    }

    private List<Found> jobsOf(JobType<?> type) {
        return store.jobList(new ListParams(Set.of(type.name()), Set.of(), false, null, Integer.MAX_VALUE)).stream()
                .map(job -> new Found(job.id(), job.status().sqlValue(), job.payloadJson()))
                .toList();
    }

    /** How many jobs of each other type there are, by type name. */
    private Map<String, Long> otherTypes(String type) {
        Map<String, Long> counts = new TreeMap<>();
        for (JobSnapshot job : store.jobList(new ListParams(Set.of(), Set.of(), false, null, Integer.MAX_VALUE))) {
            if (!job.type().equals(type)) {
                counts.merge(job.type(), 1L, Long::sum);
            }
        }
        return counts;
    }

    /** The next due pending job of the types with a handler here, on any queue, in the workers' claim order. */
    private Optional<UUID> nextDue() {
        if (runner.types().isEmpty()) {
            return Optional.empty();
        }
        return store.jobList(new ListParams(runner.types(), Set.of(JobStatus.PENDING), true, now(), Integer.MAX_VALUE))
                .stream().min(CLAIM_ORDER).map(JobSnapshot::id);
    }

    private Optional<ClaimedJob> claim(UUID jobId) {
        return store.jobClaimById(new ClaimByIdParams(jobId, "queue-tester", UUID.randomUUID(), LEASE, now()));
    }

    private Instant now() {
        return clock == null ? null : clock.instant();
    }

    private static int compareUnsigned(UUID a, UUID b) {
        int high = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return high != 0 ? high : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    /**
     * Options for a {@link QueueTester}: the handlers it runs jobs with, and the clock that decides
     * what is due. Values are checked when set, with pgqueue's usual messages.
     */
    public static final class Builder {
        /** The workers' claim order: priority, then due time, then id as PostgreSQL orders uuids (unsigned). */
    private static final Comparator<JobSnapshot> CLAIM_ORDER = Comparator.comparingInt(JobSnapshot::priority)
            .thenComparing(JobSnapshot::runAt)
            .thenComparing(JobSnapshot::id, QueueTester::compareUnsigned);

    private final JobStore store;
        private final Map<String, HandlerRegistration<?>> handlers = new LinkedHashMap<>();
        private final Map<String, PendingRecurring<?>> recurring = new LinkedHashMap<>();
        private Clock clock;
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private int maxDrainRuns = DEFAULT_MAX_DRAIN_RUNS;

        private Builder(JobStore store) {
            this.store = Check.notNull("store", store);
        }

        /**
         * Runs jobs of {@code type} with {@code handler}, plain or transactional; once per type.
         *
         * @param <P> the payload type
         * @param type the job type
         * @param handler the handler, as registered on the worker
         * @return this builder
         */
        public <P> Builder handler(JobType<P> type, JobHandler<P> handler) {
            Check.notNull("type", type);
            Check.notNull("handler", handler);
            if (handlers.containsKey(type.name())) {
                throw new ValidationException("handler", "registered once per job type", type.name() + " (twice)");
            }
            handlers.put(type.name(), new HandlerRegistration<>(type, handler));
            return this;
        }

        /**
         * The clock that decides what is due and stamps what is recorded; usually a {@link TestClock}
         * shared with the {@code JdbiJobQueue} under test. Default: the database's clock. Jobs that
         * code outside your clock inserts (SQL producers, column defaults) are due at the database's
         * {@code now()}: start the clock later than the real time (e.g. in 2030) so that those are
         * due for it too.
         *
         * @param clock the clock
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Check.notNull("clock", clock);
            return this;
        }

        /**
         * The retry policy of job types without their own, as on your workers. Default {@link RetryPolicy#DEFAULT}.
         *
         * @param retryPolicy the fallback policy
         * @return this builder
         */
        public Builder retryPolicy(RetryPolicy retryPolicy) {
            this.retryPolicy = Check.notNull("retryPolicy", retryPolicy);
            return this;
        }

        /**
         * A recurring job, as registered on a worker ({@code Worker.Builder.recurring}): from
         * {@link #build()} on, {@link QueueTester#drain()} enqueues (and runs) its ticks that have
         * come due by the clock, exactly once each.
         *
         * @param <P> the payload type
         * @param name the schedule's name, as on the worker
         * @param type the job type
         * @param payload the payload of every tick's job
         * @param schedule when to enqueue
         * @param options the options of every tick's job
         * @return this builder
         */
        public <P> Builder recurring(String name, JobType<P> type, P payload, Schedule schedule, EnqueueOptions options) {
            RecurringJob.checkRegistration(name, options);
            Check.notNull("type", type);
            Check.notNull("payload", payload);
            Check.notNull("schedule", schedule);
            if (recurring.containsKey(name)) {
                throw new ValidationException("recurring job name", "unique on a tester", name + " (twice)");
            }
            recurring.put(name, new PendingRecurring<>(name, type, payload, schedule, options));
            return this;
        }

        /**
         * A recurring job with default options; see {@link #recurring(String, JobType, Object, Schedule, EnqueueOptions)}.
         *
         * @param <P> the payload type
         * @param name the schedule's name, as on the worker
         * @param type the job type
         * @param payload the payload of every tick's job
         * @param schedule when to enqueue
         * @return this builder
         */
        public <P> Builder recurring(String name, JobType<P> type, P payload, Schedule schedule) {
            return recurring(name, type, payload, schedule, EnqueueOptions.defaults());
        }

        /**
         * The most jobs one {@link QueueTester#drain()} runs. Default {@value QueueTester#DEFAULT_MAX_DRAIN_RUNS}.
         *
         * @param maxDrainRuns the limit, at least 1
         * @return this builder
         */
        public Builder maxDrainRuns(int maxDrainRuns) {
            this.maxDrainRuns = Check.atLeast("maxDrainRuns", maxDrainRuns, 1);
            return this;
        }

        /**
         * Makes the tester.
         *
         * @return the tester
         * @throws dev.pgqueue.StoreException if the tester has recurring jobs and their first ticks cannot be read
         */
        public QueueTester build() {
            return new QueueTester(this);
        }

        private record PendingRecurring<P>(
                String name, JobType<P> type, P payload, Schedule schedule, EnqueueOptions options) {
            RecurringJob resolve(PayloadCodec codec) {
                return new RecurringJob(name, type.name(), codec.encode(type, payload),
                        options.maxRetries().isPresent() ? options : options.maxRetries(type.maxRetries()), schedule);
            }
        }
    }
}
