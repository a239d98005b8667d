package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static dev.pgqueue.jdbi.JdbcTime.setInstant;

import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims under the queues' policies (migration V3): global concurrency limits, rate limits and
 * fairness, stored in {@code job_queue_policy} so that every worker of the table obeys them. A queue
 * without a policy is claimed by {@code claim.sql} exactly as before; the only cost to it is a look-up
 * in this store's cache of the table, which is reloaded at most once per refresh interval.
 *
 * <p><b>Limits without a hot lock.</b> A claim of a limited queue runs in a transaction that first
 * takes a transaction-scoped advisory lock per limit (sorted, so that claims cannot deadlock), then,
 * in a new statement whose snapshot therefore sees every claim that held the lock before, counts the
 * jobs running under each limit and the starts within its rate period, claims at most what is left
 * with the ordinary claim statement, and records the new starts; the locks go with the commit. Only
 * claims of the same limit wait for each other, and only for that short transaction; there is no row
 * that every claim updates, and other queues never take the lock. A claim that a limit held back
 * leaves a hint that {@link #retryHint} hands to the worker's fetcher (through {@code jobNextDue}), so
 * that it tries again when the rate window has room, or shortly for a concurrency limit.
 *
 * <p><b>Fairness.</b> A fair queue is claimed by {@code claim-fair.sql}: round-robin over partition
 * keys, starting after the key where this store's previous fair claim of the queue stopped, and
 * what that leaves of the batch is filled by the ordinary claim (jobs without a key, or more of the
 * keys that have many when there are few keys).
 *
 * <p><b>Under a pinned horizon.</b> Every claim in claim.sql's order, a limited one within its room and
 * a fair claim's fill included, starts past the store's {@link ClaimFloor} for its queue and types
 * while dead entries make claims from the index's front slow ({@link JobStatements#claim(Connection,
 * ClaimParams, long)}); a limited claim whose transaction rolls back hands its jobs back to the floor.
 * A fair claim's own walk of {@code job_queue_fair_idx} starts each key past the last job this store
 * claimed from it while claims from the index's front are slow ({@link FairFloor}); the claim that fills
 * its room starts past the last job it took while the fill's own floor bounds it
 * ({@link ClaimFloor#claimedElsewhere}).
 */
final class QueuePolicies {

    private static final Logger log = LoggerFactory.getLogger(QueuePolicies.class);

    /** How often the cache of {@code job_queue_policy} is reloaded by default. */
    static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(5);
    /**
     * How often the walk of a limit's starts begins at its first start rather than where the previous
     * walk said (then it walks the entries of every start deleted since, which a held xmin horizon keeps).
     */
    static final long FULL_STARTS_WALK_NANOS = TimeUnit.MINUTES.toNanos(1);
    /** How far before where the previous walk said a walk of a limit's starts begins. */
    static final Duration STARTS_CLOCK_SLACK = Duration.ofSeconds(1);
    /** How soon a worker whose claim a concurrency limit held back looks again. */
    static final Duration LIMITED_RETRY = Duration.ofMillis(100);
    private static final String WHOLE_QUEUE = "*";

    private final String schema;
    private final long refreshNanos;
    private final String list;
    private final NamedSql put;
    private final String lock;
    private final String capacity;
    private final String recordStarts;
    private final NamedSql claimFair;
    private final NamedSql claimFairPastFloors;
    private final NamedSql claimFairSweep;
    private volatile Cache cache;
    /** Per fair queue: the partition key where this store's previous fair claim stopped. */
    private final Map<String, String> cursors = new ConcurrentHashMap<>();
    /** Per fair queue and set of job types: where this store's fair claims may start each key's walk. */
    private final Map<JobStatements.FloorKey, FairFloor> fairFloors = new ConcurrentHashMap<>();
    /** What this store says about its fair floors. */
    private final FloorLog floorLog = new FloorLog(log, new FloorLog.Messages(
            "fair claims of queue {} now start each partition key past the last job claimed from it: a fair claim from "
                    + "the front of the fair index walked many dead entries",
            "fair claims of queue {} walk each partition key from its first job again after {} ms",
            "fair claims of queue {} have started each partition key past the last job claimed from it for {} s: a fair "
                    + "claim from the front of the fair index walks many dead entries, so something holds back the xmin "
                    + "horizon, or vacuum is behind (the worker's table-health check names a transaction that holds it); new "
                    + "keys and jobs that sort before their key's last claimed job are found by a sweep on a connection of its "
                    + "own, every ten times as long as a sweep takes (1 to 60 s)",
            "fair claims of queue {} walk each partition key from its first job again, after {} s past each key's last "
                    + "claimed job: the fair index is quick to walk again"));
    /** Per limit (queue and type key): where the walk of its starts begins (see policy-capacity.sql). */
    private final Map<String, StartsWalk> startsWalks = new ConcurrentHashMap<>();
    /** Per queue whose latest claim a limit held back: when to look again, and the types that claim asked for. */
    private final Map<String, Retry> retryAt = new ConcurrentHashMap<>();

    QueuePolicies(String schema, Duration refreshInterval) {
        this.schema = schema;
        this.refreshNanos = refreshInterval.toNanos();
        this.list = SqlFiles.load("policy-list", schema);
        this.put = SqlFiles.loadNamed("policy-put", schema);
        this.lock = SqlFiles.load("policy-lock", schema);
        this.capacity = SqlFiles.load("policy-capacity", schema);
        this.recordStarts = SqlFiles.load("policy-record-starts", schema);
        this.claimFair = claimFairStatement(schema, false);
        this.claimFairPastFloors = claimFairStatement(schema, true);
        this.claimFairSweep = claimFairSweepStatement(schema);
    }

    /**
     * claim-fair-sweep.sql, finding its keys as a fair claim from the front of the fair index does, between
     * fair-plan-begin.sql and fair-plan-end.sql ({@link #fairPlan}).
     */
    static NamedSql claimFairSweepStatement(String schema) {
        return fairPlan(schema, SqlFiles.load("claim-fair-sweep", schema,
                Map.of("keys", SqlFiles.load("claim-fair-keys", schema))));
    }

    /**
     * claim-fair.sql, finding its keys from the front of the fair index or past their {@link FairFloor},
     * between fair-plan-begin.sql and fair-plan-end.sql ({@link #fairPlan}).
     */
    static NamedSql claimFairStatement(String schema, boolean pastFloors) {
        return fairPlan(schema, SqlFiles.load("claim-fair", schema, Map.of(
                "keys", SqlFiles.load(pastFloors ? "claim-fair-keys-past-floors" : "claim-fair-keys", schema),
                "key_floor", pastFloors ? """

                            AND (j.priority, j.run_at, j.id) > (k.floor_priority, k.floor_run_at, k.floor_id)""" : "")));
    }

    /**
     * {@code statement} sent with sorting and JIT off for it alone, so that only job_queue_fair_idx can answer
     * its scans (fair-plan-begin.sql says why): three statements in one call, run with {@link #fairRows}
     * inside {@link Transactions#inOne}: the settings last for the transaction, and in autocommit pgjdbc may
     * end the implicit transaction between the statements of one call (a Sync, to describe a statement or
     * bound its replies), so an autocommit call gets a transaction of its own (one round trip more, the commit).
     */
    static NamedSql fairPlan(String schema, String statement) {
        return NamedSql.parse(SqlFiles.load("fair-plan-begin", schema) + ";\n" + statement + ";\n"
                + SqlFiles.load("fair-plan-end", schema));
    }

    /** Executes a statement of {@link #fairPlan}: the rows of the fair statement, past fair-plan-begin.sql's. */
    static ResultSet fairRows(PreparedStatement ps) throws SQLException {
        ps.execute(); // fair-plan-begin.sql's row
        if (!ps.getMoreResults()) {
            throw new SQLException("expected the rows of a fair statement after fair-plan-begin.sql's");
        }
        return ps.getResultSet();
    }

    /** Runs a claim of a limited queue as one transaction. */
    @FunctionalInterface
    interface InTransaction {
        List<ClaimedJob> run(JdbiJobStore.SqlWork.Body<List<ClaimedJob>> body) throws SQLException;
    }

    /** The policies of one queue: for the whole queue and by job type. */
    private record ForQueue(QueuePolicy whole, Map<String, QueuePolicy> byType) {
        boolean fair() {
            return whole != null && Boolean.TRUE.equals(whole.fair());
        }

        /** The limits that apply to a claim of {@code types}. */
        List<QueuePolicy> limits(Set<String> types) {
            List<QueuePolicy> limits = new ArrayList<>();
            if (whole != null && limits(whole)) {
                limits.add(whole);
            }
            new TreeSet<>(types).forEach(type -> {
                QueuePolicy policy = byType.get(type);
                if (policy != null && limits(policy)) {
                    limits.add(policy);
                }
            });
            return limits;
        }

        static boolean limits(QueuePolicy policy) {
            return policy.maxRunning() != null || policy.maxStarts() != null;
        }
    }

    private record Cache(Map<String, ForQueue> byQueue, long loadedAtNanos) {}

    /** When to look at a queue again (System.nanoTime) because a limit held back a claim of {@code types}. */
    private record Retry(long atNanos, Set<String> types) {}

    /**
     * When a worker should look at a queue again because its latest claim was held back by a limit.
     *
     * @param delay     how long from now
     * @param sameTypes whether that claim asked for the types asked about now: then nothing of them can be
     *                  claimed before the first limit that held it back frees up, whatever becomes due meanwhile
     */
    record RetryHint(Duration delay, boolean sameTypes) {}

    /** What one limit allows now, read under its lock. */
    private record Room(int room, boolean rateBound, Instant roomAt) {}

    /** Where a walk of a limit's starts may begin, and when this store last walked them from the first (System.nanoTime). */
    private record StartsWalk(Instant since, long fullWalkNanos) {}

    /**
     * The room of each limit of a claim, by type ({@link #WHOLE_QUEUE} for the queue's), and the database's now,
     * read at {@code readAtNanos} (System.nanoTime, just before the statement).
     */
    private record Capacity(Map<String, Room> rooms, Instant now, long readAtNanos) {}

    // ---- claims ----------------------------------------------------------------------------------

    /** Claims as {@code params} ask, subject to the queue's policies, if it has any. */
    List<ClaimedJob> claim(Connection c, ClaimParams params, JobStatements statements, InTransaction tx)
            throws SQLException {
        ForQueue policy = current(c).byQueue().get(params.queue());
        if (policy == null) {
            if (!retryAt.isEmpty()) {
                retryAt.remove(params.queue()); // a limit that was lifted leaves no hint behind
            }
            return statements.claim(c, params); // no policy: the claim as it always was
        }
        List<QueuePolicy> limits = policy.limits(params.types());
        if (limits.isEmpty()) {
            retryAt.remove(params.queue());
            return policy.fair() ? claimFair(c, params, statements, statements.claimByteBudget()) : statements.claim(c, params);
        }
        return tx.run(() -> claimLimited(c, params, policy, limits, statements));
    }

    /**
     * When the worker should look at {@code queue} again because its latest claim was held back by
     * a limit, asked about {@code types}; empty if it was not.
     */
    Optional<RetryHint> retryHint(String queue, Set<String> types) {
        Retry retry = retryAt.get(queue);
        if (retry == null) {
            return Optional.empty();
        }
        long wait = retry.atNanos() - System.nanoTime();
        if (wait <= 0) {
            retryAt.remove(queue, retry); // past: a claim since would have left a new one
            return Optional.empty();
        }
        return Optional.of(new RetryHint(Duration.ofNanos(wait), retry.types().equals(types)));
    }

    private List<ClaimedJob> claimLimited(Connection c, ClaimParams params, ForQueue policy, List<QueuePolicy> limits,
            JobStatements statements) throws SQLException {
        lockLimits(c, limits);
        Capacity left = readCapacity(c, params.now(), limits);
        if (left == null) {
            // The limits were removed since the cache was loaded: claim as without them, and reload.
            cache = null;
            return policy.fair() ? claimFair(c, params, statements, statements.claimByteBudget()) : statements.claim(c, params);
        }
        GroupClaims groups = new GroupClaims(c, params, policy.fair(), statements, left);
        groups.claimAll();
        if (!groups.claimed.isEmpty()) {
            recordStarts(c, groups.claimed, left.rooms(), params.queue(), left.now());
        }
        if (params.now() == null) {
            // The groups claimed at the database's now that the limits were counted at; what a short claim
            // learnt of the next due job then answers a worker that asks on the database's clock.
            statements.claimedOnDatabaseClock(params.queue(), left.now(), left.readAtNanos());
        }
        rememberRetry(params, groups.retryAfter, groups.roomLeft);
        return groups.claimed;
    }

    /** Takes each limit's advisory lock, sorted so that two claims cannot deadlock; the commit releases them. */
    private void lockLimits(Connection c, List<QueuePolicy> limits) throws SQLException {
        List<String> lockKeys = limits.stream().map(this::lockKey).sorted().toList();
        try (PreparedStatement ps = c.prepareStatement(lock)) {
            ps.setArray(1, c.createArrayOf("text", lockKeys.toArray(String[]::new)));
            ps.executeQuery().close();
        }
    }

    /**
     * The room each limit leaves, read in a statement after the locks so that it sees every claim that
     * held them; null if the limits were removed since the cache was loaded.
     */
    private Capacity readCapacity(Connection c, Instant at, List<QueuePolicy> limits) throws SQLException {
        Map<String, Room> rooms = new HashMap<>();
        Instant now = null;
        long nowNanos = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(capacity)) {
            setInstant(ps, 1, at);
            ps.setArray(2, c.createArrayOf("text", limits.stream().map(QueuePolicy::queue).toArray(String[]::new)));
            ps.setArray(3, c.createArrayOf("text", limits.stream().map(QueuePolicies::typeKey).toArray(String[]::new)));
            ps.setArray(4, c.createArrayOf("text", limits.stream() // ISO-8601 instants: no time zone of the JVM's involved
                    .map(limit -> at == null ? startsSince(limit, nowNanos) : null).toArray(String[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rooms.put(rs.getString(2), room(rs));
                    now = instant(rs, 8);
                    if (at == null) {
                        keptSince(rs.getString(1), rs.getString(2), instant(rs, 9), nowNanos);
                    }
                }
            }
        }
        return now == null ? null : new Capacity(rooms, now, nowNanos);
    }

    /**
     * Where the walk of {@code limit}'s starts begins: where the previous one said, less a second (a
     * database clock stepped back a little), or from the first start once a minute (and when not known),
     * so that a start out of step with the clock is not left out for longer. Only for claims on the
     * database's clock: a claim at a given time (a worker's own clock, in tests) walks from the first
     * start and leaves nothing to remember, since its starts need not follow the ones before. (A worker
     * on the database's clock sharing a limit with one on a clock behind it may miss the other's starts
     * until its next walk from the first.)
     */
    private String startsSince(QueuePolicy limit, long nowNanos) {
        StartsWalk walk = startsWalks.get(limit.queue() + "\u0000" + typeKey(limit));
        if (walk == null || nowNanos - walk.fullWalkNanos() >= FULL_STARTS_WALK_NANOS) {
            return null;
        }
        return walk.since().minus(STARTS_CLOCK_SLACK).toString();
    }

    /** Remembers where the next walk of a limit's starts may begin; a walk from the first start restarts the minute. */
    private void keptSince(String queue, String type, Instant since, long nowNanos) {
        String key = queue + "\u0000" + type;
        StartsWalk previous = startsWalks.get(key);
        boolean full = previous == null || nowNanos - previous.fullWalkNanos() >= FULL_STARTS_WALK_NANOS;
        startsWalks.put(key, new StartsWalk(since, full ? nowNanos : previous.fullWalkNanos()));
    }

    /** One row of policy-capacity.sql: the smaller room of the concurrency limit and the rate limit. */
    private static Room room(ResultSet rs) throws SQLException {
        int room = Integer.MAX_VALUE;
        boolean rateBound = false;
        int maxRunning = rs.getInt(3);
        if (!rs.wasNull()) {
            room = (int) Math.max(0, maxRunning - rs.getLong(4));
        }
        int maxStarts = rs.getInt(5);
        if (!rs.wasNull()) {
            int rateRoom = (int) Math.max(0, maxStarts - rs.getLong(6));
            if (rateRoom <= room) {
                room = rateRoom;
                rateBound = true;
            }
        }
        return new Room(room, rateBound, instant(rs, 7));
    }

    /**
     * One limited claim's way through its groups, each limited type alone within its room and then
     * the other types together, so that the whole-queue room and the byte budget span the groups.
     */
    private final class GroupClaims {
        private final Connection c;
        private final ClaimParams params;
        private final boolean fair;
        private final JobStatements statements;
        private final Capacity left;
        final List<ClaimedJob> claimed = new ArrayList<>();
        private int remaining;
        /** The claim's byte budget spans its groups: each group claims at most what the previous left. */
        private long bytesLeft;
        /** A group got fewer jobs than it was allowed: no more are due. */
        boolean roomLeft;
        /** How soon the first of the limits that held this claim back frees up; null if none did. */
        Duration retryAfter;

        GroupClaims(Connection c, ClaimParams params, boolean fair, JobStatements statements, Capacity left) {
            this.c = c;
            this.params = params;
            this.fair = fair;
            this.statements = statements;
            this.left = left;
            Room queueRoom = left.rooms().get(WHOLE_QUEUE);
            remaining = Math.min(params.limit(), queueRoom == null ? Integer.MAX_VALUE : queueRoom.room());
            if (queueRoom != null && queueRoom.room() < params.limit()) {
                heldBack(queueRoom);
            }
            bytesLeft = statements.claimByteBudget();
        }

        /** Claims each limited type, in name order, within its room, then the other types with what is left. */
        void claimAll() throws SQLException {
            List<String> limitedTypes = new ArrayList<>();
            List<String> otherTypes = new ArrayList<>();
            new TreeSet<>(params.types()).forEach(type -> (left.rooms().containsKey(type) ? limitedTypes : otherTypes).add(type));
            for (String type : limitedTypes) {
                if (remaining == 0 || bytesLeft <= 0) {
                    break;
                }
                claimLimitedType(type);
            }
            if (bytesLeft <= 0 && remaining > 0) {
                statements.markLeftDue(params.queue()); // the budget, not the queue, ended this claim
            }
            if (remaining > 0 && bytesLeft > 0 && !otherTypes.isEmpty()) {
                claimOtherTypes(otherTypes);
            }
        }

        /** A limited type gets at most its own room, and the first limit that holds a claim back is remembered. */
        private void claimLimitedType(String type) throws SQLException {
            Room typeRoom = left.rooms().get(type);
            int allowed = Math.min(remaining, typeRoom.room());
            if (allowed < remaining) {
                heldBack(typeRoom);
            }
            List<ClaimedJob> got = allowed == 0 ? List.of()
                    : claimGroup(c, params, Set.of(type), allowed, left.now(), fair, statements, bytesLeft);
            roomLeft |= got.size() < allowed;
            claimed.addAll(got);
            remaining -= got.size();
            bytesLeft -= JobStatements.payloadBytes(got);
        }

        /** Types without a limit of their own share what the limited ones left, in one claim. */
        private void claimOtherTypes(List<String> otherTypes) throws SQLException {
            List<ClaimedJob> got = claimGroup(c, params, new LinkedHashSet<>(otherTypes), remaining, left.now(), fair,
                    statements, bytesLeft);
            roomLeft |= got.size() < remaining;
            claimed.addAll(got);
        }

        /**
         * {@code room}'s limit held this claim back: it frees up when its rate window has room (a rate
         * limit knows when), or is polled after {@link #LIMITED_RETRY} (a concurrency limit). Of several
         * such limits the earliest counts, so that no job that another one lets through waits for a later one.
         */
        private void heldBack(Room room) {
            Duration wait = room.rateBound() && room.roomAt() != null ? Duration.between(left.now(), room.roomAt()) : LIMITED_RETRY;
            if (retryAfter == null || wait.compareTo(retryAfter) < 0) {
                retryAfter = wait;
            }
        }
    }

    /**
     * Tells the worker when to look at the queue again: after {@code retryAfter}, when the first limit that
     * held this claim back frees up, unless due jobs ran out first (a group got fewer jobs than its limits
     * allowed). Otherwise every group took all its limits allowed, so due jobs may wait behind them.
     */
    private void rememberRetry(ClaimParams params, Duration retryAfter, boolean roomLeft) {
        if (retryAfter != null && !roomLeft) {
            retryAt.put(params.queue(), new Retry(System.nanoTime() + Math.max(0, retryAfter.toNanos()), Set.copyOf(params.types())));
        } else {
            retryAt.remove(params.queue());
        }
    }

    private List<ClaimedJob> claimGroup(Connection c, ClaimParams params, Set<String> types, int limit, Instant now,
            boolean fair, JobStatements statements, long byteBudget) throws SQLException {
        ClaimParams group = new ClaimParams(params.queue(), types, limit, params.workerId(), params.leaseToken(),
                params.leaseDuration(), now);
        return fair ? claimFair(c, group, statements, byteBudget) : statements.claim(c, group, byteBudget);
    }

    private void recordStarts(Connection c, List<ClaimedJob> claimed, Map<String, Room> rooms, String queue, Instant now)
            throws SQLException {
        List<String> types = new ArrayList<>();
        List<UUID> ids = new ArrayList<>();
        List<UUID> tokens = new ArrayList<>();
        for (ClaimedJob job : claimed) {
            if (rooms.containsKey(WHOLE_QUEUE)) {
                types.add(WHOLE_QUEUE);
                ids.add(job.id());
                tokens.add(job.leaseToken());
            }
            if (rooms.containsKey(job.type())) {
                types.add(job.type());
                ids.add(job.id());
                tokens.add(job.leaseToken());
            }
        }
        try (PreparedStatement ps = c.prepareStatement(recordStarts)) {
            setInstant(ps, 1, now);
            ps.setArray(2, c.createArrayOf("text", types.stream().map(t -> queue).toArray(String[]::new)));
            ps.setArray(3, c.createArrayOf("text", types.toArray(String[]::new)));
            ps.setArray(4, c.createArrayOf("uuid", ids.toArray(UUID[]::new)));
            ps.setArray(5, c.createArrayOf("uuid", tokens.toArray(UUID[]::new)));
            ps.executeUpdate();
        }
    }

    /**
     * What one fair claim statement did: the jobs to run, its rows (with jobs failed for their size), the
     * last job it took of each key, the next cursor; and, for {@link #handOver}, the first job of each key
     * it took (failed ones too) and the first it locked and did not take.
     */
    private record FairClaim(List<ClaimedJob> jobs, int rows, Map<String, ClaimFloor.Key> highest, String cursor,
            Map<String, ClaimFloor.Key> lowest, Map<String, ClaimFloor.Key> unkept) {}

    /**
     * A fair claim (claim-fair.sql), filled up by the ordinary claim when it took fewer than asked and
     * left some of the byte budget. Each key's walk starts past its {@link FairFloor} while claims from the
     * fair index's front walk dead entries.
     */
    private List<ClaimedJob> claimFair(Connection c, ClaimParams params, JobStatements statements, long byteBudget)
            throws SQLException {
        FairFloor floor = fairFloor(params.queue(), params.types());
        String cursor = cursors.get(params.queue());
        long start = System.nanoTime();
        long since = floor.generation();
        FairFloor.Bounds bounds = floor.bound(cursor);
        boolean wasBounded = floor.isBounded();
        boolean probe = bounds != null && !wasBounded;
        boolean probeAutoCommit = probe && c.getAutoCommit(); // read now: after a failure the connection may not answer
        FairClaim fair = claimFair(c, params, byteBudget, cursor, bounds);
        floor.claimed(bounds, since, start, System.nanoTime() - start, fair.rows(), fair.highest());
        handOver(fair, floor, statements);
        if (probe && fair.jobs().size() < params.limit()) {
            fair = topUpProbe(c, params, byteBudget, cursor, floor, fair, probeAutoCommit, statements);
        }
        long now = System.nanoTime();
        if (!wasBounded && floor.isBounded()) { // a claim (a probe) only switches it on; sweeps switch it off
            floorLog.report(params.queue(), floor, false, true, now);
        }
        if (floor.unboundIfSweepsStalled(now)) {
            floorLog.forget(floor);
            log.warn("no sweep of fair queue {} for keys and jobs its claims past each key's floor miss succeeded for {} s (see "
                    + "the warnings before this); its fair claims walk each key from its first job again, slow as that is while "
                    + "dead entries last", params.queue(), TimeUnit.NANOSECONDS.toSeconds(ClaimFloor.SWEEPS_STALLED_NANOS));
        } else if (floor.startSweep(now)) {
            sweepFair(c, params, floor, statements);
        }
        if (fair.cursor() != null) {
            cursors.put(params.queue(), fair.cursor());
        }
        List<ClaimedJob> claimed = fair.jobs();
        long bytesLeft = byteBudget - JobStatements.payloadBytes(claimed);
        if (claimed.size() < params.limit() && bytesLeft <= 0) {
            statements.markLeftDue(params.queue()); // the budget, not the queue, ended this claim
        }
        if (claimed.size() < params.limit() && bytesLeft > 0) {
            // The fill goes on past what the fair claim took, not over the entries it left dead. (Only when it
            // runs: while fair claims are full, its floor's sweeps would keep finding the backlog before it.)
            fair.highest().values().stream().max(Comparator.naturalOrder())
                    .ifPresent(statements.claimFloor(params.queue(), params.types())::claimedElsewhere);
            boolean autoCommit = c.getAutoCommit(); // read now: after a failure the connection may not answer
            try {
                claimed.addAll(statements.claim(c, new ClaimParams(params.queue(), params.types(),
                        params.limit() - claimed.size(), params.workerId(), params.leaseToken(), params.leaseDuration(),
                        params.now()), bytesLeft));
            } catch (SQLException | RuntimeException e) {
                if (claimed.isEmpty() || !autoCommit) {
                    throw e; // nothing claimed yet, or the fair claim rolls back with the transaction
                }
                log.warn("claimed {} job(s) of fair queue {}, then the claim that fills the rest failed; running those",
                        claimed.size(), params.queue(), e);
                // committed already: returned, not left processing until their leases expire
            }
        }
        return claimed;
    }

    /**
     * A probe (one claim past the floors, to time against the slow claim from the front before it) must not
     * change what a claim returns: with room left, a claim from the front, from the same cursor, takes what
     * the floors hid (a new key, a more urgent job).
     */
    private FairClaim topUpProbe(Connection c, ClaimParams params, long byteBudget, String cursor, FairFloor floor,
            FairClaim probe, boolean autoCommit, JobStatements statements) throws SQLException {
        long bytesLeft = byteBudget - JobStatements.payloadBytes(probe.jobs());
        if (bytesLeft <= 0) {
            return probe;
        }
        ClaimParams rest = new ClaimParams(params.queue(), params.types(), params.limit() - probe.jobs().size(),
                params.workerId(), params.leaseToken(), params.leaseDuration(), params.now());
        long start = System.nanoTime();
        long since = floor.generation();
        FairClaim front;
        try {
            front = claimFair(c, rest, bytesLeft, cursor, null);
        } catch (SQLException | RuntimeException e) {
            if (probe.jobs().isEmpty() || !autoCommit) {
                throw e;
            }
            log.warn("claimed {} job(s) of fair queue {} past its keys' floors, then the claim from the front failed; running those",
                    probe.jobs().size(), params.queue(), e);
            return probe; // committed already: returned, not left processing until their leases expire
        }
        floor.claimed(null, since, start, System.nanoTime() - start, front.rows(), front.highest());
        handOver(front, floor, statements);
        List<ClaimedJob> jobs = new ArrayList<>(probe.jobs());
        jobs.addAll(front.jobs());
        Map<String, ClaimFloor.Key> highest = new HashMap<>(probe.highest());
        front.highest().forEach((key, last) -> highest.merge(key, last, ClaimFloor.Key::later));
        return new FairClaim(jobs, probe.rows() + front.rows(), highest, front.cursor() != null ? front.cursor() : probe.cursor(),
                Map.of(), Map.of()); // each claim's were handed over
    }

    /**
     * Owes {@code floor} what {@code claim}, just reported to it, may have left behind a floor another
     * claim moved: the jobs it locked and did not take, once its locks are gone; and the jobs it took, if
     * its claim transaction rolls back.
     */
    private static void handOver(FairClaim claim, FairFloor floor, JobStatements statements) {
        if (!claim.unkept().isEmpty()) {
            statements.whenClaimLocksGone(() -> floor.owe(claim.unkept(), System.nanoTime()));
        }
        if (!claim.lowest().isEmpty()) {
            statements.onClaimRollback(() -> floor.owe(claim.lowest(), System.nanoTime()));
        }
    }

    /** claim-fair.sql from the fair index's front after {@code cursor}, or past {@code bounds}. */
    private FairClaim claimFair(Connection c, ClaimParams params, long byteBudget, String cursor, FairFloor.Bounds bounds)
            throws SQLException {
        return Transactions.inOne(c, () -> claimFairRows(c, params, byteBudget, cursor, bounds));
    }

    private FairClaim claimFairRows(Connection c, ClaimParams params, long byteBudget, String cursor, FairFloor.Bounds bounds)
            throws SQLException {
        NamedSql statement = bounds == null ? claimFair : claimFairPastFloors;
        try (PreparedStatement ps = c.prepareStatement(statement.jdbc())) {
            NamedSql.Binder binder = statement.bind(ps)
                    .setInstant("now", params.now())
                    .setString("queue", params.queue())
                    .setArray("types", c.createArrayOf("text", params.types().toArray(String[]::new)))
                    .setInt("limit", params.limit())
                    .setLong("byte_budget", byteBudget)
                    .setString("lease_owner", params.workerId())
                    .setObject("lease_token", params.leaseToken())
                    .setLong("lease_micros", TimeUnit.MICROSECONDS.convert(params.leaseDuration()));
            if (bounds == null) {
                binder.setString("cursor", cursor);
            } else {
                List<ClaimFloor.Key> floors = bounds.floors();
                binder.setArray("keys", c.createArrayOf("text", bounds.keys().toArray(String[]::new)))
                        .setArray("floor_priorities", c.createArrayOf("int4",
                                floors.stream().map(ClaimFloor.Key::priority).toArray(Integer[]::new)))
                        .setArray("floor_run_ats", c.createArrayOf("text", // ISO-8601 in UTC, read as timestamptz
                                floors.stream().map(k -> JdbcTime.text(k.runAt())).toArray(String[]::new)))
                        .setArray("floor_ids", c.createArrayOf("uuid", floors.stream().map(ClaimFloor.Key::id).toArray(UUID[]::new)));
            }
            List<ClaimedJob> jobs = new ArrayList<>(params.limit());
            Map<String, ClaimFloor.Key> highest = new HashMap<>();
            Map<String, ClaimFloor.Key> lowest = new HashMap<>();
            Map<String, ClaimFloor.Key> unkept = Map.of();
            String last = null;
            int lastPosition = 0;
            int rows = 0;
            try (ResultSet rs = fairRows(ps)) {
                JobStatements.ClaimedRows decoder = new JobStatements.ClaimedRows(17);
                while (rs.next()) {
                    rows++;
                    lowest.merge(rs.getString(14), new ClaimFloor.Key(rs.getInt(8), instant(rs, 9), JdbcTime.uuid(rs, 1)),
                            ClaimFloor.Key::earlier);
                    if (unkept.isEmpty()) {
                        unkept = unkept(rs);
                    }
                    if (!JobStatements.claimedToRun(rs.getString(16))) {
                        // Failed for its size; not a floor: the byte budget may have left a job of its key before it.
                        continue;
                    }
                    ClaimedJob job = decoder.read(rs);
                    jobs.add(job);
                    String key = rs.getString(14);
                    highest.merge(key, new ClaimFloor.Key(job.priority(), job.runAt(), job.id()), ClaimFloor.Key::later);
                    int position = rs.getInt(15);
                    if (position > lastPosition) {
                        lastPosition = position;
                        last = key;
                    }
                }
            }
            return new FairClaim(jobs, rows, highest, last, lowest, unkept);
        }
    }

    /** The first job of each key that a claim-fair.sql row says its claim locked and did not take; empty on the other rows. */
    private static Map<String, ClaimFloor.Key> unkept(ResultSet rs) throws SQLException {
        Array keys = rs.getArray(19);
        if (keys == null) {
            return Map.of();
        }
        String[] key = (String[]) keys.getArray();
        Integer[] priority = (Integer[]) rs.getArray(20).getArray();
        Long[] runAtMicros = (Long[]) rs.getArray(21).getArray();
        UUID[] id = (UUID[]) rs.getArray(22).getArray();
        Map<String, ClaimFloor.Key> first = new HashMap<>();
        for (int i = 0; i < key.length; i++) {
            Instant runAt = runAtMicros[i] == null ? JdbcTime.NEGATIVE_INFINITY : Instant.EPOCH.plus(runAtMicros[i], ChronoUnit.MICROS);
            first.put(key[i], new ClaimFloor.Key(priority[i], runAt, id[i])); // a due job's run_at: finite, or -infinity
        }
        return first;
    }

    /**
     * Starts {@code floor}'s sweep: each key's first due job, found on a connection of the sweeps' own (or,
     * for tests, on {@code claiming}, now); keys whose floors it moves back are claimed past them next.
     */
    private void sweepFair(Connection claiming, ClaimParams params, FairFloor floor, JobStatements statements)
            throws SQLException {
        String[] types = params.types().toArray(String[]::new);
        statements.sweep(claiming, params.queue(), floor::sweepFailed, c -> {
            long start = System.nanoTime();
            LinkedHashMap<String, ClaimFloor.Key> first = Transactions.inOne(c, () -> sweepRows(c, params, types, floor));
            boolean wasBounded = floor.isBounded();
            long end = System.nanoTime();
            boolean moved = floor.swept(end, end - start, first);
            floorLog.report(params.queue(), floor, wasBounded, floor.isBounded(), end);
            return moved;
        });
    }

    /** Each key's first due job, as claim-fair-sweep.sql finds them, on {@code c}. */
    private LinkedHashMap<String, ClaimFloor.Key> sweepRows(Connection c, ClaimParams params, String[] types, FairFloor floor)
            throws SQLException {
        LinkedHashMap<String, ClaimFloor.Key> first = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement(claimFairSweep.jdbc())) {
            ps.setQueryTimeout(JobStatements.SWEEP_TIMEOUT_SECONDS);
            claimFairSweep.bind(ps)
                    .setInstant("now", params.now())
                    .setString("queue", params.queue())
                    .setArray("types", c.createArrayOf("text", types))
                    .setInt("limit", FairFloor.SWEEP_KEYS)
                    .setString("cursor", floor.sweepFrom());
            try (ResultSet rs = fairRows(ps)) {
                while (rs.next()) {
                    first.put(rs.getString(1), new ClaimFloor.Key(rs.getInt(2), instant(rs, 3), rs.getObject(4, UUID.class)));
                }
            }
        }
        return first;
    }

    /** This store's floors for fair claims of {@code queue} for {@code types}. */
    FairFloor fairFloor(String queue, Set<String> types) {
        return fairFloors.computeIfAbsent(new JobStatements.FloorKey(queue, types), k -> new FairFloor());
    }

    /** Whether this store's fair claims of {@code queue} for {@code types} now start past their keys' floors (tests). */
    boolean fairClaimsPastFloors(String queue, Set<String> types) {
        FairFloor floor = fairFloors.get(new JobStatements.FloorKey(queue, types));
        return floor != null && floor.isBounded();
    }

    // ---- the table -------------------------------------------------------------------------------

    void put(Connection c, PolicyParams params) throws SQLException {
        // One row per key (an upsert cannot touch a row twice): later policies' fields win.
        Map<String, QueuePolicy> byKey = new java.util.TreeMap<>();
        for (QueuePolicy p : params.policies()) {
            byKey.merge(p.queue() + "\u0000" + typeKey(p), p, (a, b) -> new QueuePolicy(b.queue(), b.type(),
                    b.maxRunning() != null ? b.maxRunning() : a.maxRunning(),
                    b.maxStarts() != null ? b.maxStarts() : a.maxStarts(),
                    b.startsPeriod() != null ? b.startsPeriod() : a.startsPeriod(),
                    b.fair() != null ? b.fair() : a.fair()));
        }
        List<QueuePolicy> policies = byKey.values().stream()
                .sorted(Comparator.comparing(QueuePolicy::queue).thenComparing(QueuePolicies::typeKey))
                .toList();
        try (PreparedStatement ps = c.prepareStatement(put.jdbc())) {
            put.bind(ps)
                    .setArray("queue", c.createArrayOf("text", policies.stream().map(QueuePolicy::queue).toArray(String[]::new)))
                    .setArray("job_type", c.createArrayOf("text", policies.stream().map(QueuePolicies::typeKey).toArray(String[]::new)))
                    .setArray("max_running", c.createArrayOf("int4", policies.stream().map(QueuePolicy::maxRunning).toArray(Integer[]::new)))
                    .setArray("max_starts", c.createArrayOf("int4", policies.stream().map(QueuePolicy::maxStarts).toArray(Integer[]::new)))
                    .setArray("starts_micros", c.createArrayOf("int8", policies.stream()
                            .map(p -> p.startsPeriod() == null ? null : TimeUnit.MICROSECONDS.convert(p.startsPeriod()))
                            .toArray(Long[]::new)))
                    .setArray("fair", c.createArrayOf("bool", policies.stream().map(QueuePolicy::fair).toArray(Boolean[]::new)));
            ps.executeUpdate();
        }
        cache = null;
    }

    List<QueuePolicy> list(Connection c) throws SQLException {
        List<QueuePolicy> policies = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(list); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                String type = rs.getString(2);
                Integer maxRunning = (Integer) rs.getObject(3);
                Integer maxStarts = (Integer) rs.getObject(4);
                long micros = rs.getLong(5);
                Duration period = rs.wasNull() ? null : Duration.ofNanos(TimeUnit.MICROSECONDS.toNanos(micros));
                policies.add(new QueuePolicy(rs.getString(1), WHOLE_QUEUE.equals(type) ? null : type,
                        maxRunning, maxStarts, period, rs.getBoolean(6)));
            }
        }
        return policies;
    }

    /** The cached policies, reloaded when older than the refresh interval (or dropped by a change). */
    private Cache current(Connection c) throws SQLException {
        Cache current = cache;
        long now = System.nanoTime();
        if (current != null && now - current.loadedAtNanos() < refreshNanos) {
            return current;
        }
        Map<String, QueuePolicy> whole = new HashMap<>();
        Map<String, Map<String, QueuePolicy>> byType = new HashMap<>();
        for (QueuePolicy policy : list(c)) {
            if (policy.type() == null) {
                whole.put(policy.queue(), policy);
            } else {
                byType.computeIfAbsent(policy.queue(), q -> new HashMap<>()).put(policy.type(), policy);
            }
        }
        Map<String, ForQueue> byQueue = new HashMap<>();
        Set<String> queues = new TreeSet<>(whole.keySet());
        queues.addAll(byType.keySet());
        for (String queue : queues) {
            byQueue.put(queue, new ForQueue(whole.get(queue), Map.copyOf(byType.getOrDefault(queue, Map.of()))));
        }
        Cache loaded = new Cache(Map.copyOf(byQueue), now);
        cache = loaded;
        return loaded;
    }

    private String lockKey(QueuePolicy limit) {
        return "pgqueue.limit:" + schema + ":" + limit.queue() + ":" + typeKey(limit);
    }

    private static String typeKey(QueuePolicy policy) {
        return policy.type() == null ? WHOLE_QUEUE : policy.type();
    }
}
