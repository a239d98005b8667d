package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static dev.pgqueue.jdbi.JdbcTime.setInstant;
import static dev.pgqueue.jdbi.JdbcTime.uuid;

import dev.pgqueue.DedupeKeyHeldException;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.StoreException;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimByIdParams;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ListParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.LeaseStatus;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LatestDedupeKeyParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.ProgressParams;
import dev.pgqueue.spi.JobStore.ProgressUpdate;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import dev.pgqueue.spi.JobStore.TableHealth;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the store's SQL statements (one resource file each) on a given connection, binding
 * parameters in the order each file documents. Plain JDBC, so that a caller's {@code Handle} or
 * {@code Connection} works the same as the store's own and no JDBI configuration of the
 * application's (parsers, template engines, argument factories) can change our statements.
 */
final class JobStatements {

    private static final Logger log = LoggerFactory.getLogger(JobStatements.class);

    /**
     * How many bytes of payload (JSON text) one claim takes at most, unless its first job alone is
     * bigger: a batch stops before the job that would pass it (claim.sql).
     */
    static final long DEFAULT_CLAIM_BYTE_BUDGET = 16L * 1024 * 1024;
    /**
     * A {@link ClaimFloor} sweep that runs longer than this is cancelled (it then counts as failed); its
     * connection's reads time out 30 s later, so that one hung on a dead connection ends too. Five times
     * the longest period.
     */
    static final int SWEEP_TIMEOUT_SECONDS = 300;

    /** How often an insert of unique jobs is tried again before giving up; each try resolves most. */
    static final int MAX_UNIQUE_TRIES = 10;

    private final NamedSql insertOne;
    private final NamedSql insertMany;
    private final NamedSql insertUnique;
    private final String releaseUnique;
    private final String latestDedupeKey;
    private final String rowSecurityActive;
    private final String progress;
    private final String progressWithOutcome;
    /** claim.sql from the claim index's front, past a {@link ClaimFloor}, and of the jobs its sweep found. */
    private final NamedSql claim;
    private final NamedSql claimPastFloor;
    private final NamedSql claimFound;
    /** claim-sweep.sql: what sorts before a {@link ClaimFloor}, and where that walk runs. */
    private final NamedSql claimSweep;
    private final FrontSweeps sweeps;
    /** Per queue and set of job types: where this store's claims may start (see {@link ClaimFloor}). */
    private final Map<FloorKey, ClaimFloor> claimFloors = new ConcurrentHashMap<>();
    /** What this store says about its claim floors. */
    private final FloorLog floorLog = new FloorLog(log, new FloorLog.Messages(
            "claims of queue {} now start past the last job claimed: a claim from the front of the claim index walked "
                    + "many dead entries",
            "claims of queue {} start at the front of the claim index again after {} ms",
            "claims of queue {} have started past the last job claimed for {} s: a claim from the front of the claim "
                    + "index walks many dead entries, so something holds back the xmin horizon, or vacuum is behind (the "
                    + "worker's table-health check names a transaction that holds it); what sorts before that job is found "
                    + "by a sweep on a connection of its own, every ten times as long as a sweep takes (1 to 60 s), and "
                    + "claimed first",
            "claims of queue {} start at the front of the claim index again, after {} s past the last job claimed: it is "
                    + "quick to walk again"));
    /** Per set of statuses pruned: where the previous prune stopped (see {@link #prune}). */
    private final Map<Set<JobStatus>, PruneFloor> pruneFloors = new ConcurrentHashMap<>();
    private final String claimById;
    private final NamedSql list;
    private final Map<FinishKind, String> finish = new EnumMap<>(FinishKind.class);
    /** The outcome of exactly one job: scalar parameters, found by primary key (complete-one.sql etc.). */
    private final Map<FinishKind, String> finishOne = new EnumMap<>(FinishKind.class);
    /** finishOne's statements behind {@link #NO_SEQ_SCAN}, sent in the same round trip. */
    private final Map<FinishKind, String> finishOneNoSeqScan = new EnumMap<>(FinishKind.class);
    private final String extendLease;
    private final String rescue;
    private final String cancel;
    private final String prune;
    private final String get;
    private final String nextDue;
    private final String tableHealth;
    private final String lockJobs;
    /** V3: inserts of jobs with dependencies, dependents or partition keys, and dependency reads. */
    private final Workflows workflows;
    /** Large batches of plain jobs: from {@link #copyThreshold} jobs on, through COPY. */
    private final CopyInsert copyInsert;
    private final int copyThreshold;
    private final long claimByteBudget;
    /** Queues whose latest claim left due jobs behind (byte budget, jobs failed for size): claim again at once. */
    private final Set<String> leftDue = ConcurrentHashMap.newKeySet();
    /**
     * Per thread and queue: the next due time that the thread's latest claim of the queue came back
     * with (claim.sql's last column). Per thread because the answer belongs to one claim's snapshot: a
     * worker's fetcher asks right after its own claim, and must not be told what another worker's
     * claim of the same queue saw, earlier (a job due soon, committed in between, would wait for the poll).
     */
    private final ThreadLocal<Map<String, ClaimedNextDue>> claimedNextDue = ThreadLocal.withInitial(HashMap::new);
    /**
     * Per thread, inside a {@link #claimTransaction} (a limited claim's): the jobs each claim in it took
     * past or before a floor, to hand back to that floor if the transaction rolls back. The floor moved
     * past them, so they would otherwise wait before it for the next sweep (1–60 s).
     */
    private final ThreadLocal<List<Runnable>> giveBackOnRollback = new ThreadLocal<>();
    /**
     * Per thread, inside a {@link #claimTransaction}: the due jobs its claims locked and left (their byte
     * budget cut the batch), to hand to their floors once it ends and its locks are gone (see {@link #handBackLeft}).
     */
    private final ThreadLocal<List<Runnable>> handBackAtEnd = new ThreadLocal<>();

    /** Statements whose claims sweep ({@link ClaimFloor}) inline, on the claim's own connection: for tests. */
    JobStatements(String schema, int copyThreshold) {
        this(schema, copyThreshold, DEFAULT_CLAIM_BYTE_BUDGET, FrontSweeps.INLINE);
    }

    JobStatements(String schema, int copyThreshold, long claimByteBudget, FrontSweeps sweeps) {
        insertOne = SqlFiles.loadNamed("insert-one", schema);
        insertMany = SqlFiles.loadNamed("insert-many", schema);
        insertUnique = SqlFiles.loadNamed("insert-unique", schema);
        releaseUnique = SqlFiles.load("release-unique", schema);
        latestDedupeKey = SqlFiles.load("latest-dedupe-key", schema);
        rowSecurityActive = SqlFiles.load("row-security-active", schema);
        progress = SqlFiles.load("progress", schema);
        progressWithOutcome = SqlFiles.load("progress-with-outcome", schema);
        claim = claimStatement(schema, ClaimFrom.FRONT);
        claimPastFloor = claimStatement(schema, ClaimFrom.PAST_FLOOR);
        claimFound = claimStatement(schema, ClaimFrom.FOUND);
        claimSweep = SqlFiles.loadNamed("claim-sweep", schema);
        this.sweeps = sweeps;
        claimById = SqlFiles.load("claim-by-id", schema);
        list = SqlFiles.loadNamed("list", schema);
        finish.put(FinishKind.COMPLETE, SqlFiles.load("complete", schema));
        finish.put(FinishKind.RETRY, SqlFiles.load("retry", schema));
        finish.put(FinishKind.FAIL, SqlFiles.load("fail", schema));
        finish.put(FinishKind.SNOOZE, SqlFiles.load("snooze", schema));
        finish.put(FinishKind.CANCEL, SqlFiles.load("cancel-running", schema));
        finish.put(FinishKind.RELEASE, SqlFiles.load("release", schema));
        finishOne.put(FinishKind.COMPLETE, SqlFiles.load("complete-one", schema));
        finishOne.put(FinishKind.RETRY, SqlFiles.load("retry-one", schema));
        finishOne.put(FinishKind.FAIL, SqlFiles.load("fail-one", schema));
        finishOne.put(FinishKind.SNOOZE, SqlFiles.load("snooze-one", schema));
        finishOne.put(FinishKind.CANCEL, SqlFiles.load("cancel-running-one", schema));
        finishOne.put(FinishKind.RELEASE, SqlFiles.load("release-one", schema));
        finishOne.forEach((kind, sql) -> finishOneNoSeqScan.put(kind, NO_SEQ_SCAN + ";\n" + sql));
        extendLease = SqlFiles.load("extend-lease", schema);
        rescue = SqlFiles.load("rescue", schema);
        cancel = SqlFiles.load("cancel", schema);
        prune = SqlFiles.load("prune", schema);
        get = SqlFiles.load("get", schema);
        nextDue = SqlFiles.load("next-due", schema);
        tableHealth = SqlFiles.load("table-health", schema);
        lockJobs = SqlFiles.load("lock-jobs", schema);
        workflows = new Workflows(this, schema);
        copyInsert = new CopyInsert(schema);
        this.copyThreshold = copyThreshold;
        this.claimByteBudget = claimByteBudget;
    }

