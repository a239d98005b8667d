package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The optional Supabase policy file ({@code db/pgqueue/optional/supabase-rls.sql}) under real
 * row-level security and {@code SET ROLE}, with Supabase's setup reproduced: roles {@code anon} and
 * {@code authenticated} (here with unique names, roles being cluster-wide, dropped afterwards),
 * Supabase's default privileges set before the migrations run (every table, sequence and function
 * the migrations create is granted to them), and {@code auth.uid()} reading the JWT's subject from
 * {@code request.jwt.claim.sub}. Every pgqueue table and function is found in the catalog and
 * attacked as each role.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SupabaseRlsTest {

    private final TestDatabase db;
    private final String suffix = UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private final String authenticated = "sb_authenticated_" + suffix;
    private final String anon = "sb_anon_" + suffix;
    private final String serviceRole = "sb_service_role_" + suffix;
    private final String auth = "sb_auth_" + suffix;
    private final String producerGroup = "sb_producer_" + suffix;
    private final String workerGroup = "sb_worker_" + suffix;
    private final UUID alice = UUID.randomUUID();
    private final UUID bob = UUID.randomUUID();
    private final RolePools roles;

    record Step(String name) {}

    static final JobType<Step> STEP = JobType.of("step", Step.class);

    SupabaseRlsTest(TestDatabase db) {
        this.db = db;
        this.roles = new RolePools(db);
    }

    @BeforeAll
    void supabase() throws SQLException {
        db.execute("CREATE ROLE " + authenticated + " NOLOGIN");
        db.execute("CREATE ROLE " + anon + " NOLOGIN");
        db.execute("CREATE ROLE " + serviceRole + " NOLOGIN BYPASSRLS");
        db.execute("CREATE SCHEMA " + auth);
        db.execute("CREATE FUNCTION " + auth + ".uid() RETURNS uuid LANGUAGE sql STABLE AS"
                + " $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$");
        db.execute("GRANT USAGE ON SCHEMA " + auth + ", " + db.schema() + " TO " + authenticated + ", " + anon + ", " + serviceRole);
        db.execute("GRANT EXECUTE ON FUNCTION " + auth + ".uid() TO " + authenticated + ", " + anon);
        // What every Supabase project has before pgqueue's migrations run: everything created in the
        // schema by postgres is granted to the API roles.
        String apiRoles = anon + ", " + authenticated + ", " + serviceRole;
        for (String kind : List.of("TABLES", "SEQUENCES", "FUNCTIONS")) {
            db.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA " + db.schema() + " GRANT ALL ON " + kind + " TO " + apiRoles);
        }
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        // A project that also uses the least-privilege roles runs roles.sql first.
        String roles = SqlFiles.read("/db/pgqueue/optional/roles.sql")
                .replace("pgqueue_producer", producerGroup)
                .replace("pgqueue_worker", workerGroup);
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement st = c.createStatement()) {
            st.execute(roles);
        }

        String script = SqlFiles.read("/db/pgqueue/optional/supabase-rls.sql")
                .replace("auth.uid()", auth + ".uid()")
                .replaceAll("\\bauthenticated\\b", authenticated)
                .replaceAll("\\banon\\b", anon)
                .replaceAll("\\bservice_role\\b", serviceRole);
        try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement st = c.createStatement()) {
            st.execute(script);
            st.execute(script); // idempotent
        }
        db.execute("INSERT INTO job_queue (job_type, payload, user_id) VALUES"
                + " ('generate-image', '{\"prompt\": \"alice 1\"}', ?), ('generate-image', '{\"prompt\": \"alice 2\"}', ?),"
                + " ('generate-image', '{\"prompt\": \"bob\"}', ?), ('cleanup', '{}', NULL)", alice, alice, bob);
    }

    @AfterAll
    void dropRoles() {
        roles.close();
        db.execute("DROP SCHEMA " + auth + " CASCADE");
        for (String role : List.of(authenticated, anon, serviceRole, producerGroup, workerGroup)) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }

    /** Runs {@code sql} as {@code role} signed in as {@code user} (null: no JWT), in a rolled-back transaction. */
    private List<String> as(String role, UUID user, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                if (user != null) {
                    try (PreparedStatement claim = c.prepareStatement("SELECT set_config('request.jwt.claim.sub', ?, true)")) {
                        claim.setString(1, user.toString());
                        claim.execute();
                    }
                }
                st.execute("SET LOCAL ROLE " + role);
                List<String> rows = new ArrayList<>();
                if (st.execute(sql)) {
                    try (ResultSet rs = st.getResultSet()) {
                        while (rs.next()) {
                            rows.add(rs.getString(1));
                        }
                    }
                } else {
                    rows.add("updated " + st.getUpdateCount());
                }
                return rows;
            } finally {
                c.rollback();
            }
        }
    }

    @Test
    void aSignedInUser_seesOnlyTheirOwnJobs() throws SQLException {
        assertThat(as(authenticated, alice, "SELECT payload->>'prompt' FROM job_queue ORDER BY 1"))
                .containsExactly("alice 1", "alice 2");
        assertThat(as(authenticated, bob, "SELECT payload->>'prompt' FROM job_queue")).containsExactly("bob");
        assertThat(as(authenticated, UUID.randomUUID(), "SELECT id FROM job_queue")).isEmpty();
        assertThat(as(authenticated, null, "SELECT id FROM job_queue")).as("no JWT, no rows").isEmpty();
        assertThat(as(authenticated, alice, "SELECT payload->>'prompt' FROM job_queue WHERE user_id = '" + bob + "'"))
                .as("asking for another user's jobs by id").isEmpty();
    }

    @Test
    void aSignedInUser_cannotEnqueueChangeOrDeleteJobs_evenTheirOwn() {
        for (String sql : List.of(
                "UPDATE job_queue SET status = 'completed'",
                "UPDATE job_queue SET user_id = '" + alice + "'",
                "DELETE FROM job_queue",
                "INSERT INTO job_queue (job_type, user_id) VALUES ('generate-image', '" + alice + "')",
                "SELECT job_queue_enqueue('generate-image', '{}', user_id => '" + alice + "')",
                "SELECT * FROM pgqueue_schema_history")) {
            assertThatThrownBy(() -> as(authenticated, alice, sql)).as(sql)
                    .isInstanceOf(SQLException.class).hasMessageContaining("permission denied");
        }
    }

    @Test
    void anonymousVisitors_seeNothing() {
        assertThatThrownBy(() -> as(anon, null, "SELECT id FROM job_queue")).hasMessageContaining("permission denied");
    }

    /** Every pgqueue table, view and sequence in the schema, from the catalog (so also ones a later version adds). */
    private List<String> pgqueueRelations() {
        return db.queryForList("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = ? AND (c.relname LIKE 'job\\_queue%' OR c.relname LIKE 'pgqueue\\_%')"
                        + " AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') ORDER BY 1", db.schema())
                .stream().map(r -> (String) r.get("relname")).toList();
    }

    @Test
    void anonAndSignedInUsers_canTouchNoPgqueueTable_butTheirOwnJobsToRead() throws SQLException {
        List<String> relations = pgqueueRelations();
        assertThat(relations).contains("job_queue", "job_queue_dependency", "job_queue_policy", "job_queue_policy_start",
                "pgqueue_schema_history");
        for (String role : List.of(anon, authenticated)) {
            for (String table : relations) {
                String column = (String) db.queryForList("SELECT attname FROM pg_attribute WHERE attrelid = CAST(? AS regclass)"
                        + " AND attnum = 1", db.schema() + "." + table).get(0).get("attname");
                List<String> attacks = new ArrayList<>(List.of(
                        "DELETE FROM " + table,
                        "INSERT INTO " + table + " DEFAULT VALUES",
                        "UPDATE " + table + " SET " + column + " = " + column,
                        "SELECT * FROM " + table + " FOR UPDATE"));
                boolean view = "v".equals(String.valueOf(db.queryForList("SELECT relkind FROM pg_class WHERE oid = CAST(? AS regclass)",
                        db.schema() + "." + table).get(0).get("relkind")));
                if (!view) { // a view cannot be truncated by anyone (42809), whatever its grants
                    attacks.add("TRUNCATE " + table);
                }
                if (!(role.equals(authenticated) && table.equals("job_queue"))) {
                    attacks.add("SELECT count(*) FROM " + table);
                }
                // The admin views (V6, V7) group or join rows, so PostgreSQL may refuse to write through them
                // before it checks privileges: for anyone, "cannot delete from view" (55000) or "not a table" (42809).
                for (String sql : attacks) {
                    List<String> refused = view && !sql.startsWith("SELECT count") ? List.of("42501", "55000", "42809") : List.of("42501");
                    assertThatThrownBy(() -> as(role, alice, sql)).as(role + ": " + sql).isInstanceOf(SQLException.class)
                            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).as(role + ": " + sql).isIn(refused));
                }
            }
        }
        assertThat(db.queryForList("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        + " WHERE n.nspname = ? AND c.relkind = 'r' AND (c.relname LIKE 'job\\_queue%' OR c.relname LIKE 'pgqueue\\_%')"
                        + " AND NOT c.relrowsecurity", db.schema()))
                .as("row-level security is on for every pgqueue table").isEmpty();
        assertThat(db.queryForList("SELECT c.relname, g.grantee FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,"
                        + " LATERAL (SELECT CAST(x.grantee AS regrole)::text AS grantee, x.privilege_type FROM aclexplode(c.relacl) x) g"
                        + " WHERE n.nspname = ? AND (c.relname LIKE 'job\\_queue%' OR c.relname LIKE 'pgqueue\\_%')"
                        + " AND g.grantee IN (?, ?, '-') AND NOT (c.relname = 'job_queue' AND g.grantee = ? AND g.privilege_type = 'SELECT')",
                db.schema(), anon, authenticated, authenticated))
                .as("no privilege left to anon, authenticated or PUBLIC but the documented one").isEmpty();
    }

    @Test
    void anonAndSignedInUsers_canCallNoPgqueueFunction() throws SQLException {
        List<Map<String, Object>> functions = db.queryForList("SELECT p.oid::regprocedure::text AS signature,"
                + " p.prorettype = 'trigger'::regtype AS trigger,"
                + " format('SELECT %I.%I(%s)', n.nspname, p.proname,"
                + "        (SELECT string_agg(format('NULL::%s', CAST(t AS regtype)), ', ' ORDER BY i)"
                + "           FROM unnest(CAST(p.proargtypes AS oid[])) WITH ORDINALITY AS a(t, i))) AS call"
                + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname = ? AND (p.proname LIKE 'job\\_queue%' OR p.proname LIKE 'pgqueue\\_%') ORDER BY 1", db.schema());
        assertThat(functions).extracting(f -> ((String) f.get("signature")).replaceAll("\\(.*", "")).contains(
                "job_queue_enqueue", "job_queue_enqueue_unique", "job_queue_enqueue_after", "job_queue_dependency_finished",
                "job_queue_uuid_v7", "job_queue_channel", "job_queue_max_payload_bytes", "job_queue_check_payload",
                "job_queue_notify_insert", "job_queue_resolve_dependents");
        for (String role : List.of(anon, authenticated)) {
            for (Map<String, Object> function : functions) {
                String signature = (String) function.get("signature");
                assertThat(db.queryForList("SELECT 1 WHERE has_function_privilege(?, CAST(? AS regprocedure), 'EXECUTE')",
                        role, db.schema() + "." + signature)).as(role + " may execute " + signature).isEmpty();
                if (!(Boolean) function.get("trigger")) {
                    String call = (String) function.get("call");
                    assertThatThrownBy(() -> as(role, alice, call)).as(role + ": " + call)
                            .hasMessageContaining("permission denied for function");
                }
            }
        }
    }


    @Test
    void aWorkerConnectedAsTheServiceRole_stillRunsWorkflows() {
        runsAWorkflowUnderALimit(roles.store(serviceRole, db.schema()), roles.store(serviceRole, db.schema()));
    }

    @Test
    void theLeastPrivilegeRoles_stillEnqueueAndRunWorkflows() {
        runsAWorkflowUnderALimit(roles.store(producerGroup, db.schema()), roles.store(workerGroup, db.schema()));
    }

    /** The producer enqueues a job, the worker's store a dependent one (workflows are the worker's), and the worker runs both. */
    private void runsAWorkflowUnderALimit(JdbiJobStore producer, JdbiJobStore store) {
        UUID first = JdbiJobQueue.create(producer).enqueue(STEP, new Step("first"));
        UUID second = JdbiJobQueue.create(store).enqueue(STEP, new Step("second"), EnqueueOptions.defaults().dependsOn(first));
        Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100)).globalConcurrency("default", STEP, 2)
                .handler(STEP, (job, context) -> JobOutcome.done()).build();
        worker.start();
        try {
            await().atMost(Duration.ofSeconds(15)).until(() -> db.queryForLong(
                    "SELECT count(*) FROM job_queue WHERE id IN (?, ?) AND status = 'completed'", first, second) == 2);
        } finally {
            worker.close();
            db.execute("DELETE FROM job_queue WHERE job_type = 'step'");
        }
    }

    @Test
    void theServiceRole_stillEnqueuesAndSeesEverything() throws SQLException {
        assertThat(as(serviceRole, null, "SELECT job_queue_enqueue('generate-image', '{}')")).hasSize(1);
        assertThat(as(serviceRole, null, "SELECT count(*) FROM job_queue")).containsExactly("4");
    }

    @Test
    void theTableOwner_stillSeesEverything() {
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isEqualTo(4);
    }
}
