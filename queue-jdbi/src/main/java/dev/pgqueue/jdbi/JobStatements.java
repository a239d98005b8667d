package dev.pgqueue.jdbi;

import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.spi.JobStore.CancelParams;
import dev.pgqueue.spi.JobStore.CancelResult;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import dev.pgqueue.spi.JobStore.HeldLease;
import dev.pgqueue.spi.JobStore.InsertParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import dev.pgqueue.spi.JobStore.NewJob;
import dev.pgqueue.spi.JobStore.NextDueParams;
import dev.pgqueue.spi.JobStore.PruneParams;
import dev.pgqueue.spi.JobStore.RescueParams;
import dev.pgqueue.spi.JobStore.RescuedJob;
import dev.pgqueue.spi.JobStore.TableHealth;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Runs the store's SQL statements (one resource file each) on a given connection, binding
 * parameters in the order each file documents. Plain JDBC, so that a caller's {@code Handle} or
 * {@code Connection} works the same as the store's own and no JDBI configuration of the
 * application's (parsers, template engines, argument factories) can change our statements.
 */
final class JobStatements {

    private final String insertOne;
    private final String insertMany;
    private final String claim;
    private final Map<FinishKind, String> finish = new EnumMap<>(FinishKind.class);
    private final String extendLease;
    private final String rescue;
    private final String cancel;
    private final String prune;
    private final String get;
    private final String nextDue;
    private final String tableHealth;

    JobStatements(String schema) {
        insertOne = SqlFiles.load("insert-one", schema);
        insertMany = SqlFiles.load("insert-many", schema);
        claim = SqlFiles.load("claim", schema);
        finish.put(FinishKind.COMPLETE, SqlFiles.load("complete", schema));
        finish.put(FinishKind.RETRY, SqlFiles.load("retry", schema));
        finish.put(FinishKind.FAIL, SqlFiles.load("fail", schema));
        finish.put(FinishKind.SNOOZE, SqlFiles.load("snooze", schema));
        finish.put(FinishKind.CANCEL, SqlFiles.load("cancel-running", schema));
        finish.put(FinishKind.RELEASE, SqlFiles.load("release", schema));
        extendLease = SqlFiles.load("extend-lease", schema);
        rescue = SqlFiles.load("rescue", schema);
        cancel = SqlFiles.load("cancel", schema);
        prune = SqlFiles.load("prune", schema);
        get = SqlFiles.load("get", schema);
        nextDue = SqlFiles.load("next-due", schema);
        tableHealth = SqlFiles.load("table-health", schema);
    }

