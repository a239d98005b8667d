package dev.pgqueue.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * PROTOTYPE (issue 18): what both prototypes share. A ring of {@link #SEGMENTS} list partitions per
 * table ({@code <table>_<s>}, partition key {@code seg smallint}); the segment new rows go to is a
 * cycling sequence ({@code <prefix>_current}, read with {@code SELECT last_value}, so no hot row);
 * a segment is emptied with {@code TRUNCATE} under a short {@link Prototype#LOCK_TIMEOUT}, retried
 * on the next maintenance round when a reader holds it. Jobs due later wait in {@code <prefix>_deferred}
 * (an ordinary table: only scheduled jobs and retries with a backoff pass through it) and are
 * promoted when due.
 */
abstract class SegmentRing implements Prototype {

    static final int SEGMENTS = 8;

    final String prefix;
    /** The segment rows go to now (this JVM's copy of the sequence's value). */
    volatile short current = 0;
    private long segmentStarted = System.nanoTime();
    private final long segmentNanos;
    /** Per segment and table: whether it was truncated since it was last current (true: nothing in it). */
    final boolean[][] empty;
    final List<String> ringTables;
    final AtomicLong truncations = new AtomicLong();
    final AtomicLong lockTimeouts = new AtomicLong();
    final AtomicInteger rotations = new AtomicInteger();

    SegmentRing(String prefix, List<String> ringTables, long segmentMillis) {
        this.prefix = prefix;
        this.ringTables = ringTables;
        this.segmentNanos = segmentMillis * 1_000_000L;
        this.empty = new boolean[SEGMENTS][ringTables.size()];
        for (int s = 1; s < SEGMENTS; s++) {
            java.util.Arrays.fill(empty[s], true);
        }
    }

    @Override
    public List<String> tables() {
        return List.of(prefix + "\\_%");
    }

    /** Columns of a ring table after {@code seg smallint NOT NULL}, and what to index, by table. */
    abstract String columns(String table);

    /** Statements run after a ring table's partitioned parent is created (indexes, keys). */
    abstract List<String> afterCreate(String table);

    @Override
    public void create(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("CREATE SEQUENCE " + prefix + "_job_id");
            st.execute("CREATE SEQUENCE " + prefix + "_current MINVALUE 0 MAXVALUE " + (SEGMENTS - 1) + " START 0 CYCLE");
            st.execute("SELECT nextval('" + prefix + "_current')"); // 0, and is_called: the next rotation goes to 1
            for (String table : ringTables) {
                st.execute("CREATE TABLE " + table + " (seg smallint NOT NULL, " + columns(table) + ") PARTITION BY LIST (seg)");
                for (String sql : afterCreate(table)) {
                    st.execute(sql);
                }
                for (int s = 0; s < SEGMENTS; s++) {
                    st.execute("CREATE TABLE " + table + "_" + s + " PARTITION OF " + table + " FOR VALUES IN (" + s + ")");
                }
            }
            st.execute("CREATE TABLE " + prefix + "_deferred (id bigint PRIMARY KEY DEFAULT nextval('" + prefix + "_job_id'), "
                    + "jid bigint, queue text NOT NULL DEFAULT 'default', job_type text NOT NULL, "
                    + "priority smallint NOT NULL DEFAULT 0, run_at timestamptz NOT NULL, attempt int NOT NULL DEFAULT 1, "
                    + "payload jsonb NOT NULL)");
            st.execute("CREATE INDEX ON " + prefix + "_deferred (run_at)");
        }
    }

    /** SQL for the current segment, read inside the statement that writes. */
    String currentSql() {
        return "(SELECT last_value FROM " + prefix + "_current)::smallint";
    }

    /** Whether it is time to rotate: the segment is older than its period. */
    boolean due() {
        return System.nanoTime() - segmentStarted >= segmentNanos;
    }

    /**
     * Moves writes to the next segment if every table's partition there is empty; returns whether it
     * did. Writers that read the old value a moment ago still write to the old segment: the
     * truncation's check under its lock sees their rows.
     */
    boolean rotate(Connection c) throws SQLException {
        int next = (current + 1) % SEGMENTS;
        for (boolean e : empty[next]) {
            if (!e) {
                return false;
            }
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT nextval('" + prefix + "_current')")) {
            rs.next();
            short value = rs.getShort(1);
            if (value != next) {
                throw new IllegalStateException("the segment sequence went to " + value + ", expected " + next);
            }
        }
        java.util.Arrays.fill(empty[next], false);
        current = (short) next;
        segmentStarted = System.nanoTime();
        rotations.incrementAndGet();
        return true;
    }

    /**
     * Truncates the partitions {@code tables} (indexes into {@link #ringTables}) of segment {@code s}
     * together if {@code closedSql} (a query returning one boolean, run before and again under the
     * lock) says they hold nothing still needed. The lock is taken with {@link Prototype#LOCK_TIMEOUT}:
     * a reader holding one of them makes this give up until the next round, never queue the claim
     * behind it for long. Returns whether it truncated.
     */
    boolean truncateIfClosed(Connection c, int s, int[] tables, String closedSql) throws SQLException {
        if (!query(c, closedSql)) {
            return false;
        }
        StringBuilder names = new StringBuilder();
        for (int t : tables) {
            names.append(names.length() == 0 ? "" : ", ").append(ringTables.get(t)).append('_').append(s);
        }
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
            st.execute("LOCK TABLE " + names + " IN ACCESS EXCLUSIVE MODE");
            if (!query(c, closedSql)) {
                c.rollback();
                return false;
            }
            st.execute("TRUNCATE " + names);
            c.commit();
            for (int t : tables) {
                empty[s][t] = true;
            }
            truncations.incrementAndGet();
            return true;
        } catch (SQLException e) {
            c.rollback();
            if ("55P03".equals(e.getSQLState())) { // lock_not_available: a reader holds it; next round
                lockTimeouts.incrementAndGet();
                return false;
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Binds parameters 1-3 to the arrays of {@code jobs}' segments, ids and lease tokens. */
    static void bindJobs(Connection c, PreparedStatement ps, List<Claimed> jobs) throws SQLException {
        ps.setArray(1, c.createArrayOf("int2", jobs.stream().map(Claimed::seg).toArray()));
        ps.setArray(2, c.createArrayOf("int8", jobs.stream().map(Claimed::id).toArray()));
        ps.setArray(3, c.createArrayOf("uuid", jobs.stream().map(Claimed::token).toArray()));
    }

    static boolean query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Inserts scheduled jobs into the deferred table. */
    void enqueueDeferred(Connection c, int jobs, long stamp, short priority, int delaySeconds) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + prefix + "_deferred (job_type, priority, run_at, payload) "
                + "SELECT 'bench-noop', ?, now() + make_interval(secs => ?), CAST(? AS jsonb) FROM generate_series(1, ?)")) {
            ps.setShort(1, priority);
            ps.setInt(2, delaySeconds);
            ps.setString(3, new Stamp(stamp).json());
            ps.setInt(4, jobs);
            ps.executeUpdate();
        }
    }

    /**
     * Moves due deferred jobs into {@code target} (a ring table taking seg, id, jid, queue, job_type,
     * priority, attempt, payload); returns the priorities promoted (lanes the claim must look at).
     */
    List<Short> promote(Connection c, String target) throws SQLException {
        List<Short> priorities = new java.util.ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                WITH due AS (
                    DELETE FROM %1$s_deferred WHERE id IN (
                        SELECT id FROM %1$s_deferred WHERE run_at <= now() ORDER BY run_at LIMIT 1000 FOR UPDATE SKIP LOCKED)
                    RETURNING *)
                INSERT INTO %2$s (seg, id, jid, queue, job_type, priority, attempt, payload)
                SELECT %3$s, id, coalesce(jid, id), queue, job_type, priority, attempt, payload FROM due
                RETURNING priority""".formatted(prefix, target, currentSql()))) {
            while (rs.next()) {
                priorities.add(rs.getShort(1));
            }
        }
        return priorities;
    }

    @Override
    public String toString() {
        return name() + "[segment " + current + ", rotations " + rotations + ", truncations " + truncations
                + ", lock timeouts " + lockTimeouts + "]";
    }
}
