package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A Supabase project that upgrades pgqueue: it ran the migrations of an older pgqueue (V5) and then
 * {@code supabase-rls.sql}, as the docs say, and now applies this pgqueue's newer migrations, with
 * Supabase's default privileges still in force (every new table, view, sequence and function in the
 * schema granted to {@code anon}, {@code authenticated} and {@code service_role}). Until the project
 * runs {@code supabase-rls.sql} again, the API roles must not have gained anything: a view runs with
 * its owner's rights, so a view granted to {@code anon} shows every user's jobs.
 *
 * <p>The migrations take such grants back by the roles' literal names, so this test creates roles of
 * exactly those names (roles are cluster-wide): it runs only where the cluster has none of them and
 * drops them afterwards; on a Supabase cluster of a developer's own it is skipped, saying so.
 */
@PostgresTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SupabaseUpgradeRightsTest {

    private static final List<String> API_ROLES = List.of("anon", "authenticated", "service_role");
    /** The version a project ran supabase-rls.sql on before upgrading. */
    private static final int OLDER_VERSION = 5;

    private final TestDatabase db;
    private final String auth = "sb_up_auth_" + UUID.randomUUID().toString().substring(0, 8).toLowerCase(Locale.ROOT);
    private boolean createdRoles;

    SupabaseUpgradeRightsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    void aSupabaseProjectOnAnOlderPgqueue() throws SQLException {
        long existing = db.queryForLong("SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')");
        Assumptions.assumeTrue(existing == 0, "this cluster has its own anon, authenticated or service_role role;"
                + " the test creates and drops roles of those names, so it runs only on a cluster without them");
        for (String role : API_ROLES) {
            db.execute("CREATE ROLE " + role + " NOLOGIN" + (role.equals("service_role") ? " BYPASSRLS" : ""));
        }
        createdRoles = true;
        db.execute("CREATE SCHEMA " + auth);
        db.execute("CREATE FUNCTION " + auth + ".uid() RETURNS uuid LANGUAGE sql STABLE AS"
                + " $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$");
        db.execute("GRANT USAGE ON SCHEMA " + auth + ", " + db.schema() + " TO anon, authenticated, service_role");
        db.execute("GRANT EXECUTE ON FUNCTION " + auth + ".uid() TO anon, authenticated");
        for (String kind : List.of("TABLES", "SEQUENCES", "FUNCTIONS")) {
            db.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA " + db.schema() + " GRANT ALL ON " + kind
                    + " TO anon, authenticated, service_role");
        }
        Jdbi jdbi = Jdbi.create(db.dataSource());
        SchemaMigrator.of(jdbi, db.schema()).migrateTo(OLDER_VERSION);
        try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            runSupabaseRls(c);
        }
        SchemaMigrator.of(jdbi, db.schema()).migrate();
    }

    @AfterAll
    void dropRoles() {
        if (!createdRoles) {
            return;
        }
        db.execute("DROP SCHEMA " + auth + " CASCADE");
        db.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA " + db.schema() + " REVOKE ALL ON TABLES FROM anon, authenticated, service_role");
        db.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA " + db.schema() + " REVOKE ALL ON SEQUENCES FROM anon, authenticated, service_role");
        db.execute("ALTER DEFAULT PRIVILEGES IN SCHEMA " + db.schema() + " REVOKE ALL ON FUNCTIONS FROM anon, authenticated, service_role");
        for (String role : API_ROLES) {
            db.execute("DROP OWNED BY " + role + " CASCADE");
            db.execute("DROP ROLE " + role);
        }
    }

    @Test
    void theUpgrade_grantsTheApiRolesNothing_thatSupabaseRlsWouldTakeBack() throws SQLException {
        Set<String> gained;
        try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            c.setAutoCommit(false);
            try {
                Set<String> afterUpgrade = apiRoleRights(c);
                runSupabaseRls(c); // rolled back below: the other test attacks the upgraded schema as it is
                gained = new TreeSet<>(afterUpgrade);
                gained.removeAll(apiRoleRights(c));
            } finally {
                c.rollback();
            }
        }
        assertThat(gained).as("rights the API roles and PUBLIC held on pgqueue objects after the upgrade,"
                + " which supabase-rls.sql takes back: the migrations must not leave them").isEmpty();
    }

    @Test
    void afterTheUpgrade_anonAndSignedInUsers_cannotReadTheAdminViews_norCallTheAdminFunctions() {
        for (String role : List.of("anon", "authenticated")) {
            for (String view : List.of("job_queue_stats", "job_queue_failure_groups", "job_queue_workers")) {
                assertThatThrownBy(() -> as(role, "SELECT count(*) FROM " + view)).as(role + " reads " + view)
                        .hasMessageContaining("permission denied");
            }
            for (String call : List.of("job_queue_delete_jobs(ARRAY[gen_random_uuid()])",
                    "job_queue_retry(ARRAY[gen_random_uuid()])", "job_queue_cancel_jobs(ARRAY[gen_random_uuid()])",
                    "job_queue_pause('default')", "job_queue_resume('default')")) {
                assertThatThrownBy(() -> as(role, "SELECT " + call)).as(role + " calls " + call)
                        .hasMessageContaining("permission denied");
            }
        }
    }

    /**
     * Every right that anon, authenticated or PUBLIC holds on a pgqueue table, view or sequence here, and
     * every right they hold on a pgqueue function but PUBLIC's on one that runs with its caller's rights
     * (PostgreSQL's default for every function, which a worker role of the deployment's own may rely
     * on; such a function can do nothing its caller could not).
     */
    private static Set<String> apiRoleRights(Connection c) throws SQLException {
        String sql = """
                SELECT c.relname || ' ' || coalesce(r.rolname, 'PUBLIC') || ' ' || a.privilege_type
                  FROM pg_catalog.pg_class c
                 CROSS JOIN LATERAL pg_catalog.aclexplode(c.relacl) a
                  LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
                 WHERE c.relnamespace = CAST(current_schema() AS regnamespace)
                   AND (c.relname LIKE 'job\\_queue%' OR c.relname LIKE 'pgqueue\\_%')
                   AND (a.grantee = 0 OR r.rolname IN ('anon', 'authenticated'))
                UNION ALL
                SELECT CAST(CAST(p.oid AS regprocedure) AS text) || ' ' || coalesce(r.rolname, 'PUBLIC') || ' ' || a.privilege_type
                  FROM pg_catalog.pg_proc p
                 CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) a
                  LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
                 WHERE p.pronamespace = CAST(current_schema() AS regnamespace)
                   AND (p.proname LIKE 'job\\_queue%' OR p.proname LIKE 'pgqueue\\_%')
                   AND ((a.grantee = 0 AND p.prosecdef) OR r.rolname IN ('anon', 'authenticated'))
                """;
        Set<String> rights = new TreeSet<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                rights.add(rs.getString(1));
            }
        }
        return rights;
    }

    private void runSupabaseRls(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(SqlFiles.read("/db/pgqueue/optional/supabase-rls.sql").replace("auth.uid()", auth + ".uid()"));
        }
    }

    private void as(String role, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL ROLE " + role);
                st.execute(sql);
            } finally {
                c.rollback();
            }
        }
    }
}