    List<UUID> insert(Connection c, InsertParams params) throws SQLException {
        List<NewJob> jobs = params.jobs();
        if (jobs.size() == 1) {
            NewJob job = jobs.get(0);
            try (PreparedStatement ps = c.prepareStatement(insertOne)) {
                int i = 0;
                setInstant(ps, ++i, params.now());
                ps.setObject(++i, job.id());
                ps.setString(++i, job.type());
                ps.setString(++i, job.queue());
                ps.setString(++i, job.payloadJson());
                ps.setInt(++i, job.priority());
                setInstant(ps, ++i, job.runAt());
                ps.setLong(++i, micros(job.delay()));
                ps.setInt(++i, job.maxRetries());
                ps.setObject(++i, job.userId());
                ps.executeUpdate();
            }
            return List.of(job.id());
        }
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
        }
        try (PreparedStatement ps = c.prepareStatement(insertMany)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setArray(++i, c.createArrayOf("uuid", ids));
            ps.setArray(++i, c.createArrayOf("text", types));
            ps.setArray(++i, c.createArrayOf("text", queues));
            ps.setArray(++i, c.createArrayOf("text", payloads));
            ps.setArray(++i, c.createArrayOf("int4", priorities));
            ps.setArray(++i, c.createArrayOf("text", runAts));
            ps.setArray(++i, c.createArrayOf("int8", delays));
            ps.setArray(++i, c.createArrayOf("int4", maxRetries));
            ps.setArray(++i, c.createArrayOf("uuid", userIds));
            ps.executeUpdate();
        }
        return List.of(ids);
    }

    List<ClaimedJob> claim(Connection c, ClaimParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(claim)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setString(++i, params.workerId());
            ps.setObject(++i, params.leaseToken());
            ps.setLong(++i, micros(params.leaseDuration()));
            ps.setString(++i, params.queue());
            ps.setArray(++i, c.createArrayOf("text", params.types().toArray(String[]::new)));
            ps.setInt(++i, params.limit());
            List<ClaimedJob> claimed = new ArrayList<>(params.limit());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int k = 0;
                    claimed.add(new ClaimedJob(
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
            return claimed;
        }
    }

    /** Runs one statement per kind of outcome present, each fenced by lease token. */
    List<FinishedJob> finish(Connection c, FinishParams params) throws SQLException {
        Map<FinishKind, List<Finish>> byKind = new EnumMap<>(FinishKind.class);
        for (Finish f : params.finishes()) {
            byKind.computeIfAbsent(f.kind(), k -> new ArrayList<>()).add(f);
        }
        // Several statements must still be one transaction (all outcomes or none); on a connection that
        // is already in a transaction (a bound store), they simply join it.
        boolean ownTransaction = byKind.size() > 1 && c.getAutoCommit();
        if (ownTransaction) {
            c.setAutoCommit(false);
        }
        try {
            List<FinishedJob> finished = finish(c, params, byKind);
            if (ownTransaction) {
                c.commit();
            }
            return finished;
        } catch (SQLException | RuntimeException e) {
            if (ownTransaction) {
                try {
                    c.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
            }
            throw e;
        } finally {
            if (ownTransaction) {
                c.setAutoCommit(true);
            }
        }
    }

    private List<FinishedJob> finish(Connection c, FinishParams params, Map<FinishKind, List<Finish>> byKind)
            throws SQLException {
        List<FinishedJob> finished = new ArrayList<>(params.finishes().size());
        for (Map.Entry<FinishKind, List<Finish>> entry : byKind.entrySet()) {
            FinishKind kind = entry.getKey();
            List<Finish> finishes = entry.getValue();
            try (PreparedStatement ps = c.prepareStatement(finish.get(kind))) {
                int i = 0;
                if (kind != FinishKind.RELEASE) {
                    setInstant(ps, ++i, params.now());
                }
                ps.setArray(++i, c.createArrayOf("uuid", finishes.stream().map(Finish::id).toArray(UUID[]::new)));
                ps.setArray(++i, c.createArrayOf("uuid", finishes.stream().map(Finish::leaseToken).toArray(UUID[]::new)));
                if (kind == FinishKind.RETRY || kind == FinishKind.FAIL || kind == FinishKind.CANCEL) {
                    ps.setArray(++i, c.createArrayOf("text", finishes.stream().map(f -> storable(f.message())).toArray(String[]::new)));
                }
                if (kind == FinishKind.RETRY || kind == FinishKind.SNOOZE) {
                    ps.setArray(++i, c.createArrayOf("int8", finishes.stream().map(f -> micros(f.delay())).toArray(Long[]::new)));
                }
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        finished.add(new FinishedJob(
                                rs.getObject(1, UUID.class), JobStatus.fromSql(rs.getString(2)), rs.getInt(3)));
                    }
                }
            }
        }
        return finished;
    }

    List<HeldLease> extendLeases(Connection c, ExtendLeaseParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(extendLease)) {
            int i = 0;
            setInstant(ps, ++i, params.now());
            ps.setLong(++i, micros(params.leaseDuration()));
            ps.setArray(++i, c.createArrayOf("uuid", params.leases().stream().map(LeaseRef::id).toArray(UUID[]::new)));
            ps.setArray(++i, c.createArrayOf("uuid", params.leases().stream().map(LeaseRef::leaseToken).toArray(UUID[]::new)));
            List<HeldLease> held = new ArrayList<>(params.leases().size());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    held.add(new HeldLease(rs.getObject(1, UUID.class), instant(rs, 2), rs.getBoolean(3)));
                }
            }
            return held;
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

    int prune(Connection c, PruneParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(prune)) {
            setInstant(ps, 1, params.now());
            ps.setArray(2, c.createArrayOf("text", params.statuses().stream().map(JobStatus::sqlValue).toArray(String[]::new)));
            ps.setLong(3, micros(params.olderThan()));
            ps.setInt(4, params.limit());
            return ps.executeUpdate();
        }
    }

    Optional<JobSnapshot> get(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(get)) {
            ps.setObject(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                int k = 0;
                return Optional.of(new JobSnapshot(
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
                        rs.getObject(++k, UUID.class)));
            }
        }
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
            int pid = rs.getInt(4);
            if (!rs.wasNull()) {
                holder = "pid " + pid + ", user " + rs.getString(5) + ", application '" + rs.getString(6)
                        + "', " + rs.getString(7);
                age = Duration.ofMillis(rs.getLong(8));
            }
            return Optional.of(new TableHealth(rs.getLong(1), rs.getLong(2), instant(rs, 3), holder, age));
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
     * Saturates instead of overflowing (Duration.toNanos fails past 292 years), so that a duration
     * too long for PostgreSQL is rejected there, as a StoreException, rather than as an ArithmeticException.
     */
    private static long micros(Duration duration) {
        return duration == null ? 0 : TimeUnit.MICROSECONDS.convert(duration);
    }

    /**
     * PostgreSQL's text cannot hold U+0000, and one such character (in an exception message, say)
     * would fail the whole statement; each is stored as the six characters of its JSON escape instead.
     */
    private static String storable(String message) {
        return message == null || message.indexOf('\u0000') < 0 ? message : message.replace("\u0000", "\\u0000");
    }
}
