package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;

/**
 * {@link JdbcTime} reads timestamps and uuids from the bytes pgjdbc received, text or binary, and
 * reads each as the driver's own {@code getObject} does; "infinity" is eight bytes in text, as long as
 * a binary timestamp, and must not be taken for one.
 */
@PostgresTest
class JdbcTimeTest {

    private static final String VALUES = """
            SELECT CAST(? AS timestamptz), CAST(? AS uuid)""";

    private final TestDatabase db;

    JdbcTimeTest(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-12-06 10:00:00.123456+00", "1999-12-31 23:59:59.999999+00", "infinity", "-infinity",
            "4000-01-01 00:00:00+00", "1900-06-01 12:00:00+00"})
    void readsWhatTheDriverReads_inTextAndInBinary(String timestamp) throws SQLException {
        UUID uuid = UUID.randomUUID();
        for (int prepareThreshold : new int[] {0, -1}) { // 0: never server-prepared (text); -1: binary from the first run
            // A connection of its own: a pooled one may hold the statement prepared already, and answer in binary.
            try (Connection c = DriverManager.getConnection(db.jdbcUrl())) {
                c.unwrap(PGConnection.class).setPrepareThreshold(prepareThreshold);
                try (PreparedStatement ps = c.prepareStatement(VALUES)) {
                    ps.setString(1, timestamp);
                    ps.setObject(2, uuid);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        OffsetDateTime expected = rs.getObject(1, OffsetDateTime.class);
                        Instant read = JdbcTime.instant(rs, 1);
                        assertThat(read).as("%s with prepareThreshold %d", timestamp, prepareThreshold)
                                .isEqualTo(expected.toInstant());
                        assertThat(JdbcTime.uuid(rs, 2)).isEqualTo(uuid);
                    }
                }
            }
        }
    }
}
