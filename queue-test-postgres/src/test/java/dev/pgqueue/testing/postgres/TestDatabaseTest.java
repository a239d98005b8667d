package dev.pgqueue.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Drives the lifecycle by hand, without {@link PostgresExtension}. */
class TestDatabaseTest {

    private final List<TestDatabase> databases = new ArrayList<>();

    @AfterEach
    void closeDatabases() {
        databases.forEach(TestDatabase::close);
    }

    private TestDatabase create(Class<?> testClass) {
        TestDatabase database = TestDatabase.create(testClass);
        databases.add(database);
        return database;
    }

    /** Asked on a connection of its own, outside the database under test. */
    private static boolean schemaExists(String schema) throws SQLException {
        try (Connection connection = PostgresServer.shared().connect();
             PreparedStatement statement = connection.prepareStatement(
                     "select exists (select from pg_namespace where nspname = ?)")) {
            statement.setString(1, schema);
            try (ResultSet row = statement.executeQuery()) {
                row.next();
                return row.getBoolean(1);
            }
        }
    }

    static class AClassWithAVeryLongNameThatWouldNotFitIntoAPostgresIdentifierOnItsOwnAtAll {
    }

    @Nested
    class Create {

        @Test
        void create_makesASchemaNamedAfterTheTestClass() throws SQLException {
            TestDatabase database = create(TestDatabaseTest.class);

            assertThat(database.schema()).matches("t_testdatabasetest_[a-z0-9]{6}");
            assertThat(schemaExists(database.schema())).isTrue();
        }

        @Test
        void create_givesEachDatabaseItsOwnSchema() throws SQLException {
            TestDatabase first = create(TestDatabaseTest.class);
            TestDatabase second = create(TestDatabaseTest.class);

            assertThat(first.schema()).isNotEqualTo(second.schema());
            assertThat(schemaExists(first.schema())).isTrue();
            assertThat(schemaExists(second.schema())).isTrue();
        }

        @Test
        void create_cutsALongClassNameToFitAnIdentifier() throws SQLException {
            TestDatabase database = create(AClassWithAVeryLongNameThatWouldNotFitIntoAPostgresIdentifierOnItsOwnAtAll.class);

            assertThat(database.schema())
                    .hasSize(63)
                    .matches("t_aclasswithaverylongnamethatwouldnotfitintoapostgreside_[a-z0-9]{6}");
            assertThat(schemaExists(database.schema())).isTrue();
        }

        @Test
        void create_namesAnAnonymousClassSchemaAnonymous() {
            Object anonymous = new Object() {
            };

            assertThat(create(anonymous.getClass()).schema()).matches("t_anonymous_[a-z0-9]{6}");
        }
    }

    @Nested
    class Connections {

        @Test
        void dataSource_connectsWithTheSchemaAsSearchPath() {
            TestDatabase database = create(TestDatabaseTest.class);

            database.execute("create table job (id int)");

            assertThat(database.queryForList("select current_schema() as schema, current_setting('application_name') as app"))
                    .containsExactly(Map.of("schema", database.schema(), "app", TestDatabase.APPLICATION_NAME));
            assertThat(database.queryForLong(
                    "select count(*) from information_schema.tables where table_schema = ? and table_name = 'job'",
                    database.schema()))
                    .isEqualTo(1);
            assertThat(database.dataSource()).isSameAs(database.dataSource());
            assertThat(database.dataSource().getMaximumPoolSize()).isEqualTo(TestDatabase.MAX_POOL_SIZE);
        }

        @Test
        void jdbcUrl_connectsWithTheSchemaAsSearchPath() throws SQLException {
            TestDatabase database = create(TestDatabaseTest.class);

            try (Connection connection = DriverManager.getConnection(database.jdbcUrl());
                 ResultSet row = connection.createStatement().executeQuery("select current_schema()")) {
                row.next();
                assertThat(row.getString(1)).isEqualTo(database.schema());
            }
        }

