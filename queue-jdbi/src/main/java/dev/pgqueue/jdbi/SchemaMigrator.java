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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * The same files can be applied by the application's Flyway (with a history table of their own),
 * by Liquibase ({@code db/pgqueue/changelog.xml}) or by a DBA in {@code psql} ({@link #pendingSql()});
 * {@link #verify()} then checks the schema by its objects, whoever applied them. See
 * docs/schema-ownership.md. Thread-safe.
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
            "V6__admin_history_and_operations.sql",
            "V7__pause_and_worker_registry.sql",
            "V8__trace_context.sql",
            "V9__cheap_queue_stats.sql",
            "V10__payload_limit_per_row.sql",
            "V11__rights_on_v6_and_v7_objects_for_existing_roles.sql",
            "V12__history_append_function.sql",
            "V13__cheaper_insert_notify.sql",
            "V14__inlined_payload_limit_for_claims.sql",
            "V15__inlined_history_append.sql");
    static final String LOCATION = "/db/pgqueue/migration/";

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

    /**
     * One migration in this jar.
     *
     * @param version its version, the number after {@code V} in its file name
     * @param script its file name, e.g. {@code V1__create_job_queue.sql}
     * @param sql its SQL, as in the file: objects are created in the first schema on
     *     {@code search_path}
     */
    public record Migration(int version, String script, String sql) {}

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
     * Every migration in this jar, in version order: the files that Flyway, Liquibase or a DBA apply
     * when pgqueue does not migrate its schema itself.
     *
     * @return the migrations, oldest first
     */
    public static List<Migration> migrations() {
        List<Migration> migrations = new ArrayList<>();
        for (String script : MIGRATIONS) {
            migrations.add(new Migration(version(script), script, SqlFiles.read(LOCATION + script)));
        }
        return List.copyOf(migrations);
    }

    /**
     * The SQL that {@link #migrate()} would run now, as one script a DBA can review and run in
     * {@code psql} with a role that may run DDL: in one transaction, it creates the schema and the
     * history table if needed, applies each migration not yet recorded in this schema's
     * {@value #HISTORY_TABLE} (every one, where pgqueue never recorded any: they are safe to run
     * again) and records it, so that later {@code migrate()} calls find it applied. Needs only read
     * rights. Empty if every migration is recorded.
     *
     * @return the script, or an empty string
     * @throws StoreException if the history could not be read
     */
    public String pendingSql() {
        return script(schema, recordedVersions().keySet(), lockTimeout);
    }

    /**
     * Every migration in this jar as one script for {@code schema}, as {@link #pendingSql()} writes it
     * for a database pgqueue was never applied to; needs no database.
     *
     * @param schema the schema the script creates the tables in
     * @return the script
     * @throws dev.pgqueue.ValidationException if {@code schema} is not a lower-case SQL identifier
     */
    public static String script(String schema) {
        return script(Check.schema("schema", schema), Set.of(), DEFAULT_LOCK_TIMEOUT);
    }

    private static String script(String schema, Set<Integer> applied, Duration lockTimeout) {
        String quoted = SqlFiles.quote(schema);
        StringBuilder script = new StringBuilder();
        for (Migration migration : migrations()) {
            if (applied.contains(migration.version())) {
                continue;
            }
            if (script.length() == 0) {
                script.append("-- pgqueue migrations for schema ").append(schema).append(", up to version ").append(latestVersion())
                        .append(", in one transaction: psql -v ON_ERROR_STOP=1 -f this-file.sql\n")
                        .append("BEGIN;\n")
                        .append("SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext(CAST('pgqueue.migrate' AS text)), ")
                        .append("pg_catalog.hashtext(CAST('").append(schema).append("' AS text)));\n")
                        .append("SET LOCAL lock_timeout = ").append(lockTimeout.toMillis()).append(";\n")
                        .append("CREATE SCHEMA IF NOT EXISTS ").append(quoted).append(";\n")
                        .append("SET LOCAL search_path = ").append(quoted).append(", pg_temp;\n")
                        .append(historyDdl(quoted)).append(";\n");
            }
            script.append("\n-- ---- ").append(migration.script()).append(" ----\n")
                    .append(migration.sql().strip()).append('\n')
                    .append("INSERT INTO ").append(quoted).append('.').append(HISTORY_TABLE)
                    .append(" (version, script, checksum) VALUES (").append(migration.version()).append(", '")
                    .append(migration.script()).append("', ").append(checksum(migration.sql()))
                    .append(") ON CONFLICT (version) DO NOTHING;\n");
        }
        return script.length() == 0 ? "" : script.append("\nCOMMIT;\n").toString();
    }

    /**
     * Checks that the schema holds what this pgqueue needs, whoever migrated it: every table, column,
     * index, named constraint, trigger and function that pgqueue's migrations create, with each
     * function's body the one the newest migration gave it (or a newer pgqueue's). Needs only read
     * rights. A store built with {@code migrate(false)} runs this.
     *
     * @throws StoreException naming what is missing or outdated and how to migrate, if the schema is
     *     not ready
     */
    public void verify() {
        verify(latestVersion());
    }

    /** {@link #verify()} for the pgqueue whose newest migration is {@code version} (rolling-upgrade tests). */
    void verify(int version) {
        List<String> problems;
        try {
            problems = jdbi.withHandle(handle -> differences(handle.getConnection(), version));
        } catch (SQLException | JdbiException e) {
            throw new StoreException("could not check schema " + schema + ": " + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            int recorded = currentVersion();
            throw new StoreException("schema " + schema + " is not ready for this pgqueue (migrations V1 to V" + version
                    + (recorded > 0 ? "; V" + recorded + " recorded in " + HISTORY_TABLE : "") + "): "
                    + String.join("; ", problems)
                    + ". Apply pgqueue's migrations with a role that may run DDL: SchemaMigrator.migrate(), the"
                    + " application's Flyway or Liquibase, or SchemaMigrator.pendingSql() in psql"
                    + " (see docs/schema-ownership.md)");
        }
    }

    private List<String> differences(Connection c, int version) throws SQLException {
        if (!schemaExists(c)) {
            return List.of("the schema does not exist");
        }
        Map<String, String> files = new java.util.LinkedHashMap<>();
        for (Migration migration : migrations()) {
            files.put(migration.script(), migration.sql());
        }
        MigrationCatalog expected = MigrationCatalog.read(files, version);
        List<String> problems = new ArrayList<>();
        Set<String> tables = names(c, "SELECT c.relname FROM pg_catalog.pg_class c"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = CAST(? AS name) AND c.relkind IN ('r', 'p')");
        if (!tables.contains("job_queue")) {
            return List.of("it has no job_queue table: pgqueue's migrations were never applied here");
        }
        missing(problems, "table", expected.tables(), tables);
        missing(problems, "column", expected.columns(), names(c, "SELECT c.relname || '.' || a.attname FROM pg_catalog.pg_attribute a"
                + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = CAST(? AS name) AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped"));
        missing(problems, "index", expected.indexes(), names(c, "SELECT c.relname FROM pg_catalog.pg_class c"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = CAST(? AS name) AND c.relkind IN ('i', 'I')"));
        missing(problems, "constraint", expected.constraints(), names(c, "SELECT con.conname FROM pg_catalog.pg_constraint con"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = con.connamespace WHERE n.nspname = CAST(? AS name)"));
        missing(problems, "trigger", expected.triggers(), names(c, "SELECT c.relname || '.' || t.tgname FROM pg_catalog.pg_trigger t"
                + " JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = CAST(? AS name) AND NOT t.tgisinternal"));
        Map<String, List<String>> bodies = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT p.proname, p.prosrc FROM pg_catalog.pg_proc p"
                + " JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = CAST(? AS name)")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    bodies.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
                }
            }
        }
        missing(problems, "function", expected.functions(), bodies.keySet());
        for (String function : expected.functions()) {
            List<String> found = bodies.getOrDefault(function, List.of());
            if (found.isEmpty()) {
                continue;
            }
            Integer outdated = null;
            for (String body : found) {
                outdated = expected.outdatedBody(function, body, version);
                if (outdated == null) {
                    break;
                }
            }
            if (outdated != null) {
                problems.add("function " + function + " is the one of V" + outdated + ", replaced by a later migration");
            }
        }
        return problems;
    }

    private static void missing(List<String> problems, String kind, Set<String> expected, Set<String> found) {
        List<String> absent = expected.stream().filter(name -> !found.contains(name)).toList();
        if (!absent.isEmpty()) {
            problems.add("missing " + kind + (absent.size() > 1 ? "s " : " ") + String.join(", ", absent));
        }
    }

    private Set<String> names(Connection c, String sql) throws SQLException {
        Set<String> names = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
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
        return recordedVersions().keySet().stream().mapToInt(Integer::intValue).max().orElse(0);
    }

    /** Version to checksum, as recorded in the history table; empty if there is none. */
    private Map<Integer, Long> recordedVersions() {
        try {
            return jdbi.withHandle(handle -> {
                Connection c = handle.getConnection();
                Map<Integer, Long> recorded = new HashMap<>();
                if (!historyExists(c)) {
                    return recorded;
                }
                try (Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SELECT version, checksum FROM " + SqlFiles.quote(schema) + "." + HISTORY_TABLE)) {
                    while (rs.next()) {
                        recorded.put(rs.getInt(1), rs.getLong(2));
                    }
                }
                return recorded;
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
            st.execute(historyDdl(quoted));
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

    private static String historyDdl(String quotedSchema) {
        return "CREATE TABLE IF NOT EXISTS " + quotedSchema + "." + HISTORY_TABLE + " ("
                + " version integer PRIMARY KEY,"
                + " script text NOT NULL,"
                + " checksum bigint NOT NULL,"
                + " applied_at timestamptz NOT NULL DEFAULT now(),"
                + " applied_by text NOT NULL DEFAULT current_user)";
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

    static long checksum(String sql) {
        CRC32 crc = new CRC32();
        crc.update(sql.getBytes(StandardCharsets.UTF_8));
        return crc.getValue();
    }
}
