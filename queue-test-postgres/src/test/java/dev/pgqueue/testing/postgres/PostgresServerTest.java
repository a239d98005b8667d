package dev.pgqueue.testing.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.testing.postgres.PostgresServer.Source;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class PostgresServerTest {

    private static Optional<String> configuredUrl() {
        return Stream.of(System.getProperty(PostgresServer.JDBC_URL_PROPERTY), System.getenv(PostgresServer.JDBC_URL_ENV))
                .filter(Objects::nonNull)
                .map(String::strip)
                .filter(url -> !url.isEmpty())
                .findFirst();
    }

    private static String queryForString(String jdbcUrl, String sql) throws SQLException {
        try (Connection connection = DriverManager.getConnection(jdbcUrl);
             Statement statement = connection.createStatement();
             ResultSet row = statement.executeQuery(sql)) {
            row.next();
            return row.getString(1);
        }
    }

    @Nested
    class Shared {

        @Test
        void shared_isOneServerPerJvm() {
            assertThat(PostgresServer.shared()).isSameAs(PostgresServer.shared());
        }

        @Test
        void shared_usesTheConfiguredUrl_whenOneIsSet() {
            assumeTrue(configuredUrl().isPresent(), "no JDBC URL configured");

            assertThat(PostgresServer.shared().source()).isEqualTo(Source.ENV_URL);
            assertThat(PostgresServer.shared().jdbcUrl()).isEqualTo(configuredUrl().orElseThrow());
        }

        @Test
        void shared_startsAServer_whenNoUrlIsSet() {
            assumeTrue(configuredUrl().isEmpty(), "a JDBC URL is configured");

            assertThat(PostgresServer.shared().source()).isIn(Source.TESTCONTAINERS, Source.EMBEDDED);
        }

        @Test
        void majorVersion_isTheServersMajorVersion() throws SQLException {
            PostgresServer server = PostgresServer.shared();

            String versionNum = queryForString(server.jdbcUrl(), "show server_version_num");

            assertThat(server.majorVersion()).isEqualTo(Integer.parseInt(versionNum) / 10_000).isGreaterThanOrEqualTo(14);
        }

        @Test
        void close_isRefused() {
            assertThatThrownBy(() -> PostgresServer.shared().close())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("stops at JVM exit");
        }

        @Test
        void removeShutdownHook_isRefused() {
            assertThatThrownBy(() -> PostgresServer.shared().removeShutdownHook())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("stops at JVM exit");
        }
    }

    @Nested
    class NewDataSource {

        @Test
        void newDataSource_setsSearchPathAndApplicationName() throws SQLException {
            try (HikariDataSource pool = PostgresServer.shared().newDataSource("some_schema", "pgqueue-test-server", 2);
                 Connection connection = pool.getConnection();
                 Statement statement = connection.createStatement();
                 ResultSet row = statement.executeQuery(
                         "select current_setting('search_path'), current_setting('application_name')")) {
                row.next();
                assertThat(row.getString(1)).isEqualTo("some_schema");
                assertThat(row.getString(2)).isEqualTo("pgqueue-test-server");
                assertThat(pool.getMaximumPoolSize()).isEqualTo(2);
            }
        }

        @Test
        void newDataSource_rejectsASchemaThatIsNotALowercaseIdentifier() {
            for (String schema : new String[] {"Public", "a-b", "1abc", "", "x".repeat(64), null}) {
                assertThatThrownBy(() -> PostgresServer.shared().newDataSource(schema, "app", 1))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessage("expected schema to be a lowercase SQL identifier of at most 63 characters, got: "
                                + schema);
            }
        }

        @Test
        void newDataSource_rejectsAPoolSizeBelowOne() {
            assertThatThrownBy(() -> PostgresServer.shared().newDataSource("s", "app", 0))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expected maxPoolSize to be >= 1, got: 0");
        }

        @Test
        void newDataSource_rejectsABlankApplicationName() {
            assertThatThrownBy(() -> PostgresServer.shared().newDataSource("s", " ", 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("expected applicationName to be non-blank, got:  ");
        }
    }

    /** Runs on every build, also where CI points the shared server at a URL. */
    @Nested
    class StartEmbedded {

        @Test
        void startEmbedded_runsPostgres17_andStopsOnClose() throws SQLException {
            String jdbcUrl;
            try (PostgresServer server = PostgresServer.startEmbedded()) {
                jdbcUrl = server.jdbcUrl();

                assertThat(server.source()).isEqualTo(Source.EMBEDDED);
                assertThat(server.majorVersion()).isEqualTo(17);
                assertThat(queryForString(jdbcUrl, "select version()")).startsWith("PostgreSQL 17.");
                assertThat(queryForString(jdbcUrl, "show server_version")).startsWith("17.");
                assertThat(server).isNotSameAs(PostgresServer.shared());
            }

            assertThatThrownBy(() -> DriverManager.getConnection(jdbcUrl).close()).isInstanceOf(SQLException.class);
        }

        @Test
        void removeShutdownHook_leavesTheServerRunningUntilClosed() throws SQLException {
            String jdbcUrl;
            try (PostgresServer server = PostgresServer.startEmbedded()) {
                jdbcUrl = server.jdbcUrl();

                server.removeShutdownHook();
                server.removeShutdownHook();

                assertThat(queryForString(jdbcUrl, "show server_version")).startsWith("17.");
            }

            assertThatThrownBy(() -> DriverManager.getConnection(jdbcUrl).close()).isInstanceOf(SQLException.class);
        }
    }
}
