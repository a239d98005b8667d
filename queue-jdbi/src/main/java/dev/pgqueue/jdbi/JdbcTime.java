package dev.pgqueue.jdbi;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;

/**
 * The one place where an {@link Instant} crosses JDBC, so that every statement binds and reads
 * {@code timestamptz} the same way: as an {@link OffsetDateTime} in UTC, which the driver sends with
 * its offset, whatever the session's or the JVM's time zone (a {@code java.sql.Timestamp} would be
 * read in the JVM's zone).
 */
final class JdbcTime {

    private JdbcTime() {}

    static void setInstant(PreparedStatement ps, int index, Instant instant) throws SQLException {
        if (instant == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else {
            ps.setObject(index, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        }
    }

    static Instant instant(ResultSet rs, int index) throws SQLException {
        OffsetDateTime value = rs.getObject(index, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }
}
