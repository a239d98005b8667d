package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static dev.pgqueue.jdbi.JdbcTime.setInstant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.admin.AttemptRecord;
import dev.pgqueue.admin.FailureGroup;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.JobDetail;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import dev.pgqueue.admin.QueueStats;
import dev.pgqueue.admin.RecurringInfo;
import dev.pgqueue.admin.TableStats;
import dev.pgqueue.admin.WorkerInfo;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.PayloadCodec;
import dev.pgqueue.spi.JobStore.TableHealth;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;

/**
 * The PostgreSQL {@link JobAdmin}: day-two operations on the {@code job_queue} of a
 * {@link JdbiJobStore}'s schema, through the store's {@link Jdbi} and payload mapper. Needs no
 * worker; any JVM that reaches the database can use it.
 *
 * <pre>{@code
 * JobAdmin admin = JdbiJobAdmin.create(store);
 * long retried = admin.retry(JobFilter.builder().statuses(JobStatus.FAILED).types("send-mail").build());
 * JobAdmin checked = JdbiJobAdmin.builder(store).jobTypes(SEND_MAIL).build(); // validates edited payloads
 * }</pre>
 *
 * <p>Thread-safe. Every bulk operation ({@link #retry}, {@link #cancel}, {@link #delete},
 * {@link #runNow}, {@link #changePriority}) walks the matching jobs in id order in batches of
 * {@link Builder#batchSize(int)} (default {@value #DEFAULT_BATCH_SIZE}), each batch one short
 * transaction that locks its rows with {@code FOR UPDATE SKIP LOCKED}: it never waits for a worker's
 * lock and never holds one long. A job that another transaction holds locked when its batch passes
 * (a worker claiming or finishing it at that moment) is skipped. Each operation is also a SQL function
 * or view of migration V6 ({@code job_queue_retry}, {@code job_queue_cancel_jobs},
 * {@code job_queue_delete_jobs}, {@code job_queue_stats}, {@code job_queue_failure_groups}); see
 * docs/admin.md.
 *
 * <p>Counting rule of {@link #retry}: a retried job's {@code retry_count} starts again at 0 (it gets
 * its {@code max_retries} again), its {@code attempt} keeps counting runs, its {@code error_message} is
 * cleared and its history keeps every failure.
 *
 * <p>{@link #pause} and {@link #resume} write V7's {@code job_queue_queue} through
 * {@code job_queue_pause}/{@code job_queue_resume}; {@link #workers} and {@link #recurring} read V7's
 * worker registry (see docs/operations.md).
 */
public final class JdbiJobAdmin implements JobAdmin {

    /** Jobs per batch of a bulk operation unless {@link Builder#batchSize(int)} says otherwise: {@value}. */
    public static final int DEFAULT_BATCH_SIZE = 1_000;
    /** Largest batch: {@value}. */
    public static final int MAX_BATCH_SIZE = 10_000;
    /**
     * Rows {@link #queueStats} reads at most to count the finished jobs exactly, unless
     * {@link Builder#exactCountLimit(long)} says otherwise: {@value}.
     */
    public static final long DEFAULT_EXACT_COUNT_LIMIT = 100_000;
    /** Most groups {@link #failureGroups} returns at once: {@value}. */
    public static final int MAX_GROUPS = 1_000;

    private static final UUID NO_ID = new UUID(0, 0);
    private static final String CURSOR_RULE = "a cursor that find returned (JobPage.nextCursor) for a page of the same order";

    private final Jdbi jdbi;
    private final String schema;
    private final ObjectMapper mapper;
    private final Map<String, JobType<?>> jobTypes;
    private final int batchSize;
    private final long exactCountLimit;
    private final JdbiJobStore store;
    private final Sql sql;
    private final QueueControl queues;
    private final WorkerRegistry registry;

    private JdbiJobAdmin(Builder b) {
        this.store = b.store;
        this.jdbi = b.store.jdbi();
        this.schema = b.store.schema();
        this.mapper = b.store.objectMapper();
        this.jobTypes = Map.copyOf(b.jobTypes);
        this.batchSize = b.batchSize;
        this.exactCountLimit = b.exactCountLimit;
        this.sql = new Sql(schema);
        this.queues = new QueueControl(b.store);
        this.registry = new WorkerRegistry(b.store);
    }