        @Test
        void newDataSource_letsATestTerminateOnlyItsOwnBackends() throws SQLException {
            TestDatabase database = create(TestDatabaseTest.class);
            String applicationName = "pgqueue-test-" + database.schema();
            HikariDataSource victims = database.newDataSource(applicationName, 2);

            try (Connection first = victims.getConnection(); Connection second = victims.getConnection()) {
                assertThat(database.queryForLong(
                        "select count(*) from pg_stat_activity where application_name = ?", applicationName))
                        .isEqualTo(2);

                List<Map<String, Object>> terminated = database.queryForList(
                        "select pg_terminate_backend(pid) as terminated from pg_stat_activity where application_name = ?",
                        applicationName);

                assertThat(terminated).containsExactly(Map.of("terminated", true), Map.of("terminated", true));
                for (Connection terminatedConnection : List.of(first, second)) {
                    assertThatThrownBy(() -> terminatedConnection.createStatement().execute("select 1"))
                            .isInstanceOf(SQLException.class);
                }
            }
            assertThat(database.queryForLong("select 1")).isEqualTo(1);
        }
    }

    @Nested
    class Conveniences {

        @Test
        void execute_returnsTheNumberOfChangedRows() {
            TestDatabase database = create(TestDatabaseTest.class);

            assertThat(database.execute("create table job (id int, name text)")).isZero();
            assertThat(database.execute("insert into job values (?, ?), (?, ?)", 1, "a", 2, "b")).isEqualTo(2);
            assertThat(database.execute("update job set name = ? where id = ?", "c", 2)).isEqualTo(1);
            assertThat(database.execute("select * from job")).isZero();
        }

        @Test
        void execute_reportsTheFailedStatement() {
            TestDatabase database = create(TestDatabaseTest.class);

            assertThatThrownBy(() -> database.execute("insert into missing values (1)"))
                    .isInstanceOf(UncheckedSQLException.class)
                    .hasMessageStartingWith("insert into missing values (1) failed: ERROR: relation \"missing\" does not exist")
                    .satisfies(e -> assertThat(((UncheckedSQLException) e).getCause().getSQLState()).isEqualTo("42P01"));
        }

        @Test
        void queryForLong_returnsTheNumberInTheOnlyRow() {
            TestDatabase database = create(TestDatabaseTest.class);

            assertThat(database.queryForLong("select ?::int + 1", 41)).isEqualTo(42);
            assertThat(database.queryForLong("select count(*) from pg_namespace where nspname = ?", database.schema()))
                    .isEqualTo(1);
        }

        @Test
        void queryForLong_failsUnlessExactlyOneNumber() {
            TestDatabase database = create(TestDatabaseTest.class);

            assertThatThrownBy(() -> database.queryForLong("select 1 where false"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("expected one row from select 1 where false, got: none");
            assertThatThrownBy(() -> database.queryForLong("select generate_series(1, 2)"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("expected one row from select generate_series(1, 2), got: several");
            assertThatThrownBy(() -> database.queryForLong("select null"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("expected a number from select null, got: null");
        }

        @Test
        void queryForList_returnsEachRowAsColumnsInOrder() {
            TestDatabase database = create(TestDatabaseTest.class);
            database.execute("create table job (id int, name text)");
            database.execute("insert into job values (1, 'a'), (2, null)");

            List<Map<String, Object>> rows = database.queryForList("select id, name from job where id >= ? order by id", 1);

            Map<String, Object> withNull = new HashMap<>();
            withNull.put("id", 2);
            withNull.put("name", null);
            assertThat(rows).containsExactly(Map.of("id", 1, "name", "a"), withNull);
            assertThat(rows.get(0).keySet()).containsExactly("id", "name");
        }
    }

    @Nested
    class Close {

        @Test
        void close_closesItsPoolsAndDropsTheSchema() throws SQLException {
            TestDatabase database = TestDatabase.create(TestDatabaseTest.class);
            database.execute("create table job (id int)");
            database.execute("insert into job values (1)");
            HikariDataSource main = database.dataSource();
            HikariDataSource extra = database.newDataSource("pgqueue-test-extra", 1);
            extra.getConnection().close();

            database.close();

            assertThat(main.isClosed()).isTrue();
            assertThat(extra.isClosed()).isTrue();
            assertThat(schemaExists(database.schema())).isFalse();
        }

        @Test
        void close_doesNothingTheSecondTime() {
            TestDatabase database = TestDatabase.create(TestDatabaseTest.class);

            database.close();
            database.close();

            assertThatThrownBy(database::dataSource)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("TestDatabase " + database.schema() + " is closed");
        }
    }
}