    /**
     * Records that a claim of {@code queue} returned fewer jobs than asked although due jobs remain
     * (it stopped at the byte budget, or failed jobs for their size): a worker reads a fewer-than-asked
     * claim as a drained queue, so {@link JdbiJobStore#jobNextDue} tells it to claim again at once.
     */
    void markLeftDue(String queue) {
        leftDue.add(queue);
    }

    /** Whether the latest claim of {@code queue} left due jobs behind; clears the mark. */
    boolean takeLeftDue(String queue) {
        return leftDue.remove(queue);
    }

    /**
     * What a claim that locked fewer due jobs than asked learned of the queue's next due job, as
     * next-due.sql would have answered in the claim's snapshot: {@code micros} until it is due, or null
     * if none is waiting; {@code now} the claim's "now" parameter (null: the database's clock), {@code atNanos}
     * when the claim returned, or, for a claim on the database's clock, when the time it ran at was read.
     */
    record ClaimedNextDue(Set<String> types, Instant now, long atNanos, Long micros) {

        /** Whether this claim asked what {@code params} ask: the same queue's next due job for the same types and "now". */
        boolean answers(NextDueParams params) {
            return types.equals(params.types()) && Objects.equals(now, params.now());
        }

        /** The time until the next due job, as of now: the database's clock moved on since the claim (an injected one did not). */
        Optional<Duration> delay() {
            if (micros == null) {
                return Optional.empty();
            }
            long elapsed = now == null ? System.nanoTime() - atNanos : 0;
            return Optional.of(Duration.ofNanos(Math.max(0, TimeUnit.MICROSECONDS.toNanos(micros) - elapsed)));
        }
    }

    /**
     * The next due time that this thread's latest claim of {@code queue} came back with, if it came
     * back short (so that it asked), or null; clears it.
     */
    ClaimedNextDue takeClaimedNextDue(String queue) {
        return claimedNextDue.get().remove(queue);
    }

    /**
     * Makes what this thread's latest claim of {@code queue} said of its next due job answer on the database's
     * clock, if that claim ran at {@code databaseNow}, a time read from the database's clock at
     * {@code readAtNanos} (a limited claim runs at the time its limits' room was counted at). Without it, a
     * worker that asks on the database's clock would send next-due.sql after every short limited claim: a walk
     * from the claim index's front, over every dead entry while something holds back the xmin horizon.
     */
    void claimedOnDatabaseClock(String queue, Instant databaseNow, long readAtNanos) {
        Map<String, ClaimedNextDue> claims = claimedNextDue.get();
        ClaimedNextDue claimed = claims.get(queue);
        if (claimed != null && databaseNow.equals(claimed.now())) {
            claims.put(queue, new ClaimedNextDue(claimed.types(), null, readAtNanos, claimed.micros()));
        }
    }

    /** Forgets what this thread's earlier claims of {@code queue} said of its next due job: a new claim begins. */
    void forgetClaimedNextDue(String queue) {
        claimedNextDue.get().remove(queue);
    }

    /**
     * Runs {@code transaction}, a claim's transaction, and if it fails (it rolled back, or its commit
     * did not answer) hands the jobs its claims took back to their {@link ClaimFloor}s, for the next
     * claim to take by id. A job that is not pending by then (its claim did commit) is skipped there.
     */
    <T> T claimTransaction(JdbiJobStore.SqlWork.Body<T> transaction) throws SQLException {
        List<Runnable> giveBacks = new ArrayList<>();
        List<Runnable> atEnd = new ArrayList<>();
        giveBackOnRollback.set(giveBacks);
        handBackAtEnd.set(atEnd);
        try {
            return transaction.get();
        } catch (SQLException | RuntimeException e) {
            giveBacks.forEach(Runnable::run);
            throw e;
        } finally {
            giveBackOnRollback.remove();
            handBackAtEnd.remove();
            atEnd.forEach(Runnable::run);
        }
    }

    /**
     * Hands {@code left}, due jobs a claim locked and did not take (its byte budget cut the batch), to
     * {@code floor}, for the next claim to take by id: while the claim held them locked, a claim of
     * another thread of this store skipped them and may have moved the floor past them, where claims
     * bounded by it would not see them until a sweep. At the end of the claim transaction if inside one
     * (its locks last until then), now otherwise (a claim in autocommit holds them for its statement
     * only; in a caller's own transaction until that ends, which this cannot wait for: a claim by id
     * that finds them still locked drops them, and the next sweep finds them).
     */
    private void handBackLeft(ClaimFloor floor, List<UUID> left) {
        if (!left.isEmpty()) {
            whenClaimLocksGone(() -> floor.giveBack(left));
        }
    }

    /**
     * Runs {@code handBack} once the locks of the claim just made are gone: at the end of the claim
     * transaction if inside one, now otherwise (see {@link #handBackLeft}).
     */
    void whenClaimLocksGone(Runnable handBack) {
        List<Runnable> atEnd = handBackAtEnd.get();
        if (atEnd != null) {
            atEnd.add(handBack);
        } else {
            handBack.run();
        }
    }

    /** Inside a {@link #claimTransaction}: {@code jobs}, claimed by id or past {@code floor}, go back to it should it roll back. */
    private void giveBackOnRollback(ClaimFloor floor, List<ClaimedJob> jobs) {
        if (!jobs.isEmpty()) {
            List<UUID> ids = jobs.stream().map(ClaimedJob::id).toList();
            onClaimRollback(() -> floor.giveBack(ids));
        }
    }

    /** Inside a {@link #claimTransaction}: runs {@code giveBack} should the transaction fail; outside one, nothing. */
    void onClaimRollback(Runnable giveBack) {
        List<Runnable> giveBacks = giveBackOnRollback.get();
        if (giveBacks != null) {
            giveBacks.add(giveBack);
        }
    }

    /** The bytes of payload one claim takes at most (see {@link #DEFAULT_CLAIM_BYTE_BUDGET}). */
    long claimByteBudget() {
        return claimByteBudget;
    }

    /** The bytes of the claimed jobs' payloads, as the claim's byte budget counts them (UTF-8 JSON text). */
    static long payloadBytes(List<ClaimedJob> jobs) {
        long bytes = 0;
        for (ClaimedJob job : jobs) {
            bytes += PayloadCodec.utf8Length(job.payloadJson());
        }
        return bytes;
    }

    Workflows workflows() {
        return workflows;
    }