    /**
     * An admin over {@code store}'s schema, with every option at its default.
     *
     * @param store the store whose jobs to operate on
     * @return the admin
     */
    public static JdbiJobAdmin create(JdbiJobStore store) {
        return builder(store).build();
    }

    /**
     * Options for an admin over {@code store}'s schema; see {@link Builder}.
     *
     * @param store the store whose jobs to operate on
     * @return a builder with every option at its default
     */
    public static Builder builder(JdbiJobStore store) {
        return new Builder(store);
    }

    /** The statements, loaded once per admin. */
    private record Sql(String find, String count, String countUpTo, String job, String retry, String cancel,
            String delete, String runNow, String priority, String failureGroups, String statsLive, String statsRecent,
            String statsFinished, String statsFailed, String statsQueues, String statsEstimate, String lockJob,
            String editPayload, String retryOne) {
        Sql(String schema) {
            this(SqlFiles.load("admin-find", schema), SqlFiles.load("admin-count", schema),
                    SqlFiles.load("admin-count-up-to", schema),
                    SqlFiles.load("admin-job", schema), SqlFiles.load("admin-retry", schema),
                    SqlFiles.load("admin-cancel", schema), SqlFiles.load("admin-delete", schema),
                    SqlFiles.load("admin-run-now", schema), SqlFiles.load("admin-priority", schema),
                    SqlFiles.load("admin-failure-groups", schema), SqlFiles.load("admin-stats-live", schema),
                    SqlFiles.load("admin-stats-recent", schema), SqlFiles.load("admin-stats-finished", schema),
                    SqlFiles.load("admin-stats-failed", schema), SqlFiles.load("admin-stats-queues", schema),
                    SqlFiles.load("admin-stats-estimate", schema),
                    SqlFiles.load("admin-lock-job", schema), SqlFiles.load("admin-edit-payload", schema),
                    SqlFiles.load("admin-retry-one", schema));
        }
    }

