package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The optional Supabase policy file ({@code db/pgqueue/optional/supabase-rls.sql}) under real
 * row-level security and {@code SET ROLE}, with Supabase's setup reproduced: roles {@code anon} and
 * {@code authenticated} (here with unique names, roles being cluster-wide) holding every privilege
 * on the table as Supabase's default privileges give them, and {@code auth.uid()} reading the JWT's
 * subject from {@code request.jwt.claim.sub}.
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
    private final UUID alice = UUID.randomUUID();
    private final UUID bob = UUID.randomUUID();

    SupabaseRlsTest(TestDatabase db) {
        this.db = db;
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
        JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        db.execute("GRANT ALL ON job_queue, pgqueue_schema_history TO " + authenticated + ", " + anon + ", " + serviceRole);

        String script = SqlFiles.read("/db/pgqueue/optional/supabase-rls.sql")
                .replace("auth.uid()", auth + ".uid()")
                .replace("authenticated", authenticated)
                .replace("anon", anon);
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
        db.execute("DROP SCHEMA " + auth + " CASCADE");
        for (String role : List.of(authenticated, anon, serviceRole)) {
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
