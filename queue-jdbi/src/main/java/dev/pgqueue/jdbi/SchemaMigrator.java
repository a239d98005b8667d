package dev.pgqueue.jdbi;

import dev.pgqueue.StoreException;
import dev.pgqueue.internal.Check;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.nio.charset.StandardCharsets;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.JdbiException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies pgqueue's versioned migrations ({@code db/pgqueue/migration/V<n>__<name>.sql} in this jar)
 * to one schema, and records them in that schema's {@value #HISTORY_TABLE}.
 *
 * <ul>
 *   <li>Idempotent: versions already recorded are skipped.</li>
 *   <li>Safe when several processes start at once: all pending versions run in one transaction
 *       under a transaction-scoped advisory lock per schema, so one process applies them and the
 *       others find them applied.</li>
 *   <li>Never hangs behind a busy queue: DDL waits at most {@link #lockTimeout(Duration)} for its
 *       table locks, then fails and rolls back (retry later).</li>
 * </ul>
 *
 * The same files work with Flyway ({@code locations=classpath:db/pgqueue/migration}) and by hand in
 * {@code psql}; see the README. Thread-safe.
 */
public final class SchemaMigrator {

    /** The table, in the target schema, that records applied versions. */
    public static final String HISTORY_TABLE = "pgqueue_schema_history";
    /** How long DDL waits for a lock on a busy table by default: 10 s. */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(10);

    /** Every migration in this jar, in order. A new migration is added here and as a file. */
    static final List<String> MIGRATIONS = List.of(
            "V1__create_job_queue.sql",
            "V2__unique_jobs_results_progress.sql",
            "V3__workflows_limits_fairness.sql",
            "V4__harden_sql_and_payload_limit.sql",
            "V5__adoption_keys_and_chains.sql",
            "V7__pause_and_worker_registry.sql");
    static final String LOCATION = "/db/pgqueue/migration/";

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

    private final Jdbi jdbi;
    private final String schema;
    private final Duration lockTimeout;

    private SchemaMigrator(Jdbi jdbi, String schema, Duration lockTimeout) {
        this.jdbi = jdbi;
        this.schema = schema;
        this.lockTimeout = lockTimeout;
    }

    /**
     * A migrator for the {@code job_queue} tables in {@code schema}, with the default lock timeout.
     *
     * @param jdbi the database to migrate; its role needs DDL rights in the schema
     * @param schema the schema to create or upgrade the tables in
     * @return the migrator; nothing has run yet
     * @throws dev.pgqueue.ValidationException if {@code schema} is not a lower-case SQL identifier
     */
    public static SchemaMigrator of(Jdbi jdbi, String schema) {
        return new SchemaMigrator(Check.notNull("jdbi", jdbi), Check.schema("schema", schema), DEFAULT_LOCK_TIMEOUT);
    }

    /**
     * How long DDL may wait for a lock on a busy table before the migration gives up.
     *
     * @param lockTimeout the longest wait; positive
     * @return a copy with that timeout
     */
    public SchemaMigrator lockTimeout(Duration lockTimeout) {
        return new SchemaMigrator(jdbi, schema, Check.positive("lockTimeout", lockTimeout));
    }

    /**
     * The newest version in this jar.
     *
     * @return the latest migration version
     */
    public static int latestVersion() {
        return version(MIGRATIONS.get(MIGRATIONS.size() - 1));
    }

    /**
     * Creates the schema if needed and applies every version not yet recorded there.
     *
     * @return the versions applied by this call (empty if the schema was up to date)
     * @throws StoreException if a migration failed; then nothing of this call was applied
     */
    public List<Integer> migrate() {
        return migrateTo(latestVersion());
    }

    /** Applies the versions up to {@code version} only: what an older pgqueue would (rolling-upgrade tests). */
    List<Integer> migrateTo(int version) {
        try {
            return jdbi.inTransaction(handle -> migrate(handle.getConnection(), version));
        } catch (SQLException | JdbiException e) {
            throw new StoreException("could not migrate schema " + schema + ": " + e.getMessage(), e);
        }
    }

    /**
     * The highest version recorded in the schema, 0 if pgqueue was never migrated there. Needs only
     * read rights, so services that may not run DDL can check what they run against.
     *
     * @return the recorded version, or 0
     */
    public int currentVersion() {
        try {
            return jdbi.withHandle(handle -> {
                Connection c = handle.getConnection();
                if (!historyExists(c)) {
                    return 0;
                }
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery(
                                "SELECT coalesce(pg_catalog.max(version), 0) FROM " + SqlFiles.quote(schema) + "." + HISTORY_TABLE)) {
                    rs.next();
                    return rs.getInt(1);
                }
            });
        } catch (SQLException | JdbiException e) {
            throw new StoreException("could not read the migration history of schema " + schema + ": " + e.getMessage(), e);
        }
    }

    private List<Integer> migrate(Connection c, int target) throws SQLException {
        String quoted = SqlFiles.quote(schema);
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(CAST('pgqueue.migrate' AS text)), pg_catalog.hashtext(CAST(? AS text)))")) {
            lock.setString(1, schema);
            lock.execute();
        }
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL lock_timeout = " + lockTimeout.toMillis());
            if (!schemaExists(c)) {
                st.execute("CREATE SCHEMA " + quoted);
            }
            st.execute("SET LOCAL search_path = " + quoted + ", pg_temp");
            st.execute("CREATE TABLE IF NOT EXISTS " + quoted + "." + HISTORY_TABLE + " ("
                    + " version integer PRIMARY KEY,"
                    + " script text NOT NULL,"
                    + " checksum bigint NOT NULL,"
                    + " applied_at timestamptz NOT NULL DEFAULT now(),"
                    + " applied_by text NOT NULL DEFAULT current_user)");
        }
        Map<Integer, Long> applied = new HashMap<>();
        try (Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT version, checksum FROM " + quoted + "." + HISTORY_TABLE)) {
            while (rs.next()) {
                applied.put(rs.getInt(1), rs.getLong(2));
            }
        }
        List<Integer> appliedNow = new ArrayList<>();
        for (String script : MIGRATIONS) {
            int version = version(script);
            if (version > target) {
                break;
            }
            String sql = SqlFiles.read(LOCATION + script);
            long checksum = checksum(sql);
            Long recorded = applied.get(version);
            if (recorded != null) {
                if (recorded != checksum) {
                    log.warn("migration {} recorded in schema {} differs from the one in this jar (checksum {} vs {})",
                            script, schema, recorded, checksum);
                }
                continue;
            }
            log.info("applying {} to schema {}", script, schema);
            try (Statement st = c.createStatement()) {
                st.execute(sql);
            }
            try (PreparedStatement record = c.prepareStatement(
                    "INSERT INTO " + quoted + "." + HISTORY_TABLE + " (version, script, checksum) VALUES (?, ?, ?)")) {
                record.setInt(1, version);
                record.setString(2, script);
                record.setLong(3, checksum);
                record.executeUpdate();
            }
            appliedNow.add(version);
        }
        return appliedNow;
    }

    private boolean schemaExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = CAST(? AS name)")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private boolean historyExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.to_regclass(CAST(? AS text)) IS NOT NULL")) {
            ps.setString(1, SqlFiles.quote(schema) + "." + HISTORY_TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    static int version(String script) {
        return Integer.parseInt(script.substring(1, script.indexOf("__")));
    }

    private static long checksum(String sql) {
        CRC32 crc = new CRC32();
        crc.update(sql.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }
}
