package dev.pgqueue.bench;

import dev.pgqueue.jdbi.SchemaMigrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * The two tables the raw-JDBC ceiling runs on, with the statements for each. Both are named
 * {@code job_queue} and use the same status values, so that {@link Monitor} counts either.
 */
enum RawTable {

    /**
     * pgqueue's own table, migrated by {@link SchemaMigrator}: the same ids (client-side UUIDv7), claim
     * index, constraints and triggers. The claim sets what pgqueue's claim sets (attempt, processed_at
     * and a lease: owner, token, expiry of {@code Worker.DEFAULT_LEASE_DURATION}), so that the lease
     * check passes and the legacy default-lease trigger stays quiet. It serves the default queue (the
     * claim index starts with the queue) but skips pgqueue's filter on job types.
     */
    PGQUEUE("""
            UPDATE job_queue j
               SET status = 'processing',
                   attempt = j.attempt + 1,
                   processed_at = now(),
                   lease_owner = ?,
                   lease_token = ?,
                   lease_expires_at = now() + interval '60 seconds'
             WHERE j.id IN (SELECT id
                              FROM job_queue
                             WHERE status = 'pending' AND queue = 'default' AND run_at <= now()
                             ORDER BY priority, run_at, id
                             LIMIT ?
                               FOR UPDATE SKIP LOCKED)
            RETURNING j.id, CAST(j.payload AS text)""",
            "UPDATE job_queue SET status = 'completed', completed_at = now() WHERE id = ANY (?)",
            """
            INSERT INTO job_queue (id, job_type, queue, payload, priority, run_at, max_retries, created_at)
            VALUES (?, 'bench-noop', 'default', CAST(? AS jsonb), 0, now(), 3, now())""",
            """
            INSERT INTO job_queue (id, job_type, queue, payload, priority, run_at, max_retries, created_at)
            SELECT t.id, 'bench-noop', 'default', CAST(t.payload AS jsonb), 0, now(), 3, now()
              FROM unnest(CAST(? AS uuid[]), CAST(? AS text[])) AS t(id, payload)""",
            "COPY job_queue (id, job_type, queue, payload, priority, max_retries) FROM STDIN",
            "uuid",
            "attempt",
            "UPDATE job_queue SET status = 'completed', completed_at = now() WHERE id = ?",
            """
            UPDATE job_queue
               SET status = 'pending', retry_count = retry_count + 1, run_at = now(),
                   lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
             WHERE id = ?""") {

        @Override
        void create(String url) {
            SchemaMigrator.of(Jdbi.create(url), "public").migrate();
        }

        @Override
        String channel(Connection c) throws SQLException {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT job_queue_channel()")) {
                rs.next();
                return rs.getString(1);
            }
        }

        @Override
        void bindClaim(PreparedStatement claim, int limit, String owner) throws SQLException {
            claim.setString(1, owner);
            claim.setObject(2, UUID.randomUUID());
            claim.setInt(3, limit);
        }

        @Override
        void bindInsertOne(PreparedStatement insert, String payload) throws SQLException {
            insert.setObject(1, TimeOrderedIds.next());
            insert.setString(2, payload);
        }

