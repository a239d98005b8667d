package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * PROTOTYPE (issue 18), design B, "status tables in rotating partitions": a job moves between
 * tables by status, as rows are deleted from one and inserted into the next, but every table is a
 * ring of list partitions by time segment ({@link #SEGMENT_MILLIS}), and a segment that holds
 * nothing live any more is truncated. {@code rot_pending} holds due jobs (scheduled ones wait in
 * {@code rot_deferred}); the claim deletes the first ones in (priority, run_at, id) order and
 * inserts them into {@code rot_active} (lease token, lease expiry) in the current segment; a
 * completion deletes the active row, fenced by its token, and appends to {@code rot_done}. A retry
 * or rescue deletes the active row and inserts the next attempt into pending (or deferred).
 *
 * <p>Dead tuples are still made (each claim and completion deletes a row), but only in the newest
 * segments: once the claim has moved past a segment it is empty and truncated, dead index entries
 * and all, whatever the xmin horizon. So the dead entries a claim walks over are bounded by one
 * segment's worth of claims, not by how long vacuum is held off. Done rows are kept for the ring's
 * length and truncated with their segment (retention as a whole-partition operation).
 */
final class RotatingPrototype extends SegmentRing {

    static final String NAME = "proto-rotate";
    private static final String PENDING = "rot_pending";
    private static final String ACTIVE = "rot_active";
    private static final String DONE = "rot_done";
    static final long SEGMENT_MILLIS = 2_000;
    static final int RESCUE_ROUNDS = 40;

    private int round;

    RotatingPrototype() {
        this(SEGMENT_MILLIS);
    }

    /** With segments of {@code segmentMillis} instead of the default (tests). */
    RotatingPrototype(long segmentMillis) {
        super("rot", List.of(PENDING, ACTIVE, DONE), segmentMillis);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    String columns(String table) {
        String job = "id bigint NOT NULL DEFAULT nextval('rot_job_id'), jid bigint, queue text NOT NULL DEFAULT 'default', "
                + "job_type text NOT NULL, priority smallint NOT NULL DEFAULT 0, attempt int NOT NULL DEFAULT 1, payload jsonb NOT NULL";
        return switch (table) {
            case PENDING -> job + ", run_at timestamptz NOT NULL DEFAULT now()";
            case ACTIVE -> job + ", token uuid NOT NULL, lease_expires_at timestamptz NOT NULL";
            case DONE -> "id bigint NOT NULL, jid bigint NOT NULL, attempt int NOT NULL, outcome text NOT NULL, "
                    + "finished_at timestamptz NOT NULL DEFAULT now()";
            default -> throw new IllegalArgumentException(table);
        };
    }

    @Override
    List<String> afterCreate(String table) {
        return switch (table) {
            case PENDING -> List.of("CREATE INDEX ON rot_pending (queue, priority, run_at, id)",
                    "ALTER TABLE rot_pending ADD PRIMARY KEY (id, seg)");
            case ACTIVE -> List.of("ALTER TABLE rot_active ADD PRIMARY KEY (id, seg)");
            case DONE -> List.of();
            default -> throw new IllegalArgumentException(table);
        };
    }

    @Override
    public void enqueue(Connection c, int jobs, long stamp, short priority, int delaySeconds) throws SQLException {
        if (delaySeconds > 0) {
            enqueueDeferred(c, jobs, stamp, priority, delaySeconds);
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO rot_pending (seg, job_type, priority, payload) "
                + "SELECT " + currentSql() + ", 'bench-noop', ?, CAST(? AS jsonb) FROM generate_series(1, ?)")) {
            ps.setShort(1, priority);
            ps.setString(2, new Stamp(stamp).json());
            ps.setInt(3, jobs);
            ps.executeUpdate();
        }
    }

    private final String claim = """
            WITH c AS (
                SELECT seg, id FROM rot_pending
                 WHERE queue = 'default' AND run_at <= now()
                 ORDER BY priority, run_at, id LIMIT ? FOR UPDATE SKIP LOCKED),
            d AS (DELETE FROM rot_pending p WHERE p.id = ANY (ARRAY(SELECT id FROM c)) RETURNING p.*),
            a AS (
                INSERT INTO rot_active (seg, id, jid, queue, job_type, priority, attempt, payload, token, lease_expires_at)
                SELECT %s, id, coalesce(jid, id), queue, job_type, priority, attempt, payload, ?, now() + make_interval(secs => %d)
                  FROM d
                RETURNING seg, id, priority, payload)
            SELECT seg, id, CAST(payload AS text) FROM a ORDER BY priority, id""".formatted(currentSql(), LEASE_SECONDS);

    @Override
    public List<Claimed> claim(Connection c, int limit) throws SQLException {
        UUID token = UUID.randomUUID();
        List<Claimed> claimed = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(claim)) {
            ps.setInt(1, limit);
            ps.setObject(2, token);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    claimed.add(new Claimed(rs.getShort(1), rs.getLong(2), token, Stamp.parse(rs.getString(3))));
                }
            }
        }
        return claimed;
    }

    private final String complete = """
            WITH d AS (
                DELETE FROM rot_active a
                 USING unnest(CAST(? AS smallint[]), CAST(? AS bigint[]), CAST(? AS uuid[])) AS x(seg, id, token)
                 WHERE a.id = ANY (CAST(? AS bigint[])) AND a.seg = x.seg AND a.id = x.id AND a.token = x.token
                RETURNING a.id, a.jid, a.attempt)
            INSERT INTO rot_done (seg, id, jid, attempt, outcome) SELECT %s, id, jid, attempt, 'completed' FROM d"""
            .formatted(currentSql());

    @Override
    public int complete(Connection c, List<Claimed> jobs) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(complete)) {
            bindJobs(c, ps, jobs);
            // the ids again: an index condition on every partition's key
            ps.setArray(4, c.createArrayOf("int8", jobs.stream().map(Claimed::id).toArray()));
            return ps.executeUpdate();
        }
    }

    /** Ends the attempts {@code endedCte} deleted from rot_active (returning their rows) and writes each next attempt. */
    private String nextAttempt(String endedCte, String outcome, boolean later) {
        String insert = later
                ? "INSERT INTO rot_deferred (jid, queue, job_type, priority, run_at, attempt, payload) "
                + "SELECT jid, queue, job_type, priority, now() + make_interval(secs => ?), attempt + 1, payload FROM ended"
                : "INSERT INTO rot_pending (seg, jid, queue, job_type, priority, attempt, payload) "
                + "SELECT " + currentSql() + ", jid, queue, job_type, priority, attempt + 1, payload FROM ended";
        return "WITH ended AS (" + endedCte + "), "
                + "logged AS (INSERT INTO rot_done (seg, id, jid, attempt, outcome) SELECT " + currentSql()
                + ", id, jid, attempt, '" + outcome + "' FROM ended) "
                + insert;
    }

    @Override
    public boolean retry(Connection c, Claimed job, int delaySeconds) throws SQLException {
        String ended = "DELETE FROM rot_active WHERE seg = ? AND id = ? AND token = ? RETURNING *";
        try (PreparedStatement ps = c.prepareStatement(nextAttempt(ended, "failed", delaySeconds > 0))) {
            ps.setShort(1, job.seg());
            ps.setLong(2, job.id());
            ps.setObject(3, job.token());
            if (delaySeconds > 0) {
                ps.setInt(4, delaySeconds);
            }
            return ps.executeUpdate() == 1;
        }
    }

    @Override
    public void maintain(Connection c) throws SQLException {
        round++;
        promote(c, PENDING);
        if (round % RESCUE_ROUNDS == 0) {
            try (Statement st = c.createStatement()) {
                st.executeUpdate(nextAttempt("DELETE FROM rot_active WHERE lease_expires_at < now() RETURNING *", "rescued", false));
            }
        }
        int next = (current + 1) % SEGMENTS;
        if (due() && !empty[next][2]) {
            // retention: the oldest done segment goes when its segment comes round again
            truncateIfClosed(c, next, new int[] {2}, "SELECT true");
        }
        if (due()) {
            rotate(c);
        }
        // oldest first; per table, stop at the first segment still holding something
        boolean pendingOpen = false;
        boolean activeOpen = false;
        for (int k = 1; k < SEGMENTS; k++) {
            int s = (current + k) % SEGMENTS;
            if (!pendingOpen && !empty[s][0]) {
                pendingOpen = !truncateIfClosed(c, s, new int[] {0}, "SELECT NOT EXISTS (SELECT 1 FROM rot_pending_" + s + ")");
            }
            if (!activeOpen && !empty[s][1]) {
                activeOpen = !truncateIfClosed(c, s, new int[] {1}, "SELECT NOT EXISTS (SELECT 1 FROM rot_active_" + s + ")");
            }
        }
    }

    @Override
    public long unfinished(Connection c) throws SQLException {
        return count(c, "SELECT (SELECT count(*) FROM rot_pending) + (SELECT count(*) FROM rot_active) "
                + "+ (SELECT count(*) FROM rot_deferred)");
    }
}