    /**
     * Whether inserting these jobs takes more than one statement, hence a transaction of its own: jobs
     * with a dedupe key, dependencies or a partition key, or enough plain jobs to go through COPY.
     */
    boolean insertNeedsTransaction(InsertParams params) {
        List<NewJob> jobs = params.jobs();
        if (jobs.size() >= copyThreshold) {
            return true;
        }
        for (NewJob job : jobs) {
            if (!isPlain(job)) {
                return true;
            }
        }
        return false;
    }

    /** A job without a dedupe key, dependencies or partition key: one row of insert-one.sql or insert-many.sql. */
    private static boolean isPlain(NewJob job) {
        return job.dedupeKey() == null && !Workflows.isExtended(job);
    }

    /**
     * Inserts the jobs without a dedupe key in one statement, or through {@link CopyInsert} when there
     * are {@link #copyThreshold} of them or more, and those with one through {@link #insertUnique};
     * jobs that take part in dependencies or have a partition key go through {@link Workflows#insert}
     * (workflows, limits and fairness, V3). On a connection in autocommit mode the caller must open a
     * transaction when {@link #insertNeedsTransaction} says so.
     */
    List<EnqueueResult> insert(Connection c, InsertParams params) throws SQLException {
        List<NewJob> jobs = params.jobs();
        if (jobs.size() == 1 && isPlain(jobs.get(0))) { // a single enqueue, the commonest call: no sorting out
            insertPlain(c, jobs, params.now());
            return List.of(EnqueueResult.inserted(jobs.get(0).id()));
        }
        EnqueueResult[] results = new EnqueueResult[jobs.size()];
        List<Integer> plain = new ArrayList<>();
        List<Integer> keyed = new ArrayList<>();
        // V3: jobs with dependencies, dependents or a partition key take the workflow path.
        boolean[] workflow = Workflows.extended(jobs);
        List<Integer> extended = new ArrayList<>();
        for (int k = 0; k < jobs.size(); k++) {
            if (workflow != null && workflow[k]) {
                extended.add(k);
            } else {
                (jobs.get(k).dedupeKey() == null ? plain : keyed).add(k);
            }
        }
        if (!extended.isEmpty()) {
            List<EnqueueResult> done = workflows.insert(c, extended.stream().map(jobs::get).toList(), params.now());
            for (int k = 0; k < extended.size(); k++) {
                results[extended.get(k)] = done.get(k);
            }
        }
        if (!plain.isEmpty()) {
            List<NewJob> batch = plain.stream().map(jobs::get).toList();
            insertPlain(c, batch, params.now());
            plain.forEach(k -> results[k] = EnqueueResult.inserted(jobs.get(k).id()));
        }
        if (!keyed.isEmpty()) {
            List<EnqueueResult> unique = insertUnique(c, keyed.stream().map(jobs::get).toList(), params.now());
            for (int k = 0; k < keyed.size(); k++) {
                results[keyed.get(k)] = unique.get(k);
            }
        }
        return List.of(results);
    }

    private void insertPlain(Connection c, List<NewJob> jobs, Instant now) throws SQLException {
        if (jobs.size() >= copyThreshold && copyInsert.insert(c, jobs, now)) {
            return;
        }
        if (jobs.size() == 1) {
            NewJob job = jobs.get(0);
            try (PreparedStatement ps = c.prepareStatement(insertOne.jdbc())) {
                insertOne.bind(ps)
                        .setInstant("now", now)
                        .setObject("id", job.id())
                        .setString("job_type", job.type())
                        .setString("queue", job.queue())
                        .setString("payload", job.payloadJson())
                        .setInt("priority", job.priority())
                        .setInstant("run_at", job.runAt())
                        .setLong("delay_micros", micros(job.delay()))
                        .setInt("max_retries", job.maxRetries())
                        .setObject("user_id", job.userId())
                        .setString("trace_context", TraceContextJson.write(job.traceContext()));
                ps.executeUpdate();
            }
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(insertMany.jdbc())) {
            bindColumns(c, insertMany.bind(ps).setInstant("now", now), jobs);
            ps.executeUpdate();
        }
    }

    /**
     * Inserts jobs with dedupe keys: each one is inserted, or resolved to the job holding its key.
     * A holder whose period has passed is released and the job tried again; so is a job whose
     * holder this statement could not see yet (it committed while the statement waited for it).
     * Every try is a new statement, which sees what committed before it.
     */
    private List<EnqueueResult> insertUnique(Connection c, List<NewJob> jobs, Instant now) throws SQLException {
        return insertResolving(c, jobs, now, insertUnique, (columns, batch) -> {});
    }

    /** Binds a statement's parameters beyond the columns insert-unique.sql takes. */
    @FunctionalInterface
    interface MoreColumns {
        void bind(NamedSql.Binder columns, List<NewJob> batch) throws SQLException;
    }

