package dev.pgqueue.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.testing.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The benchmark's databases on a server that others use too: a run creates and drops only databases
 * of its own. Runs against the test server (PGQUEUE_TEST_JDBC_URL, else an embedded one); every
 * database name carries a random suffix, since databases are cluster-wide.
 */
class ServerTest {

    private static final String ADMIN_URL = PostgresServer.shared().jdbcUrl();

    private final String system = "lifecycle" + Integer.toHexString(ThreadLocalRandom.current().nextInt(1 << 24));
    private final Plan.Case measurement = new Plan.Case("w1", system, (url, run) -> List.of());
    /** The name every run used before: {@code bench_<system>_<workload>}. */
    private final String oldName = ("bench_" + system + "_w1").toLowerCase(Locale.ROOT);
    /** Databases this test made itself, dropped after it. */
    private final List<String> ours = new ArrayList<>();

    @AfterEach
    void dropOurs() throws SQLException {
        for (String database : ours) {
            execute(ADMIN_URL, "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    @Test
    void fresh_leavesAnotherDatabaseOfTheOldNameUntouched_andDropsItsOwnOnClose() throws Exception {
        createWithMarker(oldName);

        String runDatabase;
        try (Server server = Server.open(ADMIN_URL)) {
            try (Server.Fresh database = server.fresh(measurement.database())) {
                runDatabase = query(database.url(), "SELECT current_database()");
                execute(database.url(), "CREATE TABLE bench_probe (id int)"); // the database is usable
            }
            assertThat(databaseExists(runDatabase)).as("the run's database %s after its measurement", runDatabase).isFalse();
        }

        assertThat(runDatabase).isNotEqualTo(oldName).startsWith("bench_").endsWith("_" + system + "_w1");
        assertThat(databaseExists(oldName)).as("someone else's %s", oldName).isTrue();
        assertThat(query(Server.withDatabase(ADMIN_URL, oldName), "SELECT note FROM someone_elses_data"))
                .isEqualTo("keep me");
    }

    @Test
    void close_dropsTheRunsDatabasesThatAMeasurementLeftBehind() throws Exception {
        String runDatabase;
        try (Server server = Server.open(ADMIN_URL)) {
            Server.Fresh leftOpen = server.fresh(measurement.database());
            runDatabase = leftOpen.name();
            assertThat(databaseExists(runDatabase)).isTrue();
        }

        assertThat(databaseExists(runDatabase)).isFalse();
    }

    @Test
    void fresh_whenTheRunsOwnNameIsTaken_failsAndDropsNothing() throws Exception {
        try (Server server = Server.open(ADMIN_URL)) {
            String taken = server.runPrefix() + measurement.database();
            createWithMarker(taken);

            assertThatThrownBy(() -> server.fresh(measurement.database()))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("already exists");
            assertThat(databaseExists(taken)).isTrue();
        }

        String taken = ours.get(0);
        assertThat(databaseExists(taken)).as("after the run closed").isTrue();
        assertThat(query(Server.withDatabase(ADMIN_URL, taken), "SELECT note FROM someone_elses_data")).isEqualTo("keep me");
    }

    @Test
    void runPrefix_differsBetweenRuns() {
        try (Server one = Server.open(ADMIN_URL); Server two = Server.open(ADMIN_URL)) {
            assertThat(one.runPrefix()).matches("bench_[0-9a-f]{8}_").isNotEqualTo(two.runPrefix());
        }
    }

    private void createWithMarker(String database) throws SQLException {
        execute(ADMIN_URL, "CREATE DATABASE " + database);
        ours.add(database);
        String url = Server.withDatabase(ADMIN_URL, database);
        execute(url, "CREATE TABLE someone_elses_data (note text)");
        execute(url, "INSERT INTO someone_elses_data VALUES ('keep me')");
    }

    private static boolean databaseExists(String database) throws SQLException {
        return query(ADMIN_URL, "SELECT count(*) FROM pg_database WHERE datname = '" + database + "'").equals("1");
    }

    private static void execute(String url, String sql) throws SQLException {
        try (Connection c = Server.connect(url); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String query(String url, String sql) throws SQLException {
        try (Connection c = Server.connect(url); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
