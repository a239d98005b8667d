package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PROTOTYPE (issue 18), design A, "receipts": no row is ever updated or deleted on the hot path.
 * A job (one attempt) is written once into {@code rcpt_ready}; a claim appends a row to
 * {@code rcpt_receipt} (lease token, lease expiry); a completion appends a row to
 * {@code rcpt_closure}, fenced by the receipt's token and by the closure's primary key (an attempt
 * closes once: completed, failed or rescued, whichever comes first). A retry, or a rescue of an
 * expired lease, closes the attempt and writes the next attempt as a new ready row (same
 * {@code jid}, attempt + 1). All three tables are rings of list partitions by segment; a segment is
 * truncated, the three tables together, once every job in it is closed.
 *
 * <p>The claim finds unclaimed jobs without walking claimed ones: per lane (priority) the claimer
 * keeps a low-water mark, the highest id it claimed, and reads {@code id > low} in id order with an
 * anti-join to the receipts. A job whose enqueue committed after younger ones were claimed (a long
 * enqueuing transaction) lies below the mark: a sweep (the last seconds every round, everything
 * open every {@link #FULL_SWEEP_ROUNDS}) finds such jobs and lowers the mark. The marks live in this
 * JVM here; a full build would keep them in sequences ({@code setval}, no dead tuples) and guard each
 * lane's claim with an advisory lock so that several processes can claim.
 */
final class ReceiptRingPrototype extends SegmentRing {

    static final String NAME = "proto-receipts";
    private static final String READY = "rcpt_ready";
    private static final String RECEIPT = "rcpt_receipt";
    private static final String CLOSURE = "rcpt_closure";
    /** A segment takes this long of writes before the next one starts. */
    static final long SEGMENT_MILLIS = 10_000;
    static final int FULL_SWEEP_ROUNDS = 240;
    static final int RESCUE_ROUNDS = 40;

    /** Per priority lane of the queue "default": the low-water mark (every job with a lower id is known claimed). */
    private final Map<Short, AtomicLong> lanes = new ConcurrentSkipListMap<>();
    /** The marks of the last rounds, so that the short sweep starts a few seconds back. */
    private final java.util.ArrayDeque<Map<Short, Long>> history = new java.util.ArrayDeque<>();
    private int round;

    ReceiptRingPrototype() {
        this(SEGMENT_MILLIS);
    }

    /** With segments of {@code segmentMillis} instead of the default (tests). */
    ReceiptRingPrototype(long segmentMillis) {
        super("rcpt", List.of(READY, RECEIPT, CLOSURE), segmentMillis);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    String columns(String table) {
        return switch (table) {
            case READY -> "id bigint NOT NULL DEFAULT nextval('rcpt_job_id'), jid bigint, queue text NOT NULL DEFAULT 'default', "
                    + "job_type text NOT NULL, priority smallint NOT NULL DEFAULT 0, attempt int NOT NULL DEFAULT 1, "
                    + "payload jsonb NOT NULL, enqueued_at timestamptz NOT NULL DEFAULT now()";
            case RECEIPT -> "job_id bigint NOT NULL, token uuid NOT NULL, claimed_at timestamptz NOT NULL DEFAULT now(), "
                    + "lease_expires_at timestamptz NOT NULL";
            case CLOSURE -> "job_id bigint NOT NULL, token uuid NOT NULL, outcome text NOT NULL, "
                    + "closed_at timestamptz NOT NULL DEFAULT now()";
            default -> throw new IllegalArgumentException(table);
        };
    }

    @Override
    List<String> afterCreate(String table) {
        return switch (table) {
            case READY -> List.of("CREATE INDEX ON rcpt_ready (queue, priority, id)");
            case RECEIPT -> List.of("ALTER TABLE rcpt_receipt ADD PRIMARY KEY (seg, job_id)");
            case CLOSURE -> List.of("ALTER TABLE rcpt_closure ADD PRIMARY KEY (seg, job_id)");
            default -> throw new IllegalArgumentException(table);
        };
    }

    private AtomicLong lane(short priority) {
        return lanes.computeIfAbsent(priority, p -> new AtomicLong(0));
    }

    @Override
    public void enqueue(Connection c, int jobs, long stamp, short priority, int delaySeconds) throws SQLException {
        lane(priority);
        if (delaySeconds > 0) {
            enqueueDeferred(c, jobs, stamp, priority, delaySeconds);
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rcpt_ready (seg, job_type, priority, payload) "
                + "SELECT " + currentSql() + ", 'bench-noop', ?, CAST(? AS jsonb) FROM generate_series(1, ?)")) {
            ps.setShort(1, priority);
            ps.setString(2, new Stamp(stamp).json());
            ps.setInt(3, jobs);
            ps.executeUpdate();
        }
    }

    private static final String CLAIM = """
            WITH c AS (
                SELECT j.seg, j.id, j.payload FROM rcpt_ready j
                 WHERE j.queue = 'default' AND j.priority = ? AND j.id > ?
                   AND NOT EXISTS (SELECT 1 FROM rcpt_receipt r WHERE r.seg = j.seg AND r.job_id = j.id OFFSET 0)
                 ORDER BY j.id LIMIT ?),
            r AS (
                INSERT INTO rcpt_receipt (seg, job_id, token, lease_expires_at)
                SELECT seg, id, ?, now() + make_interval(secs => %d) FROM c
                ON CONFLICT DO NOTHING
                RETURNING seg, job_id)
            SELECT r.seg, r.job_id, CAST(c.payload AS text) FROM r JOIN c ON c.seg = r.seg AND c.id = r.job_id
             ORDER BY r.job_id""".formatted(LEASE_SECONDS);

    @Override
    public List<Claimed> claim(Connection c, int limit) throws SQLException {
        List<Claimed> claimed = new ArrayList<>();
        UUID token = UUID.randomUUID();
        try (PreparedStatement ps = c.prepareStatement(CLAIM)) {
            for (Map.Entry<Short, AtomicLong> lane : lanes.entrySet()) {
                if (claimed.size() >= limit) {
                    break;
                }
                long low = lane.getValue().get();
                ps.setShort(1, lane.getKey());
                ps.setLong(2, low);
                ps.setInt(3, limit - claimed.size());
                ps.setObject(4, token);
                long high = low;
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(2);
                        claimed.add(new Claimed(rs.getShort(1), id, token, Stamp.parse(rs.getString(3))));
                        high = Math.max(high, id);
                    }
                }
                lane.getValue().compareAndSet(low, high); // a sweep that lowered the mark meanwhile wins
            }
        }
        return claimed;
    }

    private static final String COMPLETE = """
            INSERT INTO rcpt_closure (seg, job_id, token, outcome)
            SELECT r.seg, r.job_id, r.token, 'completed'
              FROM unnest(CAST(? AS smallint[]), CAST(? AS bigint[]), CAST(? AS uuid[])) AS d(seg, job_id, token)
             CROSS JOIN LATERAL (SELECT r.seg, r.job_id, r.token FROM rcpt_receipt r
                                  WHERE r.seg = d.seg AND r.job_id = d.job_id AND r.token = d.token OFFSET 0) r
            ON CONFLICT DO NOTHING""";

    @Override
    public int complete(Connection c, List<Claimed> jobs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(COMPLETE)) {
            bindJobs(c, ps, jobs);
            return ps.executeUpdate();
        }
    }

    /** Closes the attempts {@code closedCte} returns (seg, job_id) and writes each one's next attempt. */
    private String nextAttempt(String closedCte, boolean later) {
        String insert = later
                ? "INSERT INTO rcpt_deferred (jid, queue, job_type, priority, run_at, attempt, payload) "
                + "SELECT coalesce(j.jid, j.id), j.queue, j.job_type, j.priority, now() + make_interval(secs => ?), j.attempt + 1, j.payload"
                : "INSERT INTO rcpt_ready (seg, jid, queue, job_type, priority, attempt, payload) "
                + "SELECT " + currentSql() + ", coalesce(j.jid, j.id), j.queue, j.job_type, j.priority, j.attempt + 1, j.payload";
        return "WITH closed AS (" + closedCte + ") " + insert
                + " FROM closed JOIN rcpt_ready j ON j.seg = closed.seg AND j.id = closed.job_id RETURNING priority";
    }

    @Override
    public boolean retry(Connection c, Claimed job, int delaySeconds) throws SQLException {
        String closed = "INSERT INTO rcpt_closure (seg, job_id, token, outcome) SELECT r.seg, r.job_id, r.token, 'failed' "
                + "FROM rcpt_receipt r WHERE r.seg = ? AND r.job_id = ? AND r.token = ? ON CONFLICT DO NOTHING RETURNING seg, job_id";
        try (PreparedStatement ps = c.prepareStatement(nextAttempt(closed, delaySeconds > 0))) {
            ps.setShort(1, job.seg());
            ps.setLong(2, job.id());
            ps.setObject(3, job.token());
            if (delaySeconds > 0) {
                ps.setInt(4, delaySeconds);
            }
            try (ResultSet rs = ps.executeQuery()) {
                boolean closedIt = false;
                while (rs.next()) {
                    lane(rs.getShort(1));
                    closedIt = true;
                }
                return closedIt;
            }
        }
    }

    @Override
    public void maintain(Connection c) throws SQLException {
        round++;
        for (short p : promote(c, READY)) {
            lane(p);
        }
        sweep(c, round % FULL_SWEEP_ROUNDS == 0);
        if (round % RESCUE_ROUNDS == 0) {
            rescue(c);
        }
        if (due()) {
            rotate(c);
        }
        // oldest first: the segment after the current one is the next to be written
        for (int k = 1; k < SEGMENTS; k++) {
            int s = (current + k) % SEGMENTS;
            if (!empty[s][0] && !truncateIfClosed(c, s, new int[] {0, 1, 2}, "SELECT (SELECT count(*) FROM rcpt_ready_" + s
                    + ") = (SELECT count(*) FROM rcpt_closure_" + s + ")")) {
                break; // segments close roughly in order: the next ones wait for this one
            }
        }
    }

    /**
     * Finds jobs below a lane's mark that no receipt covers (their enqueue committed late) and lowers
     * the mark below them. The short sweep looks back to the mark of about 3 s ago; the full one at
     * everything still in the ring.
     */
    private void sweep(Connection c, boolean full) throws SQLException {
        Map<Short, Long> now = new java.util.HashMap<>();
        lanes.forEach((p, low) -> now.put(p, low.get()));
        history.addLast(now);
        if (history.size() > 12) {
            history.removeFirst();
        }
        Map<Short, Long> back = history.peekFirst();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT min(j.id) FROM rcpt_ready j
                 WHERE j.queue = 'default' AND j.priority = ? AND j.id > ? AND j.id <= ?
                   AND NOT EXISTS (SELECT 1 FROM rcpt_receipt r WHERE r.seg = j.seg AND r.job_id = j.id OFFSET 0)""")) {
            for (Map.Entry<Short, AtomicLong> lane : lanes.entrySet()) {
                long mark = lane.getValue().get();
                long from = full ? 0 : back.getOrDefault(lane.getKey(), 0L);
                if (from >= mark) {
                    continue;
                }
                ps.setShort(1, lane.getKey());
                ps.setLong(2, from);
                ps.setLong(3, mark);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    long straggler = rs.getLong(1);
                    if (!rs.wasNull()) {
                        lane.getValue().accumulateAndGet(straggler - 1, Math::min);
                    }
                }
            }
        }
    }

    /** Closes attempts whose lease expired without a closure ("rescued") and writes their next attempt. */
    private void rescue(Connection c) throws SQLException {
        String closed = """
                INSERT INTO rcpt_closure (seg, job_id, token, outcome)
                SELECT r.seg, r.job_id, r.token, 'rescued' FROM rcpt_receipt r
                 WHERE r.lease_expires_at < now()
                   AND NOT EXISTS (SELECT 1 FROM rcpt_closure x WHERE x.seg = r.seg AND x.job_id = r.job_id)
                 LIMIT 1000
                ON CONFLICT DO NOTHING RETURNING seg, job_id""";
        try (PreparedStatement ps = c.prepareStatement(nextAttempt(closed, false)); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                lane(rs.getShort(1));
            }
        }
    }

    @Override
    public long unfinished(Connection c) throws SQLException {
        return count(c, "SELECT (SELECT count(*) FROM rcpt_ready) - (SELECT count(*) FROM rcpt_closure) "
                + "+ (SELECT count(*) FROM rcpt_deferred)");
    }
}
