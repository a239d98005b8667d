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
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.HandlerRegistration;
import dev.pgqueue.internal.InlineRunner;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.internal.RecurringJob;
import dev.pgqueue.internal.RecurringScheduler;
import dev.pgqueue.internal.StandardJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
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
 * store's {@link JdbiJobStore#objectMapper() mapper}, as on your workers. Not thread-safe: use it from
 * the test's thread.
 */
public final class QueueTester {

    /** How long the lease of a job claimed by the tester lasts, in minutes. */
    public static final int LEASE_MINUTES = 10;
    /** The most jobs {@link #drain()} runs before it decides that something re-enqueues without end. */
    public static final int DEFAULT_MAX_DRAIN_RUNS = 1_000;
    private static final Duration LEASE = Duration.ofMinutes(LEASE_MINUTES);
    private static final int MAX_LISTED = 20;

    private final JdbiJobStore store;
    private final Clock clock;
    private final PayloadCodec codec;
    private final ObjectMapper mapper;
    private final InlineRunner runner;
    private final RecurringScheduler recurring;
    private final JobQueue queue;
    private final int maxDrainRuns;
    private final String claimJob;
    private final String nextDueJob;
    private final String jobsOfType;
    private final String otherTypes;

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
        this.claimJob = sql("claim-job");
        this.nextDueJob = sql("next-due-job");
        this.jobsOfType = sql("jobs-of-type");
        this.otherTypes = sql("other-types");
        if (recurring != null) {
            recurring.enqueueDueTicks(); // as a worker's start: from now on, ticks that come due are enqueued
        }
    }

    /**
     * A tester for the jobs in {@code store}'s schema.
     *
     * @param store the store whose jobs to test, with its mapper
     * @return a builder
     */
    public static Builder builder(JdbiJobStore store) {
        return new Builder(store);
    }

    // ---- assertions ------------------------------------------------------------------------------

    /**
     * Asserts that a job of {@code type} whose payload matches was enqueued (in any status: it may
     * have run since); returns the first such job, oldest first.
     *
     * @throws AssertionError if there is none; the message lists the jobs of that type, with status
     *     and payload, and how many jobs of other types there are
     * @param <P> the payload type
     * @param type the job type
     * @param matching tests the mapped payload
     * @return the oldest matching job
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
     * @throws AssertionError if there is none, listing what was found
     * @param <P> the payload type
     * @param type the job type
     * @param payload the expected payload
     * @return the oldest such job
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
     * @throws AssertionError naming the jobs that match
     * @param <P> the payload type
     * @param type the job type
     * @param matching tests the mapped payload
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
     * @throws AssertionError if the job does not exist, is not pending, or its type has no handler
     * @param jobId the pending job to run
     * @return the job's row after the run
     */
    public JobSnapshot run(UUID jobId) {
        Check.notNull("jobId", jobId);
        JobSnapshot job = store.jobGet(jobId).orElseThrow(() -> new AssertionError(
                "expected job " + jobId + " to exist in schema " + store.schema() + " to run it, but there is no such job"));
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
     * @throws AssertionError if more than the {@linkplain Builder#maxDrainRuns maximum} jobs ran and
     *     more are still due: something re-enqueues without end
     * @return the job rows, one per run, in run order
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
        return query("list jobs of type " + type.name(), c -> {
            try (PreparedStatement ps = c.prepareStatement(jobsOfType)) {
                ps.setString(1, type.name());
                List<Found> found = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(new Found(rs.getObject(1, UUID.class), rs.getString(2), rs.getString(3)));
                    }
                }
                return found;
            }
        });
    }

    private Map<String, Long> otherTypes(String type) {
        return query("count jobs by type", c -> {
            try (PreparedStatement ps = c.prepareStatement(otherTypes)) {
                ps.setString(1, type);
                Map<String, Long> counts = new LinkedHashMap<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        counts.put(rs.getString(1), rs.getLong(2));
                    }
                }
                return counts;
            }
        });
    }

    private Optional<UUID> nextDue() {
        return query("find the next due job", c -> {
            try (PreparedStatement ps = c.prepareStatement(nextDueJob)) {
                ps.setArray(1, c.createArrayOf("text", runner.types().toArray(String[]::new)));
                setInstant(ps, 2, now());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getObject(1, UUID.class)) : Optional.empty();
                }
            }
        });
    }

    private Optional<ClaimedJob> claim(UUID jobId) {
        return query("claim job " + jobId, c -> {
            try (PreparedStatement ps = c.prepareStatement(claimJob)) {
                int i = 0;
                setInstant(ps, ++i, now());
                ps.setString(++i, "queue-tester");
                ps.setObject(++i, UUID.randomUUID());
                ps.setLong(++i, TimeUnit.MICROSECONDS.convert(LEASE));
                ps.setObject(++i, jobId);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    int k = 0;
                    return Optional.of(new ClaimedJob(
                            rs.getObject(++k, UUID.class),
                            rs.getString(++k),
                            rs.getString(++k),
                            rs.getString(++k),
                            rs.getInt(++k),
                            rs.getInt(++k),
                            rs.getInt(++k),
                            rs.getInt(++k),
                            instant(rs, ++k),
                            instant(rs, ++k),
                            rs.getObject(++k, UUID.class),
                            rs.getObject(++k, UUID.class),
                            instant(rs, ++k)));
                }
            }
        });
    }

    private Instant now() {
        return clock == null ? null : clock.instant();
    }

    @FunctionalInterface
    private interface SqlWork<T> {
        T apply(Connection connection) throws SQLException;
    }

    private <T> T query(String what, SqlWork<T> work) {
        try {
            return store.jdbi().withHandle(handle -> work.apply(handle.getConnection()));
        } catch (SQLException | org.jdbi.v3.core.JdbiException e) {
            throw new StoreException("queue tester could not " + what + " in " + store.schema() + ".job_queue: " + e.getMessage(), e);
        }
    }

    private String sql(String name) {
        String resource = "/dev/pgqueue/testing/sql/" + name + ".sql";
        try (InputStream in = QueueTester.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            // The schema passed JdbiJobStore's identifier check, so quoting it is all it needs.
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("{schema}", '"' + store.schema() + '"');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void setInstant(PreparedStatement ps, int index, Instant instant) throws SQLException {
        if (instant == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        }
    }

    private static Instant instant(ResultSet rs, int index) throws SQLException {
        OffsetDateTime value = rs.getObject(index, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /**
     * Options for a {@link QueueTester}: the handlers it runs jobs with, and the clock that decides
     * what is due. Values are checked when set, with pgqueue's usual messages.
     */
    public static final class Builder {
        private final JdbiJobStore store;
        private final Map<String, HandlerRegistration<?>> handlers = new LinkedHashMap<>();
        private final Map<String, PendingRecurring<?>> recurring = new LinkedHashMap<>();
        private Clock clock;
        private RetryPolicy retryPolicy = RetryPolicy.DEFAULT;
        private int maxDrainRuns = DEFAULT_MAX_DRAIN_RUNS;

        private Builder(JdbiJobStore store) {
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
         * @throws StoreException if the tester has recurring jobs and their first ticks cannot be read
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
