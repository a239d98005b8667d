package dev.pgqueue.jdbi;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.UUID;
import org.postgresql.PGResultSetMetaData;

/**
 * The one place where an {@link Instant} crosses JDBC, so that every statement binds and reads
 * {@code timestamptz} the same way: as an {@link OffsetDateTime} in UTC, which the driver sends with
 * its offset, whatever the session's or the JVM's time zone (a {@code java.sql.Timestamp} would be
 * read in the JVM's zone); read, from its binary form where the driver has it. Also where the hot
 * paths (claimed rows, recorded outcomes) read a {@link UUID}, for the same reason.
 */
final class JdbcTime {

    private JdbcTime() {}

    /**
     * What {@link #instant} reads for {@code -infinity} (pgjdbc's {@link OffsetDateTime#MIN}), which
     * {@link #setInstant} and {@link #text} write back as {@code -infinity}: a job enqueued by SQL with
     * that run_at sorts first, and its claim order may become a claim floor (issue 18).
     */
    static final Instant NEGATIVE_INFINITY = OffsetDateTime.MIN.toInstant();

    static void setInstant(PreparedStatement ps, int index, Instant instant) throws SQLException {
        if (instant == null) {
            ps.setNull(index, Types.TIMESTAMP_WITH_TIMEZONE);
        } else if (!instant.isAfter(NEGATIVE_INFINITY)) {
            ps.setObject(index, OffsetDateTime.MIN); // pgjdbc sends -infinity; in UTC it would not fit an OffsetDateTime
        } else {
            ps.setObject(index, OffsetDateTime.ofInstant(instant, ZoneOffset.UTC));
        }
    }

    /** {@return {@code instant} as {@code timestamptz} text: ISO-8601 in UTC, or {@code -infinity} (see {@link #NEGATIVE_INFINITY})} */
    static String text(Instant instant) {
        return instant.isAfter(NEGATIVE_INFINITY) ? instant.toString() : "-infinity";
    }

    /**
     * Reads a {@code timestamptz}. Once pgjdbc has prepared a statement on the server (its fifth run on
     * a connection) it receives timestamps in binary, eight bytes of microseconds since 2000-01-01
     * UTC, and {@code getBytes} returns them as they came: decoded here in a few instructions. Else
     * (text, infinity) through {@code getObject(index, OffsetDateTime.class)}, whose code (a chain of
     * type tests, calendar arithmetic) cost a fresh worker more CPU to interpret and compile than the
     * rest of a claimed row's decoding.
     */
    static Instant instant(ResultSet rs, int index) throws SQLException {
        byte[] raw = rs.getBytes(index);
        if (raw == null) {
            return null;
        }
        if (raw.length == 8 && isBinary(rs, index)) { // "infinity" is eight bytes of text
            long micros = bigEndianLong(raw, 0);
            if (micros != Long.MAX_VALUE && micros != Long.MIN_VALUE) { // not ±infinity
                return Instant.ofEpochSecond(POSTGRES_EPOCH_SECONDS + Math.floorDiv(micros, 1_000_000L),
                        Math.floorMod(micros, 1_000_000L) * 1_000L);
            }
        }
        OffsetDateTime value = rs.getObject(index, OffsetDateTime.class);
        return value == null ? null : value.toInstant();
    }

    /** Whether pgjdbc received column {@code index} of the current row in binary (its metadata is cached). */
    private static boolean isBinary(ResultSet rs, int index) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        return meta.isWrapperFor(PGResultSetMetaData.class) && meta.unwrap(PGResultSetMetaData.class).getFormat(index) == 1;
    }

    /** 2000-01-01T00:00:00Z in Unix seconds: binary timestamps count from it. */
    private static final long POSTGRES_EPOCH_SECONDS = 946_684_800L;

    /**
     * Reads a {@code uuid} the same way: sixteen bytes in binary, its 36 characters in text, decoded
     * here; anything else through {@code getObject(index, UUID.class)}.
     */
    static UUID uuid(ResultSet rs, int index) throws SQLException {
        byte[] raw = rs.getBytes(index);
        if (raw == null) {
            return null;
        }
        if (raw.length == 16) {
            return new UUID(bigEndianLong(raw, 0), bigEndianLong(raw, 8));
        }
        if (raw.length == 36) {
            return UUID.fromString(new String(raw, StandardCharsets.US_ASCII));
        }
        return rs.getObject(index, UUID.class);
    }

    private static long bigEndianLong(byte[] bytes, int from) {
        long value = 0;
        for (int i = from; i < from + 8; i++) {
            value = (value << 8) | (bytes[i] & 0xffL);
        }
        return value;
    }
}