        @Override
        void bindInsertMany(Connection c, PreparedStatement insert, List<String> payloads) throws SQLException {
            UUID[] ids = new UUID[payloads.size()];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = TimeOrderedIds.next();
            }
            insert.setArray(1, c.createArrayOf("uuid", ids));
            insert.setArray(2, c.createArrayOf("text", payloads.toArray()));
        }

        @Override
        void appendCopyRow(StringBuilder rows, String payload) {
            rows.append(TimeOrderedIds.next()).append("\tbench-noop\tdefault\t").append(payload).append("\t0\t3\n");
        }
    },

    /**
     * The minimal table of the peer benchmark's raw-SQL reference: bigserial ids, one partial index
     * in claim order, a statement-level insert trigger that NOTIFYs, nothing else.
     */
    MINIMAL("""
            UPDATE job_queue
               SET status = 'processing', locked_at = now(), attempts = attempts + 1
             WHERE id IN (SELECT id
                            FROM job_queue
                           WHERE status = 'pending' AND run_at <= now()
                           ORDER BY priority, run_at, id
                           LIMIT ?
                             FOR UPDATE SKIP LOCKED)
            RETURNING id, CAST(payload AS text)""",
            "UPDATE job_queue SET status = 'completed', finished_at = now() WHERE id = ANY (?)",
            "INSERT INTO job_queue (payload) VALUES (CAST(? AS jsonb))",
            "INSERT INTO job_queue (payload) SELECT CAST(p AS jsonb) FROM unnest(CAST(? AS text[])) AS p",
            "COPY job_queue (payload) FROM STDIN",
            "bigint",
            "attempts",
            "UPDATE job_queue SET status = 'completed', finished_at = now() WHERE id = ?",
            "UPDATE job_queue SET status = 'pending', locked_at = NULL WHERE id = ?") {

        private static final String DDL = """
                CREATE TABLE job_queue (
                    id          bigserial   PRIMARY KEY,
                    queue       text        NOT NULL DEFAULT 'default',
                    payload     jsonb       NOT NULL,
                    status      text        NOT NULL DEFAULT 'pending',
                    priority    integer     NOT NULL DEFAULT 0,
                    run_at      timestamptz NOT NULL DEFAULT now(),
                    attempts    integer     NOT NULL DEFAULT 0,
                    locked_at   timestamptz,
                    finished_at timestamptz,
                    created_at  timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX job_queue_pending_idx ON job_queue (priority, run_at, id) WHERE status = 'pending';
                CREATE FUNCTION job_queue_wake() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    PERFORM pg_notify('job_queue', '');
                    RETURN NULL;
                END
                $$;
                CREATE TRIGGER job_queue_wake AFTER INSERT ON job_queue
                    FOR EACH STATEMENT EXECUTE FUNCTION job_queue_wake();
                """;

        @Override
        void create(String url) throws SQLException {
            try (Connection c = Server.connect(url); Statement st = c.createStatement()) {
                st.execute(DDL);
            }
        }

        @Override
        String channel(Connection c) {
            return "job_queue";
        }

        @Override
        void bindClaim(PreparedStatement claim, int limit, String owner) throws SQLException {
            claim.setInt(1, limit);
        }

        @Override
        void bindInsertOne(PreparedStatement insert, String payload) throws SQLException {
            insert.setString(1, payload);
        }

        @Override
        void bindInsertMany(Connection c, PreparedStatement insert, List<String> payloads) throws SQLException {
            insert.setArray(1, c.createArrayOf("text", payloads.toArray()));
        }

        @Override
        void appendCopyRow(StringBuilder rows, String payload) {
            rows.append(payload).append('\n');
        }
    };

    final String claim;
    final String complete;
    final String insertOne;
    final String insertMany;
    final String copy;
    /** The SQL type of {@code id}, for the completion's array. */
    final String idType;
    /** The column the claim increments: the claimed job's attempt, 1 on its first run. */
    final String attemptColumn;
    /** {@link #claim} also returning the attempt, as its third column (W5). */
    final String claimWithAttempt;
    /** W5: completes one job, inside the transaction that inserted its result. */
    final String completeOne;
    /** W5: hands a job whose attempt failed back as pending, due at once (no backoff). */
    final String retryOne;

    RawTable(String claim, String complete, String insertOne, String insertMany, String copy, String idType,
             String attemptColumn, String completeOne, String retryOne) {
        this.attemptColumn = attemptColumn;
        this.claimWithAttempt = claim + ", " + attemptColumn;
        this.completeOne = completeOne;
        this.retryOne = retryOne;
        this.claim = claim;
        this.complete = complete;
        this.insertOne = insertOne;
        this.insertMany = insertMany;
        this.copy = copy;
        this.idType = idType;
    }

    /** W5's result row, one per job done: no key, so that a duplicate would show. */
    static final String INSERT_RESULT = "INSERT INTO bench_result (job_id) VALUES (?)";

    /** Creates the table in the fresh database at {@code url}. */
    abstract void create(String url) throws SQLException;

    /** The channel the insert trigger NOTIFYs. */
    abstract String channel(Connection c) throws SQLException;

    /** Binds {@link #claim}: at most {@code limit} jobs, leased to {@code owner} where the table has leases. */
    abstract void bindClaim(PreparedStatement claim, int limit, String owner) throws SQLException;

    abstract void bindInsertOne(PreparedStatement insert, String payload) throws SQLException;

    abstract void bindInsertMany(Connection c, PreparedStatement insert, List<String> payloads) throws SQLException;

    /** One line of {@link #copy}'s input, in COPY's text format (no payload needs escaping). */
    abstract void appendCopyRow(StringBuilder rows, String payload);
}