    /**
     * {@inheritDoc} Pages of failed jobs are read in order from {@code job_queue_failed_idx}; other pages
     * sort what they match, unless the optional index {@code job_queue_created_idx} exists
     * (docs/admin.md, "How fast"). A cursor that this method did not return, or one of the other
     * order, is refused with a {@link ValidationException}.
     */
    @Override
    public JobPage find(JobFilter filter, Page page) {
        AdminFilter where = AdminFilter.of(filter);
        Check.notNull("page", page);
        Check.between("page limit", page.limit(), 1, Page.MAX_LIMIT);
        Check.notNull("page order", page.order());
        Cursor after = page.cursor() == null ? null : Cursor.decode(page.cursor(), page.order());
        boolean newest = page.order() == Page.Order.NEWEST_FIRST;
        String statement = where.into(sql.find)
                .replace("{keyset}", after == null ? "" : newest
                        ? "AND (j.created_at, j.id) < (CAST(? AS timestamptz), CAST(? AS uuid))"
                        : "AND (j.created_at, j.id) > (CAST(? AS timestamptz), CAST(? AS uuid))")
                .replace("{direction}", newest ? "DESC" : "ASC");
        List<JobSnapshot> jobs = run("find jobs", c -> {
            try (PreparedStatement ps = c.prepareStatement(statement)) {
                int i = where.bind(c, ps, 1);
                if (after != null) {
                    setInstant(ps, i++, after.createdAt());
                    ps.setObject(i++, after.id());
                }
                ps.setInt(i, page.limit() + 1);
                List<JobSnapshot> found = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        found.add(JobStatements.snapshot(rs));
                    }
                }
                return found;
            }
        });
        if (jobs.size() <= page.limit()) {
            return new JobPage(jobs, null);
        }
        List<JobSnapshot> shown = jobs.subList(0, page.limit());
        JobSnapshot last = shown.get(shown.size() - 1);
        return new JobPage(shown, new Cursor(page.order(), last.createdAt(), last.id()).encode());
    }

    /**
     * {@inheritDoc} Exact, never an estimate. A status filter is served by that status's partial index
     * (an index-only scan once vacuum has run); without one, every row the other criteria allow is
     * read, so on a table of millions filter by status or keep finished jobs pruned (docs/admin.md,
     * "How fast").
     */
    @Override
    public long count(JobFilter filter) {
        AdminFilter where = AdminFilter.of(filter);
        String statement = where.into(sql.count);
        return run("count jobs", c -> {
            try (PreparedStatement ps = c.prepareStatement(statement)) {
                where.bind(c, ps, 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    /**
     * {@inheritDoc} With a status filter it reads that status's partial index, as {@link #count} does,
     * and stops after {@code limit + 1} matches.
     */
    @Override
    public JobCount countUpTo(JobFilter filter, long limit) {
        AdminFilter where = AdminFilter.of(filter);
        Check.atLeast("limit", limit, 1L);
        return countUpTo(where, limit);
    }

    private JobCount countUpTo(AdminFilter where, long limit) {
        String statement = where.into(sql.countUpTo);
        long found = run("count jobs", c -> {
            try (PreparedStatement ps = c.prepareStatement(statement)) {
                int i = where.bind(c, ps, 1);
                ps.setLong(i, limit == Long.MAX_VALUE ? limit : limit + 1);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        return found > limit ? JobCount.atLeast(limit) : JobCount.exact(found);
    }

    @Override
    public Optional<JobDetail> job(UUID id) {
        Check.notNull("id", id);
        return run("read job " + id, c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.job)) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.empty();
                    }
                    JobSnapshot job = JobStatements.snapshot(rs);
                    List<AttemptRecord> attempts = attempts(rs.getString(21));
                    return Optional.of(new JobDetail(job, attempts, uuids(rs.getArray(22)), uuids(rs.getArray(23)),
                            TraceContextJson.read(rs.getString(24))));
                }
            }
        });
    }

    @Override
    public long retry(JobFilter filter) {
        return inBatches("retry jobs", AdminFilter.of(filter), sql.retry, null);
    }

    @Override
    public JobSnapshot retryWithPayload(UUID id, String payloadJson, String reason) {
        Check.notNull("id", id);
        Check.notNull("payloadJson", payloadJson);
        Check.text("reason", reason, AdminFilter.MAX_TEXT);
        JsonNode payload;
        try {
            payload = mapper.readTree(payloadJson);
        } catch (JsonProcessingException e) {
            throw new ValidationException("payloadJson", "a JSON object (" + e.getOriginalMessage() + ")", payloadJson);
        }
        if (payload == null || !payload.isObject()) {
            throw new ValidationException("payloadJson", "a JSON object", payloadJson);
        }
        return run("retry job " + id + " with a new payload", c -> Transactions.inOne(c, () -> {
            String type;
            JobStatus status;
            try (PreparedStatement ps = c.prepareStatement(sql.lockJob)) {
                ps.setObject(1, id);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new ValidationException("id", "the id of an existing job", id);
                    }
                    type = rs.getString(1);
                    status = JobStatus.fromSql(rs.getString(2));
                }
            }
            if (status != JobStatus.FAILED && status != JobStatus.CANCELLED) {
                throw new ValidationException("job " + type + "/" + id, "failed or cancelled to be retried", status);
            }
            JobType<?> jobType = jobTypes.get(type);
            if (jobType != null) {
                try {
                    new PayloadCodec(mapper).decode(jobType, id, payloadJson);
                } catch (PayloadException e) {
                    throw new ValidationException("payloadJson", "a payload of job type " + type + " ("
                            + jobType.payloadType().getSimpleName() + "): " + e.getMessage(), payloadJson);
                }
            }
            try (PreparedStatement ps = c.prepareStatement(sql.editPayload)) {
                ps.setString(1, payload.toString());
                ps.setString(2, reason);
                ps.setObject(3, id);
                ps.executeQuery().close();
            }
            try (PreparedStatement ps = c.prepareStatement(sql.retryOne)) {
                ps.setObject(1, id);
                ps.setString(2, reason == null ? "retried with an edited payload" : "retried with an edited payload: " + reason);
                ps.executeQuery().close();
            }
            return store.bound(c).jobGet(id).orElseThrow();
        }));
    }

    @Override
    public long cancel(JobFilter filter) {
        return inBatches("cancel jobs", AdminFilter.of(filter), sql.cancel, null);
    }

    @Override
    public long delete(JobFilter filter) {
        return inBatches("delete jobs", AdminFilter.of(filter), sql.delete, null);
    }

    @Override
    public long runNow(JobFilter filter) {
        return inBatches("make jobs due now", AdminFilter.of(filter), sql.runNow, null);
    }

    /**
     * {@inheritDoc} Enqueue accepts every {@code int} as a priority, so this does too.
     */
    @Override
    public long changePriority(JobFilter filter, int priority) {
        return inBatches("change the priority of jobs", AdminFilter.of(filter), sql.priority, priority);
    }

    @Override
    public List<FailureGroup> failureGroups(JobFilter filter, int limit) {
        Check.notNull("filter", filter);
        Check.between("limit", limit, 1, MAX_GROUPS);
        JobFilter failed = filter.toBuilder().statuses(JobStatus.FAILED).build();
        AdminFilter where = AdminFilter.of(filter.toBuilder().statuses().build());
        String statement = where.into(sql.failureGroups);
        return run("group failed jobs", c -> {
            try (PreparedStatement ps = c.prepareStatement(statement)) {
                int i = where.bind(c, ps, 1);
                ps.setInt(i, limit);
                List<FailureGroup> groups = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String queue = rs.getString(1);
                        String type = rs.getString(2);
                        String error = rs.getString(3);
                        JobFilter group = failed.toBuilder().queues(queue).types(type).errorFirstLine(error).build();
                        groups.add(new FailureGroup(queue, type, error, rs.getLong(4), instant(rs, 5), instant(rs, 6), group));
                    }
                }
                return groups;
            }
        });
    }

    /**
     * {@inheritDoc}
     *
     * <p>How it reads them: waiting, pending and processing jobs through the partial indexes that hold
     * only them; the last 15 minutes' completions and failures through {@code job_queue_finished_idx};
     * both cost what those jobs number, not the table. The totals of finished jobs: if the planner
     * expects at most {@link Builder#exactCountLimit} rows in the table, every finished row is counted;
     * otherwise failed jobs are counted exactly through {@code job_queue_failed_idx} while there are at
     * most that many, and completed and cancelled jobs (and failed ones beyond the limit) are the
     * planner's estimates per queue, from the statistics ANALYZE keeps of queue and status together
     * (migration V9), marked {@link JobCount.Accuracy#ESTIMATE}. A queue with only finished jobs on a
     * large table is listed once ANALYZE has seen it among the table's most common queues.
     */
    @Override
    public List<QueueStats> queueStats() {
        Set<String> paused = new TreeSet<>(queues.pausedQueues());
        Map<String, StatsRow> rows = new java.util.TreeMap<>();
        run("read queue statistics", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.statsLive); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StatsRow row = rows.computeIfAbsent(rs.getString(1), StatsRow::new);
                    JobStatus status = JobStatus.fromSql(rs.getString(2));
                    row.counts.put(status, JobCount.exact(rs.getLong(3)));
                    long oldest = rs.getLong(4);
                    if (status == JobStatus.PENDING && !rs.wasNull()) {
                        row.oldestPendingMicros = oldest;
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement(sql.statsRecent); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    StatsRow row = rows.computeIfAbsent(rs.getString(1), StatsRow::new);
                    for (int k = 0; k < 6; k++) {
                        row.recent[k] = rs.getLong(2 + k);
                    }
                }
            }
            return null;
        });
        finishedTotals(rows, paused);
        paused.forEach(q -> rows.computeIfAbsent(q, StatsRow::new));
        List<QueueStats> stats = new ArrayList<>();
        for (StatsRow row : rows.values()) {
            stats.add(row.stats(paused.contains(row.queue)));
        }
        return List.copyOf(stats);
    }

    private static final JobStatus[] FINISHED = {JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED};

    /** The completed, failed and cancelled totals per queue: exact where that is cheap, else estimates. */
    private void finishedTotals(Map<String, StatsRow> rows, Set<String> paused) {
        long tableRows = estimates(List.of()).get(0);
        if (tableRows <= exactCountLimit) {
            run("count finished jobs", c -> {
                try (PreparedStatement ps = c.prepareStatement(sql.statsFinished); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        StatsRow row = rows.computeIfAbsent(rs.getString(1), StatsRow::new);
                        for (int k = 0; k < FINISHED.length; k++) {
                            row.counts.put(FINISHED[k], JobCount.exact(rs.getLong(2 + k)));
                        }
                    }
                }
                return null;
            });
            return;
        }
        List<JobStatus> estimated = new ArrayList<>(List.of(JobStatus.COMPLETED, JobStatus.CANCELLED));
        JobCount failed = countUpTo(AdminFilter.of(JobFilter.builder().statuses(JobStatus.FAILED).build()), exactCountLimit);
        if (failed.isExact()) {
            run("count failed jobs", c -> {
                try (PreparedStatement ps = c.prepareStatement(sql.statsFailed); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.computeIfAbsent(rs.getString(1), StatsRow::new).counts.put(JobStatus.FAILED, JobCount.exact(rs.getLong(2)));
                    }
                }
                return null;
            });
        } else {
            estimated.add(JobStatus.FAILED);
        }
        Set<String> queueNames = new TreeSet<>(rows.keySet());
        queueNames.addAll(paused);
        queueNames.addAll(commonQueues());
        List<Map.Entry<String, JobStatus>> pairs = new ArrayList<>();
        for (String queue : queueNames) {
            for (JobStatus status : estimated) {
                pairs.add(Map.entry(queue, status));
            }
        }
        List<Long> values = estimates(pairs);
        for (int k = 0; k < pairs.size(); k++) {
            // The planner never expects fewer than one row: one is its "about none".
            long value = values.get(k) <= 1 ? 0 : values.get(k);
            String queue = pairs.get(k).getKey();
            if (value > 0 || rows.containsKey(queue)) {
                rows.computeIfAbsent(queue, StatsRow::new).counts.put(pairs.get(k).getValue(), JobCount.estimate(value));
            }
        }
    }

    /** The queues ANALYZE found most often, so that a queue with only finished jobs is listed on a large table. */
    private List<String> commonQueues() {
        return run("read the planner's statistics", c -> {
            try (PreparedStatement ps = c.prepareStatement(sql.statsQueues)) {
                ps.setString(1, schema);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || rs.getArray(1) == null) {
                        return List.of();
                    }
                    return Arrays.asList((String[]) rs.getArray(1).getArray());
                }
            }
        });
    }

    /**
     * The planner's row estimates: of the whole table when {@code pairs} is empty (one value), else of
     * each queue's jobs in each status, in the order given. One EXPLAIN, nothing executed.
     */
    private List<Long> estimates(List<Map.Entry<String, JobStatus>> pairs) {
        String from = "SELECT 1 FROM " + SqlFiles.quote(schema) + ".job_queue j";
        List<String> selects = new ArrayList<>();
        for (Map.Entry<String, JobStatus> pair : pairs) {
            selects.add(from + " WHERE j.queue = CAST(? AS text) AND " + AdminFilter.statusCondition(Set.of(pair.getValue())));
        }
        String statement = sql.statsEstimate.replace("{selects}", selects.isEmpty() ? from : String.join(" UNION ALL ", selects));
        int expected = Math.max(1, pairs.size());
        return run("read the planner's estimates", c -> {
            try (PreparedStatement ps = c.prepareStatement(statement)) {
                for (int k = 0; k < pairs.size(); k++) {
                    ps.setString(k + 1, pairs.get(k).getKey());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    JsonNode plan = readJson(rs.getString(1)).path(0).path("Plan");
                    JsonNode branches = expected == 1 ? mapper.createArrayNode().add(plan) : plan.path("Plans");
                    if (expected > 1 && (!"Append".equals(plan.path("Node Type").asText()) || branches.size() != expected)) {
                        throw new SQLException("unexpected plan of the estimates (" + plan.path("Node Type").asText()
                                + " of " + branches.size() + " branches, expected Append of " + expected + ")");
                    }
                    List<Long> values = new ArrayList<>();
                    for (JsonNode branch : branches) {
                        values.add(Math.round(branch.path("Plan Rows").asDouble()));
                    }
                    return values;
                }
            }
        });
    }

    private JsonNode readJson(String json) throws SQLException {
        try {
            return mapper.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SQLException("unreadable EXPLAIN output: " + e.getOriginalMessage(), e);
        }
    }

    /** One queue's numbers while queueStats collects them. */
    private static final class StatsRow {
        final String queue;
        final Map<JobStatus, JobCount> counts = new EnumMap<>(JobStatus.class);
        final long[] recent = new long[6];
        long oldestPendingMicros;

        StatsRow(String queue) {
            this.queue = queue;
        }

        QueueStats stats(boolean paused) {
            for (JobStatus status : JobStatus.values()) {
                counts.putIfAbsent(status, JobCount.exact(0));
            }
            return new QueueStats(queue, paused, counts, Duration.ofNanos(oldestPendingMicros * 1_000),
                    recent[0], recent[1], recent[2], recent[3], recent[4], recent[5]);
        }
    }

    @Override
    public void pause(String queue) {
        queues.pause(queue);
    }

    @Override
    public void resume(String queue) {
        queues.resume(queue);
    }

    @Override
    public List<WorkerInfo> workers() {
        return registry.workers();
    }

    @Override
    public List<RecurringInfo> recurring() {
        return registry.recurring();
    }

    /** The store's table-health check ({@code Worker}'s), as the admin API reports it; zeros where no statistics exist yet. */
    @Override
    public TableStats tableStats() {
        TableHealth health = store.jobTableHealth().orElse(new TableHealth(0, 0, 0, 0, null, null, null));
        return new TableStats(health.liveRows(), health.deadRows(), health.insertedSinceVacuum(), health.lastVacuum(), health.oldestTransaction(),
                health.oldestTransactionAge());
    }

    /** Names the admin's schema. */
    @Override
    public String toString() {
        return "JdbiJobAdmin[schema=" + schema + "]";
    }

    /**
     * Runs a batch statement until no matching row is left after the last batch's last id; each batch is
     * one statement, so one transaction. Its first column is the batch's last id (null when it found
     * none), its second how many jobs it changed.
     */
    private long inBatches(String what, AdminFilter where, String template, Integer priority) {
        String statement = where.into(template);
        long total = 0;
        UUID after = NO_ID;
        while (true) {
            UUID from = after;
            long[] changed = new long[1];
            UUID last = run(what, c -> {
                try (PreparedStatement ps = c.prepareStatement(statement)) {
                    int i = 1;
                    if (priority != null) {
                        ps.setInt(i++, priority);
                    }
                    ps.setObject(i++, from);
                    i = where.bind(c, ps, i);
                    ps.setInt(i, batchSize);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        changed[0] = rs.getLong(2);
                        return rs.getObject(1, UUID.class);
                    }
                }
            });
            total += changed[0];
            if (last == null) {
                return total;
            }
            after = last;
        }
    }

    private List<AttemptRecord> attempts(String historyJson) throws SQLException {
        if (historyJson == null) {
            return List.of();
        }
        try {
            List<AttemptRecord> attempts = new ArrayList<>();
            for (JsonNode entry : mapper.readTree(historyJson)) {
                attempts.add(new AttemptRecord(entry.path("attempt").asInt(),
                        OffsetDateTime.parse(entry.path("at").asText()).toInstant(), entry.path("kind").asText(),
                        textOrNull(entry.get("message")), textOrNull(entry.get("worker"))));
            }
            return attempts;
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SQLException("unreadable job_queue.history: " + e.getMessage(), e);
        }
    }

    private static String textOrNull(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    private static List<UUID> uuids(Array array) throws SQLException {
        if (array == null) {
            return List.of();
        }
        return Arrays.asList((UUID[]) array.getArray());
    }

    private <T> T run(String what, JdbiJobStore.SqlWork<T> work) {
        try {
            return jdbi.withHandle(handle -> work.apply(handle.getConnection()));
        } catch (JdbiException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            if (cause instanceof ValidationException validation) {
                throw validation;
            }
            String sqlState = cause instanceof SQLException s ? s.getSQLState() : null;
            String state = sqlState != null ? " [" + sqlState + "]" : "";
            throw new StoreException("could not " + what + " in " + schema + ".job_queue" + state + ": " + cause.getMessage(),
                    e, JdbiJobStore.isTransient(sqlState));
        } catch (SQLException e) {
            throw new StoreException("could not " + what + " in " + schema + ".job_queue [" + e.getSQLState() + "]: "
                    + e.getMessage(), e, JdbiJobStore.isTransient(e.getSQLState()));
        }
    }

    /** Where a page ends: its order and its last job's creation time and id. Opaque to callers. */
    private record Cursor(Page.Order order, Instant createdAt, UUID id) {

        String encode() {
            String text = "1|" + order.name() + "|" + createdAt.getEpochSecond() + "|" + createdAt.getNano() + "|" + id;
            return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
        }

        static Cursor decode(String cursor, Page.Order order) {
            try {
                String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("\\|", -1);
                if (parts.length != 5 || !parts[0].equals("1") || !parts[1].equals(order.name())) {
                    throw new IllegalArgumentException("not a cursor of this order");
                }
                Instant createdAt = Instant.ofEpochSecond(Long.parseLong(parts[2]), Long.parseLong(parts[3]));
                Check.instant("cursor", createdAt);
                return new Cursor(order, createdAt, UUID.fromString(parts[4]));
            } catch (IllegalArgumentException | java.time.DateTimeException e) {
                throw new ValidationException("cursor", CURSOR_RULE, cursor);
            }
        }
    }

    /** Options for a {@link JdbiJobAdmin}; every one has a default. Not thread-safe. */
    public static final class Builder {
        private final JdbiJobStore store;
        private final Map<String, JobType<?>> jobTypes = new HashMap<>();
        private int batchSize = DEFAULT_BATCH_SIZE;
        private long exactCountLimit = DEFAULT_EXACT_COUNT_LIMIT;

        private Builder(JdbiJobStore store) {
            this.store = Check.notNull("store", store);
        }

        /**
         * Job types whose payload class checks the payload given to {@link JdbiJobAdmin#retryWithPayload}
         * for a job of that type (it must map to the class as a worker would map it). A job of a type not
         * given here only needs a JSON object. Each call adds to the types given before.
         *
         * @param types the job types
         * @return this builder
         */
        public Builder jobTypes(JobType<?>... types) {
            Check.notNull("types", types);
            for (JobType<?> type : types) {
                Check.notNull("type", type);
                jobTypes.put(type.name(), type);
            }
            return this;
        }

        /**
         * How many jobs one batch of a bulk operation changes, in one short transaction. Default
         * {@value #DEFAULT_BATCH_SIZE}; larger batches finish sooner but hold their row locks longer.
         *
         * @param batchSize jobs per batch, 1 to {@value #MAX_BATCH_SIZE}
         * @return this builder
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = Check.between("batchSize", batchSize, 1, MAX_BATCH_SIZE);
            return this;
        }

        /**
         * How far {@link JdbiJobAdmin#queueStats} counts the totals of finished jobs exactly. Default
         * {@value #DEFAULT_EXACT_COUNT_LIMIT}: while the planner expects at most this many rows in the
         * table, every finished job is counted; beyond, failed jobs are still counted while there are
         * at most this many, and the rest are the planner's estimates. The waiting, pending and
         * processing counts are always exact.
         *
         * @param exactCountLimit rows, at least 1
         * @return this builder
         */
        public Builder exactCountLimit(long exactCountLimit) {
            this.exactCountLimit = Check.atLeast("exactCountLimit", exactCountLimit, 1L);
            return this;
        }

        /**
         * Builds the admin. It uses the store's {@link Jdbi}, schema and payload mapper.
         *
         * @return the admin
         */
        public JdbiJobAdmin build() {
            return new JdbiJobAdmin(this);
        }
    }
}
