package dev.pgqueue.jdbi;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.LeaseLostException;
import dev.pgqueue.StoreException;
import dev.pgqueue.PayloadMapper;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.spi.Attempt;
import dev.pgqueue.spi.JobStore;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL {@link JobStore}: the {@code job_queue} table of one schema, reached through JDBI.
 *
 * <pre>{@code
 * JdbiJobStore store = JdbiJobStore.builder(jdbi).schema("jobs").build(); // migrates "jobs"
 * JdbiJobQueue queue = JdbiJobQueue.create(store);                        // the one way to make a queue
 * Worker worker = Worker.builder(store).handler(GENERATE_IMAGE, handler).build();
 * }</pre>
 *
 * <p>Thread-safe; create one per schema and share it. Each operation borrows a connection from the
 * {@link Jdbi}'s data source for one statement (one transaction) and gives it back. Statements name
 * the schema explicitly and use no session state, so they work behind a transaction-mode pooler
 * (PgBouncer, Supavisor) too; only notifications need a session (see
 * {@link Builder#notifications(boolean)}). An insert of 5,000 plain jobs or more stages them with
 * COPY in a temporary table that lives and dies within its transaction; without the TEMPORARY
 * privilege on the database, or on a connection that is not pgjdbc's, it is one statement instead.
 *
 * <p>{@link #bound(Handle)} and {@link #bound(Connection)} give a view of this store that runs on
 * the caller's connection and transaction instead: what {@link JdbiJobQueue#in(Handle)} and
 * transactional handlers use.
 */
public final class JdbiJobStore implements JobStore {

    /** The schema a store uses unless told otherwise: {@value}. */
    public static final String DEFAULT_SCHEMA = "public";

    private static final Logger log = LoggerFactory.getLogger(JdbiJobStore.class);

    private final Jdbi jdbi;
    private final String schema;
    private final JobStatements statements;
    /** V3: global concurrency limits, rate limits and fairness, consulted by every claim. */
    private final QueuePolicies policies;
    /** V7: paused queues and the worker registry. */
    private final RegistryStatements registry;
    private final Notifications notifications;
    /** Where operations run: a connection borrowed per call, or the caller's (a bound view). */
    private final Connections connections;
    private final ObjectMapper objectMapper;

    private JdbiJobStore(Jdbi jdbi, String schema, JobStatements statements, QueuePolicies policies,
            RegistryStatements registry, Notifications notifications, Connections connections, ObjectMapper objectMapper) {
        this.jdbi = jdbi;
        this.objectMapper = objectMapper;
        this.schema = schema;
        this.statements = statements;
        this.policies = policies;
        this.registry = registry;
        this.notifications = notifications;
        this.connections = connections;
    }

    /**
     * A store over the {@value #DEFAULT_SCHEMA} schema, migrated if needed.
     *
     * @param jdbi the database to store jobs in
     * @return the store
     */
    public static JdbiJobStore create(Jdbi jdbi) {
        return builder(jdbi).build();
    }

    /**
     * Options for a store over {@code jdbi}; see {@link Builder}.
     *
     * @param jdbi the database to store jobs in
     * @return a builder with every option at its default
     */
    public static Builder builder(Jdbi jdbi) {
        return new Builder(jdbi);
    }

    /**
     * The schema whose {@code job_queue} this store uses.
     *
     * @return the schema's name
     */
    public String schema() {
        return schema;
    }

    /**
     * The mapper for payloads and results, set with {@link Builder#objectMapper(ObjectMapper)}: what
     * every queue, worker and tester over this store uses.
     */
    @Override
    public ObjectMapper objectMapper() {
        return objectMapper;
    }

    /**
     * The {@link Jdbi} this store borrows its connections from.
     *
     * @return the Jdbi instance
     */
    public Jdbi jdbi() {
        return jdbi;
    }

    /**
     * This store, running every operation on {@code handle}'s connection and in its transaction
     * (if one is open): the operations commit or roll back with the caller's own work. The view is
     * valid while the handle is open, and as thread-safe as the handle.
     *
     * @param handle an open handle, in a transaction or not
     * @return the bound view
     */
    public JdbiJobStore bound(Handle handle) {
        Check.notNull("handle", handle);
        Connection connection = handle.getConnection();
        return withConnections(new Connections() {
            @Override
            public <T> T run(SqlWork<T> work) throws SQLException {
                return work.apply(connection);
            }

            @Override
            public void afterCommit(Runnable task) {
                if (handle.isInTransaction()) {
                    handle.afterCommit(task);
                } else {
                    task.run();
                }
            }
        });
    }

    /**
     * This store, running every operation on {@code connection} and in its current transaction: for
     * applications that manage transactions themselves (a Spring-managed {@code Connection}, say).
     * The connection is neither committed nor closed here.
     *
     * @param connection an open connection
     * @return the bound view
     */
    public JdbiJobStore bound(Connection connection) {
        Check.notNull("connection", connection);
        return withConnections(new Connections() {
            @Override
            public <T> T run(SqlWork<T> work) throws SQLException {
                return work.apply(connection);
            }

            @Override
            public void afterCommit(Runnable task) {
                if (autoCommit(connection)) {
                    task.run();
                }
                // Otherwise the caller commits without telling us; the insert trigger's NOTIFY,
                // delivered at that commit, wakes the workers instead.
            }
        });
    }

    /**
     * Wraps {@code handler} so that its writes and its job's outcome commit in one transaction; see
     * {@link TransactionalJobHandler}. The handler runs in a pgqueue {@link dev.pgqueue.Worker} only.
     *
     * @param <P> the payload type
     * @param handler the handler to run in a transaction
     * @return a handler to register with a worker over this store
     */
    public <P> JobHandler<P> transactional(TransactionalJobHandler<P> handler) {
        Check.notNull("handler", handler);
        return new InTransaction<>(this, handler);
    }

    /** A handler that runs in a transaction of this store's: it holds a connection while it runs. */
    private record InTransaction<P>(JdbiJobStore store, TransactionalJobHandler<P> handler) implements JobHandler<P> {
        @Override
        public JobOutcome handle(dev.pgqueue.Job<P> job, JobContext context) throws Exception {
            return store.completeInTransaction(context, handle -> handler.handle(job, context, handle));
        }
    }

    /**
     * Runs {@code work} in one transaction that also records the outcome it returns, fenced by the
     * job's lease: for a handler that does slow work first (rendering, an HTTP call) and wants only its
     * final writes and its completion in one short transaction. Call it from inside a handler, with
     * that handler's context, and return what it returns:
     *
     * <pre>{@code
     * (job, context) -> {
     *     byte[] png = render(job.payload());                 // no transaction, no connection held
     *     return store.completeInTransaction(context, handle -> {
     *         handle.execute("INSERT INTO assets (job_id, png) VALUES (?, ?)", job.id(), png);
     *         return JobOutcome.done();
     *     });
     * }
     * }</pre>
     *
     * If {@code work} throws, or returns null, the transaction rolls back and the exception reaches
     * the handler's caller: a failed attempt. If the lease was lost meanwhile, the transaction rolls
     * back with a {@link LeaseLostException}.
     *
     * @param <X> the exception {@code work} may throw
     * @param context the running handler's context
     * @param work the writes to make, returning the job's outcome; runs in the transaction
     * @return the outcome, recorded in the committed transaction
     * @throws IllegalStateException if {@code context} does not come from a pgqueue worker
     * @throws X if {@code work} throws it; the transaction then rolls back
     */
    public <X extends Exception> JobOutcome completeInTransaction(JobContext context, HandleCallback<JobOutcome, X> work)
            throws X {
        Check.notNull("context", context);
        Check.notNull("work", work);
        if (!(context instanceof Attempt attempt)) {
            throw new IllegalStateException(
                    "completeInTransaction runs only inside a pgqueue Worker's handler, with that handler's context");
        }
        return jdbi.inTransaction(handle -> {
            JobOutcome outcome = work.withHandle(handle);
            if (outcome == null) {
                throw new IllegalStateException("handler returned null; return JobOutcome.done() when the job is done");
            }
            FinishedJob finished = recordInTransaction(handle.getConnection(), attempt.finishFor(outcome), attempt.now());
            if (finished == null) {
                throw new LeaseLostException(context.jobId());
            }
            attempt.committing(); // the row now shows the outcome to a heartbeat once this commits
            handle.afterCommit(() -> attempt.recorded(finished));
            return outcome;
        });
    }

    /**
     * Records one job's outcome on {@code connection}, in the transaction that commits right after (so
     * that the single-job statement may set transaction-local settings), straight through JDBC: no
     * bound store or JDBI statement per job. Returns null if the lease was lost.
     */
    private FinishedJob recordInTransaction(Connection connection, Finish finish, Instant now) {
        try {
            List<FinishedJob> finished = statements.finish(connection, new FinishParams(List.of(finish), now), true);
            return finished.isEmpty() ? null : finished.get(0);
        } catch (SQLException e) {
            throw failure("record job outcomes", e);
        }
    }

    @Override
    public List<EnqueueResult> jobInsertMany(InsertParams params) {
        List<EnqueueResult> results = statements.insertNeedsTransaction(params)
                ? run("enqueue jobs", c -> Transactions.inOne(c, () -> statements.insert(c, params)))
                : run("enqueue jobs", c -> statements.insert(c, params));
        for (EnqueueResult result : results) {
            if (!result.duplicate()) {
                connections.afterCommit(() -> notifications.announceInserts(params));
                break;
            }
        }
        return results;
    }

    /**
     * The database's payload limit ({@code job_queue_max_payload_bytes()}, from the owner's
     * {@code job_queue_setting}); {@link JobQueue#DEFAULT_MAX_PAYLOAD_BYTES} if it cannot be read (the
     * database still checks every insert against its own).
     */
    int maxPayloadBytes() {
        try {
            return run("read the payload limit", c -> {
                try (java.sql.Statement st = c.createStatement();
                        java.sql.ResultSet rs = st.executeQuery(
                                "SELECT " + SqlFiles.quote(schema) + ".job_queue_max_payload_bytes()")) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
        } catch (StoreException e) {
            return JobQueue.DEFAULT_MAX_PAYLOAD_BYTES;
        }
    }

    @Override
    public List<ClaimedJob> jobClaim(ClaimParams params) {
        // A queue without limits or fairness is claimed by statements.claim as before (QueuePolicies).
        // What an earlier claim said of the queue's next due job is out of date once this one begins,
        // even if this one does not reach claim.sql (a limit with no room left).
        statements.forgetClaimedNextDue(params.queue());
        return run("claim jobs", c -> policies.claim(c, params, statements,
                body -> statements.claimTransaction(() -> Transactions.inOne(c, body))));
    }

    /** Whether this store's claims of {@code queue} for {@code types} now start past a {@link ClaimFloor} (tests). */
    boolean claimsPastFloor(String queue, java.util.Set<String> types) {
        return statements.claimsPastFloor(queue, types);
    }

    /** Whether this store's fair claims of {@code queue} for {@code types} now start past their keys' {@link FairFloor} (tests). */
    boolean fairClaimsPastFloors(String queue, java.util.Set<String> types) {
        return policies.fairClaimsPastFloors(queue, types);
    }

    @Override
    public List<FinishedJob> jobFinishMany(FinishParams params) {
        // One statement is atomic on its own; several (one per kind, and progress) share a transaction.
        return JobStatements.finishStatements(params) <= 1
                ? run("record job outcomes", c -> statements.finish(c, params))
                : run("record job outcomes", c -> Transactions.inOne(c, () -> statements.finish(c, params)));
    }

    @Override
    public List<LeaseStatus> jobExtendLeaseMany(ExtendLeaseParams params) {
        return run("extend leases", c -> statements.extendLeases(c, params));
    }

    @Override
    public List<RescuedJob> jobRescue(RescueParams params) {
        return run("rescue expired leases", c -> statements.rescue(c, params));
    }

    @Override
    public CancelResult jobCancel(CancelParams params) {
        CancelResult result = run("cancel job " + params.id(), c -> statements.cancel(c, params));
        if (result == CancelResult.REQUESTED) {
            connections.afterCommit(() -> notifications.announceCancel(params.id()));
        }
        return result;
    }

    @Override
    public int jobPrune(PruneParams params) {
        return run("prune finished jobs", c -> statements.prune(c, params));
    }

    @Override
    public Optional<JobSnapshot> jobGet(UUID id) {
        return run("read job " + id, c -> statements.get(c, id));
    }

    @Override
    public List<JobSnapshot> jobDependencies(UUID id) {
        return run("read the dependencies of job " + id, c -> statements.workflows().dependencies(c, id));
    }

    @Override
    public List<JobSnapshot> jobList(ListParams params) {
        Check.atLeast("limit", params.limit(), 1);
        return run("list jobs", c -> statements.list(c, params));
    }

    @Override
    public Optional<ClaimedJob> jobClaimById(ClaimByIdParams params) {
        return run("claim job " + params.id(), c -> statements.claimById(c, params));
    }

    @Override
    public void policyPutMany(PolicyParams params) {
        if (params.policies().isEmpty()) {
            return;
        }
        run("record queue limits and fairness", c -> {
            policies.put(c, params);
            return null;
        });
    }

    @Override
    public List<QueuePolicy> policyList() {
        return run("read queue limits and fairness", policies::list);
    }

    @Override
    public List<UUID> jobProgressMany(ProgressParams params) {
        if (params.updates().isEmpty()) {
            return List.of();
        }
        return run("record progress", c -> statements.progress(c, params));
    }

    @Override
    public Optional<String> jobLatestDedupeKey(LatestDedupeKeyParams params) {
        return run("find the latest dedupe key of " + params.type(), c -> statements.latestDedupeKey(c, params));
    }

    @Override
    public Optional<Duration> jobNextDue(NextDueParams params) {
        if (statements.takeLeftDue(params.queue())) {
            return Optional.of(Duration.ZERO); // the latest claim stopped at its byte budget: more are due now
        }
        JobStatements.ClaimedNextDue claimed = statements.takeClaimedNextDue(params.queue());
        Optional<QueuePolicies.RetryHint> retry = policies.retryHint(params.queue(), params.types()); // a limit held the last claim back
        Optional<Duration> due;
        if (claimed != null && claimed.answers(params)) {
            due = claimed.delay(); // the claim that came back short said it: no second round trip
        } else if (retry.isPresent() && retry.get().sameTypes()) {
            // Nothing of these types can be claimed before the first limit that held the claim back frees up, so when
            // the next job becomes due does not matter; and next-due.sql would walk every due job of the queue to find
            // the first one not due.
            return Optional.of(retry.get().delay());
        } else {
            due = run("find the next due job", c -> statements.nextDue(c, params));
        }
        if (retry.isPresent() && (due.isEmpty() || retry.get().delay().compareTo(due.get()) < 0)) {
            return Optional.of(retry.get().delay());
        }
        return due;
    }

    /**
     * Runs, on one connection of the pool, an outcome of one job and of two (the single-job and batch
     * statements) for ids that no job has, then the claim and next-due statements for a queue no job
     * can have, so that nothing changes, and decodes a claimed row made of constants six times (pgjdbc
     * prepares a statement on the server at its fifth run and reads timestamps in binary from the
     * next): the code a worker's first claims, outcomes and claimed jobs would otherwise load while
     * jobs wait. A failure is logged at debug level and ignored.
     *
     * @param types the job types the worker claims
     */
    @Override
    public void warmUp(Set<String> types) {
        try {
            run("warm up", c -> {
                statements.warmUp(c);
                return null;
            });
        } catch (RuntimeException e) {
            log.debug("could not warm up the store of schema {}: {}", schema, e.toString());
        }
    }

    @Override
    public Optional<TableHealth> jobTableHealth() {
        return run("read the health of the job table", statements::tableHealth);
    }

    /** The pool's maximum size when the {@code Jdbi} was created from a DataSource that tells it (HikariCP does). */
    @Override
    public Optional<Integer> connectionLimit() {
        return PoolSize.maximum(jdbi).map(size -> notifications.listens() ? size - 1 : size);
    }

    @Override
    public boolean holdsConnection(JobHandler<?> handler) {
        return handler instanceof InTransaction<?> inTransaction && inTransaction.store().jdbi == jdbi;
    }

    @Override
    public Subscription subscribe(StoreListener listener) {
        return notifications.subscribe(Check.notNull("listener", listener));
    }

    @Override
    public Set<String> queuePausedList() {
        return run("read the paused queues", registry::paused);
    }

    /**
     * Pauses or resumes the queue through {@code job_queue_pause}/{@code job_queue_resume} (V7), which
     * notify the workers of every process; this process's own are told once it commits.
     *
     * @param params the queue and whether to pause or resume it
     * @return true if this call changed the queue's state
     * @throws dev.pgqueue.ValidationException if the queue name is invalid
     */
    @Override
    public boolean queuePause(QueuePauseParams params) {
        Check.notNull("params", params);
        Check.queue("queue", params.queue());
        boolean changed = run((params.paused() ? "pause queue " : "resume queue ") + params.queue(),
                c -> registry.pause(c, params));
        connections.afterCommit(() -> notifications.announceQueuesChanged(params.queue(), !params.paused()));
        return changed;
    }

    @Override
    public void workerRegister(WorkerParams params) {
        run("register worker " + params.id(), c -> {
            registry.register(c, params);
            return null;
        });
    }

    @Override
    public WorkerBeat workerBeat(WorkerBeatParams params) {
        return run("renew the presence of worker " + params.id(), c -> registry.beat(c, params));
    }

    @Override
    public void workerDelete(String workerId) {
        run("unregister worker " + workerId, c -> {
            registry.delete(c, workerId);
            return null;
        });
    }

    @Override
    public int workerPrune(Instant now) {
        return run("delete dead workers' records", c -> registry.prune(c, now));
    }

    @Override
    public List<UnservedJobs> jobUnservedList(UnservedParams params) {
        Check.atLeast("limit", params.limit(), 1);
        return run("find pending jobs no worker serves", c -> registry.unserved(c, params));
    }

    /** Names the store's schema, as messages about its jobs (e.g. a queue tester's) show it. */
    @Override
    public String toString() {
        return "JdbiJobStore[schema=" + schema + "]";
    }

    private JdbiJobStore withConnections(Connections connections) {
        return new JdbiJobStore(jdbi, schema, statements, policies, registry, notifications, connections, objectMapper);
    }

    private <T> T run(String what, SqlWork<T> work) {
        try {
            return connections.run(work);
        } catch (SQLException e) {
            throw failure(what, e);
        } catch (JdbiException e) {
            throw failure(what, e);
        }
    }

    private StoreException failure(String what, Exception e) {
        Throwable cause = e instanceof JdbiException && e.getCause() != null ? e.getCause() : e;
        String sqlState = cause instanceof SQLException sql ? sql.getSQLState() : null;
        String state = sqlState != null ? " [" + sqlState + "]" : "";
        return new StoreException("could not " + what + " in " + schema + ".job_queue" + state + ": " + cause.getMessage(),
                e, isTransient(sqlState));
    }

    /**
     * Whether a failure with this SQLSTATE may pass if tried again: connection trouble (08), rollbacks
     * such as deadlocks and serialization failures (40), too many connections or out of resources
     * (53), an operator restarting or cancelling (57), lock timeouts (55P03), system errors (58), or
     * no state at all (an I/O error before the server answered). A rejected statement (22 data,
     * 23 constraint, 42 syntax or missing object) fails the same way every time.
     */
    static boolean isTransient(String sqlState) {
        if (sqlState == null || sqlState.length() < 2) {
            return true;
        }
        return switch (sqlState.substring(0, 2)) {
            case "08", "40", "53", "57", "58" -> true;
            default -> "55P03".equals(sqlState);
        };
    }

    private static boolean autoCommit(Connection connection) {
        try {
            return connection.getAutoCommit();
        } catch (SQLException e) {
            return false;
        }
    }

    @FunctionalInterface
    interface SqlWork<T> {
        T apply(Connection connection) throws SQLException;

        @FunctionalInterface
        interface Body<T> {
            T get() throws SQLException;
        }
    }

    private interface Connections {
        <T> T run(SqlWork<T> work) throws SQLException;

        /** Runs {@code task} once the work done so far has committed. */
        void afterCommit(Runnable task);
    }

    /**
     * Logs a warning, once per store, naming the roles that may create objects in the store's schema
     * although they are neither superusers nor members of its owner or of job_queue's: any of them
     * can plant a function or operator there (CVE-2018-1058), as PostgreSQL 14 lets PUBLIC do in
     * the schema public. A failure to check is logged, never raised.
     */
    static void warnIfOthersMayCreate(Jdbi jdbi, String schema) {
        List<String> creators;
        try {
            creators = jdbi.withHandle(handle -> handle.createQuery(SqlFiles.load("schema-creators", schema))
                    .bind(0, SqlFiles.quote(schema) + ".job_queue")
                    .bind(1, schema)
                    .mapTo(String.class)
                    .list());
        } catch (JdbiException e) {
            log.debug("could not check who may create objects in schema {}: {}", schema, e.toString());
            return;
        }
        if (!creators.isEmpty()) {
            String roles = String.join(", ", creators);
            log.warn("schema {} lets {} create objects in it: such a role can plant a function or operator there that"
                    + " pgqueue's statements or your own then run with the rights of whoever runs them (a worker connected"
                    + " as a superuser, say). Revoke it: REVOKE CREATE ON SCHEMA {} FROM {}; (see docs/least-privilege.md)",
                    schema, roles, SqlFiles.quote(schema), roles);
        }
    }

    /** Options for a {@link JdbiJobStore}; every one has a default. Not thread-safe. */
    public static final class Builder {
        private final Jdbi jdbi;
        private String schema = DEFAULT_SCHEMA;
        private boolean migrate = true;
        private boolean notifications = true;
        private int version = SchemaMigrator.latestVersion();
        private Duration policyRefreshInterval = QueuePolicies.DEFAULT_REFRESH_INTERVAL;
        private int copyThreshold = CopyInsert.DEFAULT_THRESHOLD;
        private ObjectMapper objectMapper = PayloadCodec.defaultMapper();
        private long claimByteBudget = JobStatements.DEFAULT_CLAIM_BYTE_BUDGET;

        private Builder(Jdbi jdbi) {
            this.jdbi = Check.notNull("jdbi", jdbi);
        }

        /**
         * The schema that holds {@code job_queue}. Default {@value #DEFAULT_SCHEMA}. A lower-case SQL
         * identifier; several schemas in one database are independent queues.
         *
         * @param schema the schema's name
         * @return this builder
         */
        public Builder schema(String schema) {
            this.schema = Check.schema("schema", schema);
            return this;
        }

        /**
         * Whether {@link #build()} applies pending migrations (default true). Turn it off for
         * services whose database role may not run DDL, and where Flyway, Liquibase or a DBA owns
         * the schema; {@code build()} then only checks, by its objects, that the schema holds what
         * this pgqueue needs ({@link SchemaMigrator#verify()}), and fails clearly if not.
         *
         * @param migrate false to only check the schema
         * @return this builder
         */
        public Builder migrate(boolean migrate) {
            this.migrate = migrate;
            return this;
        }

        /**
         * Whether workers listen for the insert trigger's NOTIFY (default true), which wakes them
         * within milliseconds. LISTEN needs a session of its own, so turn this off behind a
         * transaction-mode pooler (PgBouncer, Supabase's Supavisor on port 6543); workers then
         * find jobs by polling only.
         *
         * @param notifications false to poll only
         * @return this builder
         */
        public Builder notifications(boolean notifications) {
            this.notifications = notifications;
            return this;
        }

        /**
         * The Jackson mapper for payloads and results, for every queue, worker and tester over this
         * store: the one place to set it. Default {@link PayloadMapper#create PayloadMapper.create()}
         * ({@code java.time} supported, unknown properties ignored); start from that factory to add
         * modules of your own.
         *
         * @param objectMapper the mapper; not null
         * @return this builder
         */
        public Builder objectMapper(ObjectMapper objectMapper) {
            this.objectMapper = Check.notNull("objectMapper", objectMapper);
            return this;
        }

        /** Behaves as the pgqueue whose newest migration is {@code version} (rolling-upgrade tests). */
        Builder version(int version) {
            this.version = version;
            return this;
        }

        /**
         * From how many plain jobs in one insert they go through COPY (tests: 1 to always, {@code
         * Integer.MAX_VALUE} to never); default {@value CopyInsert#DEFAULT_THRESHOLD}.
         */
        Builder copyThreshold(int copyThreshold) {
            this.copyThreshold = Check.atLeast("copyThreshold", copyThreshold, 1);
            return this;
        }

        /**
         * How many bytes of payload (JSON text) one claim takes at most. Default 16 MiB. A batch stops
         * before the job that would pass it, except that its first job is always taken, so a worker
         * holds at most this much payload from one claim, or one job's (at most the payload limit,
         * {@code job_queue_setting.max_payload_bytes}); the jobs left out are claimed next time.
         *
         * @param claimByteBudget the budget in bytes; positive
         * @return this builder
         */
        public Builder claimByteBudget(int claimByteBudget) {
            this.claimByteBudget = Check.atLeast("claimByteBudget", claimByteBudget, 1);
            return this;
        }

        /**
         * How often this store reloads the queues' limits and fairness ({@code job_queue_policy}),
         * which every claim follows. Default 5 s: a limit set by another worker, or by SQL, applies to
         * this store's claims within that long (a change through this store applies at once). Each
         * reload is one small query, made by a claim.
         *
         * @param policyRefreshInterval the reload interval; positive
         * @return this builder
         */
        public Builder policyRefreshInterval(Duration policyRefreshInterval) {
            this.policyRefreshInterval = Check.positive("policyRefreshInterval", policyRefreshInterval);
            return this;
        }

        /**
         * Builds the store. Logs a warning, naming them, if roles other than superusers and members of
         * the schema's or {@code job_queue}'s owner may create objects in its schema (docs/least-privilege.md, "Least
         * privilege").
         *
         * @return the store, ready to use
         * @throws StoreException if migrating failed, or (with migrations off) the schema lacks what
         *     this version of pgqueue needs
         */
        public JdbiJobStore build() {
            SchemaMigrator migrator = SchemaMigrator.of(jdbi, schema);
            if (migrate) {
                migrator.migrateTo(version);
            } else {
                migrator.verify(version);
            }
            warnIfOthersMayCreate(jdbi, schema);
            DirectConnections direct = DirectConnections.of(jdbi);
            Connections pooled = new Connections() {
                @Override
                public <T> T run(SqlWork<T> work) throws SQLException {
                    return direct.run(work);
                }

                @Override
                public void afterCommit(Runnable task) {
                    task.run();
                }
            };
            Notifications announcements = new Notifications(jdbi, schema, notifications);
            return new JdbiJobStore(jdbi, schema,
                    new JobStatements(schema, copyThreshold, claimByteBudget,
                            FrontSweeps.on(direct, schema, announcements::announceJobsAvailable)),
                    new QueuePolicies(schema, policyRefreshInterval), new RegistryStatements(schema),
                    announcements, pooled, objectMapper);
        }
    }
}