    /**
     * {@link #insertUnique}'s loop for a statement with insert-unique.sql's parameters and result rows
     * followed by {@code more} parameters (insert-full.sql).
     */
    List<EnqueueResult> insertResolving(Connection c, List<NewJob> jobs, Instant now, NamedSql sql, MoreColumns more)
            throws SQLException {
        EnqueueResult[] results = new EnqueueResult[jobs.size()];
        List<Integer> open = new ArrayList<>();
        for (int k = 0; k < jobs.size(); k++) {
            open.add(k);
        }
        for (int attempt = 1; !open.isEmpty(); attempt++) {
            if (attempt > MAX_UNIQUE_TRIES) {
                NewJob job = jobs.get(open.get(0));
                if (rowSecurityActive(c)) {
                    // Every try conflicted with a holder no statement could see: row-level security
                    // hides it, and no retry will show it.
                    throw new DedupeKeyHeldException(job.type(), job.dedupeKey());
                }
                throw new StoreException("could not enqueue job " + job.type() + " with dedupe key " + job.dedupeKey()
                        + " after " + MAX_UNIQUE_TRIES + " tries: the job holding the key kept changing; try again");
            }
            List<NewJob> batch = open.stream().map(jobs::get).toList();
            List<Integer> again = new ArrayList<>();
            List<UUID> expired = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(sql.jdbc())) {
                NamedSql.Binder columns = bindColumns(c, sql.bind(ps).setInstant("now", now), batch)
                        .setArray("dedupe_key", c.createArrayOf("text", batch.stream().map(NewJob::dedupeKey).toArray(String[]::new)))
                        .setArray("unique_states", c.createArrayOf("text", batch.stream().map(JobStatements::uniqueStates).toArray(String[]::new)))
                        .setArray("unique_for_micros", c.createArrayOf("int8", batch.stream()
                                .map(job -> job.uniqueFor() == null ? null : micros(job.uniqueFor())).toArray(Long[]::new)));
                more.bind(columns, batch);
                try (ResultSet rs = ps.executeQuery()) {
                    for (int k = 0; rs.next(); k++) {
                        int index = open.get(k);
                        UUID held = rs.getObject(2, UUID.class);
                        if (rs.getBoolean(1)) {
                            results[index] = EnqueueResult.inserted(jobs.get(index).id());
                        } else if (held != null && !rs.getBoolean(3)) {
                            results[index] = EnqueueResult.duplicateOf(held);
                        } else {
                            if (held != null) {
                                expired.add(held);
                            }
                            again.add(index);
                        }
                    }
                }
            }
            if (!expired.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement(releaseUnique)) {
                    setInstant(ps, 1, now);
                    ps.setArray(2, c.createArrayOf("uuid", expired.toArray(UUID[]::new)));
                    ps.executeUpdate();
                }
            }
            open = again;
        }
        return List.of(results);
    }

    /** Binds the ten column arrays shared by insert-many.sql, insert-unique.sql and insert-full.sql. */
    static NamedSql.Binder bindColumns(Connection c, NamedSql.Binder columns, List<NewJob> jobs) throws SQLException {
        int n = jobs.size();
        UUID[] ids = new UUID[n];
        String[] types = new String[n];
        String[] queues = new String[n];
        String[] payloads = new String[n];
        Integer[] priorities = new Integer[n];
        String[] runAts = new String[n];
        Long[] delays = new Long[n];
        Integer[] maxRetries = new Integer[n];
        UUID[] userIds = new UUID[n];
        String[] traceContexts = new String[n];
        for (int k = 0; k < n; k++) {
            NewJob job = jobs.get(k);
            ids[k] = job.id();
            types[k] = job.type();
            queues[k] = job.queue();
            payloads[k] = job.payloadJson();
            priorities[k] = job.priority();
            runAts[k] = job.runAt() == null ? null : job.runAt().toString();
            delays[k] = micros(job.delay());
            maxRetries[k] = job.maxRetries();
            userIds[k] = job.userId();
            traceContexts[k] = TraceContextJson.write(job.traceContext());
        }
        return columns
                .setArray("id", c.createArrayOf("uuid", ids))
                .setArray("job_type", c.createArrayOf("text", types))
                .setArray("queue", c.createArrayOf("text", queues))
                .setArray("payload", c.createArrayOf("text", payloads))
                .setArray("priority", c.createArrayOf("int4", priorities))
                .setArray("run_at", c.createArrayOf("text", runAts))
                .setArray("delay_micros", c.createArrayOf("int8", delays))
                .setArray("max_retries", c.createArrayOf("int4", maxRetries))
                .setArray("user_id", c.createArrayOf("uuid", userIds))
                .setArray("trace_context", c.createArrayOf("text", traceContexts));
    }

    /** The statuses in which a job's key blocks duplicates, comma-separated; null for the default. */
    static String uniqueStates(NewJob job) {
        if (job.uniqueStates() == null) {
            return null;
        }
        JobStatus[] states = job.uniqueStates().toArray(JobStatus[]::new);
        Arrays.sort(states);
        return Arrays.stream(states).map(JobStatus::sqlValue).collect(Collectors.joining(","));
    }

    private boolean rowSecurityActive(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(rowSecurityActive); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    Optional<String> latestDedupeKey(Connection c, LatestDedupeKeyParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(latestDedupeKey)) {
            ps.setString(1, params.type());
            ps.setString(2, params.prefix());
            ps.setString(3, params.atMost());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Optional.ofNullable(rs.getString(1));
            }
        }
    }

    /** Writes running jobs' progress; rows busy right now are skipped (see progress.sql). */
    List<UUID> progress(Connection c, ProgressParams params) throws SQLException {
        return progress(c, params, progress);
    }

    private List<UUID> progress(Connection c, ProgressParams params, String sql) throws SQLException {
        List<ProgressUpdate> updates = params.updates();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setArray(++i, c.createArrayOf("uuid", updates.stream().map(ProgressUpdate::id).toArray(UUID[]::new)));
            ps.setArray(++i, c.createArrayOf("uuid", updates.stream().map(ProgressUpdate::leaseToken).toArray(UUID[]::new)));
            ps.setArray(++i, c.createArrayOf("int4", updates.stream().map(u -> u.progress().percent()).toArray(Integer[]::new)));
            ps.setArray(++i, c.createArrayOf("text", updates.stream().map(u -> storable(u.progress().message())).toArray(String[]::new)));
            List<UUID> written = new ArrayList<>(updates.size());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    written.add(rs.getObject(1, UUID.class));
                }
            }
            return written;
        }
    }

    /** Where a claim.sql starts: see {@link #claimStatement}. */
    enum ClaimFrom {
        /** The claim index's front: every due job, in claim order. */
        FRONT,
        /** Past a {@link ClaimFloor}'s key (parameters floor_priority, floor_run_at, floor_id). */
        PAST_FLOOR,
        /** Only the jobs a {@link ClaimFloor}'s sweep found (parameter found_ids), by primary key; no next-due answer. */
        FOUND
    }

    /** claim.sql, claiming from {@code from}. */
    static NamedSql claimStatement(String schema, ClaimFrom from) {
        String floor = """

                            AND (priority, run_at, id) > (CAST(:floor_priority AS integer), CAST(:floor_run_at AS timestamptz),
                                                          CAST(:floor_id AS uuid))""";
        String nextDueFloor = """

                       AND (p.priority, p.run_at, p.id) > (CAST(:floor_priority AS integer), CAST(:floor_run_at AS timestamptz),
                                                           CAST(:floor_id AS uuid))""";
        String pending = "status = 'pending'";
        return switch (from) {
            case FRONT -> SqlFiles.loadNamed("claim", schema, Map.of("pending", pending, "floor", "", "next_due_floor", ""));
            case PAST_FLOOR -> SqlFiles.loadNamed("claim", schema,
                    Map.of("pending", pending, "floor", floor, "next_due_floor", nextDueFloor));
            case FOUND -> SqlFiles.loadNamed("claim", schema, Map.of(
                    "pending", """
                            id = ANY (CAST(:found_ids AS uuid[]))
                                        AND pg_catalog.textcat(status, '') = 'pending'""",
                    "floor", "",
                    "next_due_floor", "\n                       AND false"));
        };
    }

    /** How often a prune walks from the oldest finished job rather than from where the previous one stopped. */
    static final long FULL_PRUNE_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How far before where the previous prune stopped the next one begins: a database clock stepped back a little. */
    static final Duration PRUNE_CLOCK_SLACK = Duration.ofSeconds(1);

    /** Where a prune of some statuses stopped (the latest completed_at it deleted), and when one last walked from the oldest. */
    private record PruneFloor(Instant since, long fullAtNanos) {}

    /** The key of a {@link ClaimFloor} or {@link FairFloor}: one per queue and set of job types claimed together. */
    record FloorKey(String queue, Set<String> types) {}

    /** {@link #claim(Connection, ClaimParams, long)} with this store's byte budget. */
    List<ClaimedJob> claim(Connection c, ClaimParams params) throws SQLException {
        return claim(c, params, claimByteBudget);
    }

    /**
     * Claims as claim.sql does, with at most {@code byteBudget} bytes of payload (but at least one job
     * if one is due; jobs over the payload limit are failed by the statement and not returned): first,
     * by id, what this store's {@link ClaimFloor} for the queue and types found before the floor (if its
     * claims are bounded and a sweep found any), then the rest starting past the floor while dead index
     * entries make claims from the index's front slow, from the front otherwise. Every claim of
     * claim.sql's order goes through here: unlimited, within a limit's room (in the limit's transaction)
     * and filling up a fair claim.
     */
    List<ClaimedJob> claim(Connection c, ClaimParams params, long byteBudget) throws SQLException {
        ClaimFloor floor = claimFloor(params.queue(), params.types());
        List<UUID> found = floor.takeFound(params.limit());
        if (found.isEmpty()) {
            return claimPastFloor(c, params, byteBudget, floor);
        }
        boolean autoCommit = c.getAutoCommit(); // read now: after a failure the connection may not answer
        Claimed first;
        try {
            first = claimFound(c, params, byteBudget, found);
        } catch (SQLException | RuntimeException e) {
            floor.giveBack(found);
            throw e;
        }
        giveBackOnRollback(floor, first.jobs());
        if (first.rows() < first.due()) { // the byte budget left some: the next claim, at once, takes them
            giveBackUnclaimed(floor, found, first.jobs());
            return first.jobs();
        }
        long bytesLeft = byteBudget - payloadBytes(first.jobs());
        if (first.rows() >= params.limit() || bytesLeft <= 0) {
            if (first.rows() < params.limit()) {
                markLeftDue(params.queue()); // the found jobs took the byte budget: claim again without waiting
            }
            return first.jobs();
        }
        List<ClaimedJob> rest;
        try {
            rest = claimPastFloor(c, fewer(params, first.rows()), bytesLeft, floor);
        } catch (SQLException | RuntimeException e) {
            if (!autoCommit) {
                // The found jobs' claim rolls back with the transaction. Inside a claim transaction, that
                // hands back the ones it claimed; the rest (locked elsewhere, say) go back now.
                if (giveBackOnRollback.get() == null) {
                    floor.giveBack(found);
                } else {
                    giveBackUnclaimed(floor, found, first.jobs());
                }
                throw e;
            }
            if (first.jobs().isEmpty()) {
                throw e;
            }
            log.warn("claimed {} job(s) of queue {} that sorted before its claim floor, then the claim past the floor failed; "
                    + "running those", first.jobs().size(), params.queue(), e);
            return first.jobs(); // committed already: returned, not left processing until their leases expire
        }
        if (first.jobs().isEmpty()) {
            return rest;
        }
        List<ClaimedJob> both = new ArrayList<>(first.jobs());
        both.addAll(rest);
        return both;
    }

    /** Hands back to {@code floor} the jobs of {@code found} that {@code claimed} does not hold. */
    private static void giveBackUnclaimed(ClaimFloor floor, List<UUID> found, List<ClaimedJob> claimed) {
        Set<UUID> taken = claimed.stream().map(ClaimedJob::id).collect(Collectors.toSet());
        floor.giveBack(found.stream().filter(id -> !taken.contains(id)).toList());
    }

    /** {@code params} for {@code taken} fewer jobs. */
    private static ClaimParams fewer(ClaimParams params, int taken) {
        return new ClaimParams(params.queue(), params.types(), params.limit() - taken, params.workerId(),
                params.leaseToken(), params.leaseDuration(), params.now());
    }

    /** The jobs of {@code found} still due and pending, by id, in claim order; the floor stays where it is. */
    private Claimed claimFound(Connection c, ClaimParams params, long byteBudget, List<UUID> found) throws SQLException {
        return claim(c, claimFound, params, byteBudget, binder -> binder
                .setArray("found_ids", c.createArrayOf("uuid", found.toArray(UUID[]::new))));
    }

    /** Claims past {@code floor} while it says so, from the front otherwise; starts a sweep when one is due. */
    private List<ClaimedJob> claimPastFloor(Connection c, ClaimParams params, long byteBudget, ClaimFloor floor)
            throws SQLException {
        long start = System.nanoTime();
        ClaimFloor.Key bound = floor.bound();
        boolean wasBounded = floor.isBounded();
        boolean probe = bound != null && !wasBounded;
        boolean autoCommit = probe && c.getAutoCommit(); // read now: after a failure the connection may not answer
        Claimed claimed = claim(c, params, byteBudget, bound);
        floor.claimed(bound, start, System.nanoTime() - start, claimed.rows(), claimed.highest());
        handBackLeft(floor, claimed.left());
        giveBackOnRollback(floor, claimed.jobs()); // now: a probe's claim from the front below may still fail
        // A probe (one bounded claim to time against the slow full claim before it) must not change what a
        // claim returns: with room left, what sorts before the floor is taken now, from the front. Payload
        // bytes are counted for a short probe only, off the path of every other claim.
        boolean shortProbe = probe && claimed.rows() < params.limit();
        long bytesLeft = shortProbe ? byteBudget - payloadBytes(claimed.jobs()) : 0;
        if (bytesLeft > 0) {
            long fullStart = System.nanoTime();
            Claimed rest;
            try {
                rest = claim(c, fewer(params, claimed.rows()), bytesLeft, null);
            } catch (SQLException | RuntimeException e) {
                if (claimed.jobs().isEmpty() || !autoCommit) {
                    throw e;
                }
                log.warn("claimed {} job(s) of queue {} past its claim floor, then the claim from the front failed; running those",
                        claimed.jobs().size(), params.queue(), e);
                return claimed.jobs(); // committed already: returned, not left processing until their leases expire
            }
            floor.claimed(null, fullStart, System.nanoTime() - fullStart, rest.rows(), rest.highest());
            handBackLeft(floor, rest.left());
            giveBackOnRollback(floor, rest.jobs());
            if (!rest.jobs().isEmpty()) {
                List<ClaimedJob> both = new ArrayList<>(claimed.jobs());
                both.addAll(rest.jobs());
                claimed = new Claimed(both, claimed.rows() + rest.rows(), claimed.due() + rest.due(), claimed.highest(),
                        List.of()); // both claims' left jobs are handed back above
            }
        }
        long now = System.nanoTime();
        if (!wasBounded && floor.isBounded()) { // a claim (a probe) only switches it on; sweeps switch it off
            floorLog.report(params.queue(), floor, false, true, now);
        }
        if (floor.unboundIfSweepsStalled(now)) {
            floorLog.forget(floor);
            log.warn("no sweep of queue {} for jobs that sort before its claim floor succeeded for {} s (see the warnings "
                    + "before this); its claims start at the front of the claim index again, slow as that is while "
                    + "dead entries last", params.queue(), TimeUnit.NANOSECONDS.toSeconds(ClaimFloor.SWEEPS_STALLED_NANOS));
        } else if (floor.startSweep(now)) {
            sweep(c, params, floor);
        }
        return claimed.jobs();
    }

    /**
     * Starts {@code floor}'s sweep: what sorts before it, found on a connection of the sweep's own (or,
     * for tests, on {@code claiming}, now), for the next claim to take first.
     */
    private void sweep(Connection claiming, ClaimParams params, ClaimFloor floor) throws SQLException {
        ClaimFloor.Key bound = floor.bound();
        if (bound == null) {
            floor.sweepFailed(); // the floor stopped bounding claims since: nothing to sweep
            return;
        }
        String[] types = params.types().toArray(String[]::new);
        sweep(claiming, params.queue(), floor::sweepFailed, c -> {
            long start = System.nanoTime();
            List<UUID> found = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(claimSweep.jdbc())) {
                ps.setQueryTimeout(SWEEP_TIMEOUT_SECONDS);
                claimSweep.bind(ps)
                        .setInstant("now", params.now())
                        .setString("queue", params.queue())
                        .setArray("types", c.createArrayOf("text", types))
                        .setInt("limit", ClaimFloor.SWEEP_JOBS)
                        .setInt("floor_priority", bound.priority())
                        .setInstant("floor_run_at", bound.runAt())
                        .setObject("floor_id", bound.id());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(rs.getObject(1, UUID.class));
                    }
                }
            }
            boolean wasBounded = floor.isBounded();
            long end = System.nanoTime();
            floor.swept(end, end - start, found);
            floorLog.report(params.queue(), floor, wasBounded, floor.isBounded(), end);
            return !found.isEmpty();
        });
    }

    /**
     * Runs {@code sweep}, a read of an index's front for a floor of {@code queue} (true: it found jobs, and
     * the store's subscribers for the queue are woken), on a connection of the sweeps' own (or, for tests,
     * on {@code claiming}, now); if it fails or cannot run, {@code failed} is run. Its statements should
     * time out after {@link #SWEEP_TIMEOUT_SECONDS}; a read that never returns (a dead peer) is cut off too.
     */
    void sweep(Connection claiming, String queue, Runnable failed, JdbiJobStore.SqlWork<Boolean> sweep) throws SQLException {
        sweeps.run(claiming, queue, failed, c -> {
            int networkTimeout = c.getNetworkTimeout();
            c.setNetworkTimeout(Runnable::run, (int) TimeUnit.SECONDS.toMillis(SWEEP_TIMEOUT_SECONDS + 30));
            try {
                return sweep.apply(c);
            } finally {
                c.setNetworkTimeout(Runnable::run, networkTimeout);
            }
        });
    }

    /** This store's floor for claims of {@code queue} for {@code types}. */
    ClaimFloor claimFloor(String queue, Set<String> types) {
        return claimFloors.computeIfAbsent(new FloorKey(queue, types), k -> new ClaimFloor());
    }

    /** Whether this store's claims of {@code queue} for {@code types} now start past their floor (tests). */
    boolean claimsPastFloor(String queue, Set<String> types) {
        ClaimFloor floor = claimFloors.get(new FloorKey(queue, types));
        return floor != null && floor.isBounded();
    }

    /**
     * What one claim statement did: the jobs to run, how many rows it took (with those it failed for
     * their size), how many due jobs it locked (more than rows: the byte budget left some), and the last
     * job to run in claim order (null if none), where claims past the floor may start; and the due jobs
     * it locked and did not take, in claim order (see {@link #handBackLeft}).
     */
    record Claimed(List<ClaimedJob> jobs, int rows, int due, ClaimFloor.Key highest, List<UUID> left) {}

    /** Claims as claim.sql does, past {@code floor} in claim order if it is not null. */
    Claimed claim(Connection c, ClaimParams params, long byteBudget, ClaimFloor.Key floor) throws SQLException {
        if (floor == null) {
            return claim(c, claim, params, byteBudget, binder -> {});
        }
        return claim(c, claimPastFloor, params, byteBudget, binder -> binder
                .setInt("floor_priority", floor.priority())
                .setInstant("floor_run_at", floor.runAt())
                .setObject("floor_id", floor.id()));
    }

    /** Sets a claim.sql variant's own parameters. */
    @FunctionalInterface
    private interface ClaimBinding {
        void bind(NamedSql.Binder binder) throws SQLException;
    }

    private Claimed claim(Connection c, NamedSql sql, ClaimParams params, long byteBudget, ClaimBinding binding)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql.jdbc())) {
            NamedSql.Binder binder = sql.bind(ps)
                    .setInstant("now", params.now())
                    .setString("queue", params.queue())
                    .setArray("types", c.createArrayOf("text", params.types().toArray(String[]::new)))
                    .setInt("limit", params.limit())
                    .setLong("byte_budget", byteBudget)
                    .setString("lease_owner", params.workerId())
                    .setObject("lease_token", params.leaseToken())
                    .setLong("lease_micros", micros(params.leaseDuration()));
            binding.bind(binder);
            List<ClaimedJob> claimed = new ArrayList<>(params.limit());
            int rows = 0;
            long due = 0;
            Long nextDueMicros = null;
            ClaimFloor.Key highest = null;
            List<UUID> left = null;
            try (ResultSet rs = ps.executeQuery()) {
                ClaimedRows decoder = new ClaimedRows(16);
                while (rs.next()) {
                    due = rs.getLong(15);
                    long micros = rs.getLong(18);
                    nextDueMicros = rs.wasNull() ? null : micros;
                    if (left == null) { // the same in every row
                        java.sql.Array leftIds = rs.getArray(19);
                        left = leftIds == null ? List.of() : List.of((UUID[]) leftIds.getArray());
                    }
                    String status = rs.getString(14);
                    if (status == null) {
                        continue; // the one row of a claim that took no job
                    }
                    rows++;
                    if (!claimedToRun(status)) {
                        // Failed for its size; not a floor: it is taken wherever it sorts, so the byte budget may
                        // have left due jobs before it, and claims past it would skip them until a sweep.
                        continue;
                    }
                    ClaimedJob job = decoder.read(rs);
                    claimed.add(job);
                    ClaimFloor.Key key = new ClaimFloor.Key(job.priority(), job.runAt(), job.id());
                    if (highest == null || key.compareTo(highest) > 0) {
                        highest = key;
                    }
                }
            }
            if (claimed.size() < params.limit() && (rows < due || due == params.limit())) {
                markLeftDue(params.queue());
            }
            if (due < params.limit()) {
                claimedNextDue.get().put(params.queue(),
                        new ClaimedNextDue(params.types(), params.now(), System.nanoTime(), nextDueMicros));
            } else {
                claimedNextDue.get().remove(params.queue()); // it did not ask: the queue may have more due jobs
            }
            return new Claimed(claimed, rows, (int) due, highest, left == null ? List.of() : left);
        }
    }

    Optional<ClaimedJob> claimById(Connection c, ClaimByIdParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(claimById)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setString(++i, params.workerId());
            ps.setObject(++i, params.leaseToken());
            ps.setLong(++i, micros(params.leaseDuration()));
            ps.setObject(++i, params.id());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new ClaimedRows(14).read(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Whether a row of claim.sql or claim-fair.sql, with this status, is a job to run, rather than one
     * the claim failed because its payload is over the limit.
     */
    static boolean claimedToRun(String status) {
        return JobStatus.PROCESSING.sqlValue().equals(status);
    }

    /**
     * Decodes the rows of one claim statement: claim.sql's (also the first columns of claim-fair.sql's
     * and claim-by-id.sql's rows), whose processed_at and trace_context are in columns
     * {@code claimedAtColumn} and the one after it. The queue, lease token, lease expiry and claim time
     * are the same in every row of one statement (one queue, one lease token, one {@code clock.now}),
     * so they are decoded from its first row only: in a fresh JVM, decoding two timestamps and a uuid
     * per claimed row cost more CPU (their decoding code interpreted, then compiled) than the rest of
     * the row.
     */
    static final class ClaimedRows {
        private final int claimedAtColumn;
        private String queue;
        private UUID leaseToken;
        private Instant leaseExpiresAt;
        private Instant claimedAt;

        ClaimedRows(int claimedAtColumn) {
            this.claimedAtColumn = claimedAtColumn;
        }

        /** The job at the result set's current row. */
        ClaimedJob read(ResultSet rs) throws SQLException {
            if (queue == null) {
                queue = rs.getString(3);
                leaseToken = uuid(rs, 12);
                leaseExpiresAt = instant(rs, 13);
                claimedAt = instant(rs, claimedAtColumn);
            }
            return new ClaimedJob(
                    uuid(rs, 1),
                    rs.getString(2),
                    queue,
                    rs.getString(4),
                    rs.getInt(5),
                    rs.getInt(6),
                    rs.getInt(7),
                    rs.getInt(8),
                    instant(rs, 9),
                    instant(rs, 10),
                    uuid(rs, 11),
                    leaseToken,
                    leaseExpiresAt,
                    claimedAt,
                    TraceContextJson.read(rs.getString(claimedAtColumn + 1)));
        }
    }

    /** Runs one statement per kind of outcome present, each fenced by lease token. */
    private void lockInIdOrder(Connection c, UUID[] ids) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(lockJobs)) {
            ps.setArray(1, c.createArrayOf("uuid", ids));
            ps.executeQuery().close();
        }
    }

    /** How many statements recording these outcomes takes: one per kind, and one for unwritten progress. */
    static int finishStatements(FinishParams params) {
        long kinds = params.finishes().stream().map(Finish::kind).distinct().count();
        boolean progress = params.finishes().stream().anyMatch(f -> f.progress() != null);
        return (int) kinds + (progress ? 1 : 0);
    }

    /**
     * Sent before a single-job outcome in the same transaction: the planner may then not choose a
     * sequential scan, so that the generic plan PostgreSQL caches for the prepared statement (after
     * five runs) uses job_queue_pkey even if it is made while the table is nearly empty (a service
     * that just deployed); without it that plan stays a seq scan until the next ANALYZE. Local to the
     * transaction (is_local = true), so it is used only in a transaction that ends right after:
     * an autocommit statement's, or the transactional handler's.
     *
     * <p>It returns a boolean, and the statements sent with it return their status as
     * {@code varchar(32)}, because pgjdbc sends the statements of one call before a single Sync only
     * while it can bound the size of their replies; once it has described a statement (from its fifth
     * run on a connection) a {@code text} column is unbounded to it, and it waited for set_config's
     * reply before sending the outcome: one more round trip per single-job outcome, a transactional
     * handler's included (FinishOneTest).
     */
    static final String NO_SEQ_SCAN = "SELECT pg_catalog.set_config('enable_seqscan', 'off', true) = 'off'";

    /** The statement that records one job's outcome of this kind (complete-one.sql etc.). */
    String finishOneSql(FinishKind kind) {
        return finishOne.get(kind);
    }

    List<FinishedJob> finish(Connection c, FinishParams params) throws SQLException {
        return finish(c, params, c.getAutoCommit());
    }

    /**
     * Records the outcomes; {@code transactionEndsAfter}: the transaction on {@code c} ends right after
     * this call (autocommit, or the transactional handler's), so transaction-local settings may be changed.
     */
    List<FinishedJob> finish(Connection c, FinishParams params, boolean transactionEndsAfter) throws SQLException {
        if (params.finishes().size() == 1 && params.finishes().get(0).progress() == null) {
            return finishOne(c, params.finishes().get(0), params.now(), transactionEndsAfter);
        }
        Map<FinishKind, List<Finish>> byKind = new EnumMap<>(FinishKind.class);
        for (Finish f : params.finishes()) {
            byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(f);
        }
        // Every batch statement locks its rows in id order, so that two of them never deadlock; a
        // batch of several statements (one transaction) first locks all its rows in id order, so that
        // it cannot deadlock with anyone else who does (a dependent's enqueue locks its dependencies so).
        byKind.values().forEach(list -> list.sort(Comparator.comparing(Finish::id)));
        if (finishStatements(params) > 1) {
            lockInIdOrder(c, params.finishes().stream().map(Finish::id).sorted().toArray(UUID[]::new));
        }
        List<ProgressUpdate> progressed = params.finishes().stream()
                .filter(f -> f.progress() != null)
                .sorted(Comparator.comparing(Finish::id))
                .map(f -> new ProgressUpdate(f.id(), f.leaseToken(), f.progress()))
                .toList();
        if (!progressed.isEmpty()) {
            // First, under the same fence: the outcome then moves the job out of processing.
            progress(c, new ProgressParams(progressed, params.now()), progressWithOutcome);
        }
        List<FinishedJob> finished = new ArrayList<>(params.finishes().size());
        for (Map.Entry<FinishKind, List<Finish>> entry : byKind.entrySet()) {
            FinishKind kind = entry.getKey();
            List<Finish> finishes = entry.getValue();
            try (PreparedStatement ps = c.prepareStatement(finish.get(kind))) {
                int i = 0;
                setInstant(ps, ++i, params.now());
                String[] idsAndTokens = uuidArrays(finishes);
                ps.setString(++i, idsAndTokens[0]);
                ps.setString(++i, idsAndTokens[1]);
                if (kind == FinishKind.RETRY || kind == FinishKind.FAIL || kind == FinishKind.CANCEL) {
                    ps.setArray(++i, c.createArrayOf("text", finishes.stream().map(f -> storable(f.message())).toArray(String[]::new)));
                }
                if (kind == FinishKind.RETRY || kind == FinishKind.SNOOZE) {
                    ps.setArray(++i, c.createArrayOf("int8", finishes.stream().map(f -> micros(f.delay())).toArray(Long[]::new)));
                }
                if (kind == FinishKind.COMPLETE) {
                    ps.setArray(++i, c.createArrayOf("text", finishes.stream().map(Finish::resultJson).toArray(String[]::new)));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        finished.add(new FinishedJob(uuid(rs, 1), JobStatus.fromSql(rs.getString(2)), rs.getInt(3)));
                    }
                }
            }
        }
        return finished;
    }

    /**
     * The outcomes' ids and lease tokens as the text of two uuid arrays ({@code {id,id,...}}), which the
     * statements cast to {@code uuid[]}. A uuid's text needs no quoting, so this is one append per
     * uuid, where pgjdbc's {@code createArrayOf} quotes and escapes each element character by
     * character: in a fresh JVM that loop ran interpreted for most of a drain (a few calls of hundreds
     * of elements each) and cost the completer more CPU than the rest of its work.
     */
    static String[] uuidArrays(List<Finish> finishes) {
        StringBuilder ids = new StringBuilder(finishes.size() * 37 + 2).append('{');
        StringBuilder tokens = new StringBuilder(finishes.size() * 37 + 2).append('{');
        for (int k = 0; k < finishes.size(); k++) {
            Finish f = finishes.get(k);
            if (k > 0) {
                ids.append(',');
                tokens.append(',');
            }
            ids.append(f.id());
            tokens.append(f.leaseToken());
        }
        return new String[] {ids.append('}').toString(), tokens.append('}').toString()};
    }

    /**
     * One job's outcome with scalar parameters (no arrays to encode), in the order of the batch
     * statements: now, id, lease token, then message, delay and result as the kind takes them. Without
     * progress to write ({@link Finish#progress()} null); see {@link #finish} for one with.
     */
    private List<FinishedJob> finishOne(Connection c, Finish f, Instant now, boolean transactionEndsAfter)
            throws SQLException {
        FinishKind kind = f.kind();
        try (PreparedStatement ps = c.prepareStatement((transactionEndsAfter ? finishOneNoSeqScan : finishOne).get(kind))) {
            int i = 0;
            setInstant(ps, ++i, now);
            ps.setObject(++i, f.id());
            ps.setObject(++i, f.leaseToken());
            if (kind == FinishKind.RETRY || kind == FinishKind.FAIL || kind == FinishKind.CANCEL) {
                ps.setString(++i, storable(f.message()));
            }
            if (kind == FinishKind.RETRY || kind == FinishKind.SNOOZE) {
                ps.setLong(++i, micros(f.delay()));
            }
            if (kind == FinishKind.COMPLETE) {
                ps.setString(++i, f.resultJson());
            }
            boolean rows = ps.execute();
            if (transactionEndsAfter) {
                rows = ps.getMoreResults(); // past set_config's row
            }
            if (!rows) {
                throw new SQLException("expected the rows of the outcome of job " + f.id());
            }
            try (ResultSet rs = ps.getResultSet()) {
                return rs.next()
                        ? List.of(new FinishedJob(uuid(rs, 1), JobStatus.fromSql(rs.getString(2)), rs.getInt(3)))
                        : List.of();
            }
        }
    }

    /**
     * How many times {@link #warmUp} decodes a claimed row: pgjdbc prepares a statement on the server
     * at its fifth run on a connection, and from the next one binds it without parsing and reads its
     * timestamps in binary, code that a fresh JVM otherwise loads while its first jobs wait.
     */
    static final int WARM_UP_RUNS = 6;

    /**
     * A row shaped as claim.sql returns it (a job to run), made of constants: what {@link #warmUp}
     * decodes as a claimed row is decoded.
     */
    private static final String WARM_UP_CLAIMED_ROW = """
            SELECT CAST(? AS uuid), 'warm-up', 'warm-up', '{}', 1, 0, 0, 0, pg_catalog.statement_timestamp(),
                   pg_catalog.statement_timestamp(), CAST(NULL AS uuid), CAST(? AS uuid), pg_catalog.statement_timestamp(),
                   'processing', CAST(1 AS bigint), pg_catalog.statement_timestamp(), CAST(NULL AS text)""";

    /**
     * Loads, before a worker's first claim, what its first jobs would otherwise wait for: completes one
     * and then two jobs that do not exist (random ids: no row matches, nothing changes), runs the claim
     * and next-due statements for the queue "" and no job types (no queue has that name: they match no
     * row, so they claim and lock nothing), then decodes a claimed row made of constants
     * {@link #WARM_UP_RUNS} times. On a connection in autocommit mode.
     */
    void warmUp(Connection c) throws SQLException {
        Instant now = null;
        List<Finish> none = List.of(
                new Finish(UUID.randomUUID(), UUID.randomUUID(), FinishKind.COMPLETE, null, null, null, null),
                new Finish(UUID.randomUUID(), UUID.randomUUID(), FinishKind.COMPLETE, null, null, null, null));
        finish(c, new FinishParams(none.subList(0, 1), now));
        finish(c, new FinishParams(none, now));
        claim(c, new ClaimParams("", Set.of(), 1, "warm-up", UUID.randomUUID(), Duration.ofMinutes(1), now));
        nextDue(c, new NextDueParams("", Set.of(), now));
        for (int i = 0; i < WARM_UP_RUNS; i++) {
            try (PreparedStatement ps = c.prepareStatement(WARM_UP_CLAIMED_ROW)) {
                ps.setObject(1, UUID.randomUUID());
                ps.setObject(2, UUID.randomUUID());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (claimedToRun(rs.getString(14))) {
                        new ClaimedRows(16).read(rs);
                    }
                }
            }
        }
    }

    List<LeaseStatus> extendLeases(Connection c, ExtendLeaseParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(extendLease)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setArray(++i, c.createArrayOf("uuid", params.leases().stream().map(LeaseRef::id).toArray(UUID[]::new)));
            ps.setArray(++i, c.createArrayOf("uuid", params.leases().stream().map(LeaseRef::leaseToken).toArray(UUID[]::new)));
            ps.setLong(++i, micros(params.leaseDuration()));
            List<LeaseStatus> statuses = new ArrayList<>(params.leases().size());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    statuses.add(new LeaseStatus(
                            rs.getObject(1, UUID.class), "held".equals(rs.getString(2)), instant(rs, 3), rs.getBoolean(4)));
                }
            }
            return statuses;
        }
    }

    List<RescuedJob> rescue(Connection c, RescueParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(rescue)) {
            setInstant(ps, 1, params.now());
            ps.setInt(2, params.limit());
            List<RescuedJob> rescued = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rescued.add(new RescuedJob(
                            rs.getObject(1, UUID.class),
                            rs.getString(2),
                            rs.getString(3),
                            JobStatus.fromSql(rs.getString(4)),
                            rs.getString(5),
                            rs.getInt(6)));
                }
            }
            return rescued;
        }
    }

    CancelResult cancel(Connection c, CancelParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(cancel)) {
            setInstant(ps, 1, params.now());
            ps.setObject(2, params.id());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CancelResult.NOT_CANCELLABLE;
                }
                return JobStatus.fromSql(rs.getString(1)) == JobStatus.CANCELLED
                        ? CancelResult.CANCELLED
                        : CancelResult.REQUESTED;
            }
        }
    }

    /**
     * Deletes up to {@code params.limit()} finished jobs, oldest first (prune.sql). On the database's
     * clock, the walk of job_queue_finished_idx begins where this store's previous prune of the same
     * statuses stopped (less {@link #PRUNE_CLOCK_SLACK}), not over the entries of every row pruned since
     * vacuum last ran, which a held xmin horizon keeps there: at 14,000 jobs/s with a snapshot held two
     * minutes, prunes took 28 ms each on average, 131 s of server time in a 335 s run. Once every
     * {@link #FULL_PRUNE_NANOS} (and on a given clock: tests) it walks from the oldest, for what that
     * skips: a job whose completion committed more than its retention after its completed_at, or one
     * another session held locked when a prune passed it.
     */
    int prune(Connection c, PruneParams params) throws SQLException {
        long nowNanos = System.nanoTime();
        PruneFloor floor = params.now() == null ? pruneFloors.get(params.statuses()) : null;
        boolean full = floor == null || nowNanos - floor.fullAtNanos() >= FULL_PRUNE_NANOS;
        try (PreparedStatement ps = c.prepareStatement(prune)) {
            setInstant(ps, 1, params.now());
            ps.setArray(2, c.createArrayOf("text", params.statuses().stream().map(JobStatus::sqlValue).toArray(String[]::new)));
            setInstant(ps, 3, full ? null : floor.since().minus(PRUNE_CLOCK_SLACK));
            ps.setLong(4, micros(params.olderThan()));
            ps.setInt(5, params.limit());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                int deleted = rs.getInt(1);
                Instant latest = instant(rs, 2);
                if (params.now() == null) {
                    pruneFloors.compute(params.statuses(), (statuses, previous) -> {
                        Instant since = previous == null ? null : previous.since();
                        if (latest != null && (since == null || latest.isAfter(since))) {
                            since = latest;
                        }
                        return since == null ? null : new PruneFloor(since, full ? nowNanos : previous.fullAtNanos());
                    });
                }
                return deleted;
            }
        }
    }

    Optional<JobSnapshot> get(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(get)) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(snapshot(rs));
            }
        }
    }

    List<JobSnapshot> list(Connection c, ListParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(list.jdbc())) {
            list.bind(ps)
                    .setArray("types", c.createArrayOf("text", params.types().toArray(String[]::new)))
                    .setArray("statuses", c.createArrayOf("text",
                            params.statuses().stream().map(JobStatus::sqlValue).toArray(String[]::new)))
                    .setBoolean("due_only", params.dueOnly())
                    .setInstant("now", params.now())
                    .setInt("limit", params.limit());
            List<JobSnapshot> jobs = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    jobs.add(snapshot(rs));
                }
            }
            return jobs;
        }
    }

    /** A job's row as get.sql (and dependencies.sql) return it, at the result set's current row. */
    static JobSnapshot snapshot(ResultSet rs) throws SQLException {
        int k = 0;
        return new JobSnapshot(
                rs.getObject(++k, UUID.class),
                rs.getString(++k),
                rs.getString(++k),
                JobStatus.fromSql(rs.getString(++k)),
                rs.getString(++k),
                rs.getInt(++k),
                rs.getInt(++k),
                rs.getInt(++k),
                rs.getInt(++k),
                instant(rs, ++k),
                instant(rs, ++k),
                instant(rs, ++k),
                instant(rs, ++k),
                rs.getString(++k),
                rs.getObject(++k, UUID.class),
                rs.getString(++k),
                rs.getString(++k),
                progress(rs, ++k));
    }

    /** The progress columns from {@code index} on (percent, message, reported at), or null if never reported. */
    private static JobSnapshot.Progress progress(ResultSet rs, int index) throws SQLException {
        int percent = rs.getInt(index);
        if (rs.wasNull()) {
            return null;
        }
        return new JobSnapshot.Progress(percent, rs.getString(index + 1), instant(rs, index + 2));
    }

    Optional<Duration> nextDue(Connection c, NextDueParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(nextDue)) {
            setInstant(ps, 1, params.now());
            ps.setString(2, params.queue());
            ps.setArray(3, c.createArrayOf("text", params.types().toArray(String[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long micros = rs.getLong(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofNanos(Math.max(0, micros) * 1000));
            }
        }
    }

    Optional<TableHealth> tableHealth(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(tableHealth); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return Optional.empty();
            }
            String holder = null;
            Duration age = null;
            int pid = rs.getInt(6);
            if (!rs.wasNull()) {
                holder = "pid " + pid + ", user " + rs.getString(7) + ", application '" + rs.getString(8)
                        + "', " + rs.getString(9);
                age = Duration.ofMillis(rs.getLong(10));
            }
            return Optional.of(new TableHealth(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), instant(rs, 5),
                    holder, age));
        }
    }

    /**
     * Saturates instead of overflowing (Duration.toNanos fails past 292 years), so that a duration
     * too long for PostgreSQL is rejected there, as a StoreException, rather than as an ArithmeticException.
     */
    static long micros(Duration duration) {
        return duration == null ? 0 : TimeUnit.MICROSECONDS.convert(duration);
    }

    /**
     * PostgreSQL's text cannot hold U+0000, and one such character (in an exception message, say)
     * would fail the whole statement; each is stored as the six characters of its JSON escape instead.
     */
    static String storable(String message) {
        return message == null || message.indexOf('\u0000') < 0 ? message : message.replace("\u0000", "\\u0000");
    }
}
