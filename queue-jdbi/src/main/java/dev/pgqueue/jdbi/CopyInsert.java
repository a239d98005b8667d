package dev.pgqueue.jdbi;

import dev.pgqueue.spi.JobStore.NewJob;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Inserts a large batch of plain jobs (no dedupe key, dependencies or partition key) through COPY
 * instead of insert-many.sql. Past a few thousand jobs that one statement's arrays cost the server
 * more than COPY's rows: about as much at 5,000 jobs, 4-10 % more at 10,000, a quarter more at
 * 50,000 (EnqueueAllProbe); below, the staging table's fixed cost (about 2 ms to create and drop it)
 * loses. Most of an insert's cost is job_queue's own (checks, indexes), the same either way.
 *
 * <p>COPY cannot compute columns, so the rows go to a temporary staging table of the transaction
 * (insert-copy-staging.sql) and one INSERT moves them into job_queue with insert-many.sql's own
 * expressions (insert-copied.sql): the same clock, stored values, insert trigger (one NOTIFY per
 * queue) and errors. Copying into job_queue directly would be no faster, and would need the clock
 * from an earlier statement and fail under row-level security (COPY FROM refuses such tables).
 *
 * <p>It needs a transaction, in which it leaves nothing behind, and pgjdbc's COPY API; where the
 * connection is not pgjdbc's, the role may not create temporary tables or the transaction is read
 * only, {@link #insert} declines and insert-many.sql runs instead, with its usual outcome.
 */
final class CopyInsert {

    /** From how many plain jobs in one insert COPY is used: where it overtook insert-many.sql, measured. */
    static final int DEFAULT_THRESHOLD = 5_000;

    private static final byte[] HEADER = "PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1);
    private static final int COLUMNS = 10;
    /** Bytes of rows sent to the server at a time. */
    private static final int CHUNK = 64 * 1024;

    private final String check;
    private final String createStaging;
    private final String copy;
    private final String insertCopied;
    private final String dropStaging;

    CopyInsert(String schema) {
        check = SqlFiles.load("insert-copy-check", schema);
        createStaging = SqlFiles.load("insert-copy-staging", schema);
        copy = SqlFiles.load("insert-copy", schema);
        insertCopied = SqlFiles.load("insert-copied", schema);
        dropStaging = SqlFiles.load("insert-copy-drop", schema);
    }

    /**
     * Inserts {@code jobs} as insert-many.sql would, in the transaction open on {@code c}; returns
     * false, having changed nothing, when this connection or transaction cannot use COPY.
     */
    boolean insert(Connection c, List<NewJob> jobs, Instant now) throws SQLException {
        if (c.getAutoCommit()) {
            throw new IllegalStateException("a COPY insert runs in a transaction: its staging table is dropped at commit");
        }
        if (!c.isWrapperFor(PGConnection.class) || !canStage(c)) {
            return false;
        }
        try (Statement st = c.createStatement()) {
            st.execute(createStaging);
        }
        copyRows(c.unwrap(PGConnection.class), jobs);
        try (PreparedStatement ps = c.prepareStatement(insertCopied)) {
            JdbcTime.setInstant(ps, 1, now);
            ps.executeUpdate();
        }
        try (Statement st = c.createStatement()) {
            st.execute(dropStaging);
        }
        return true;
    }

    private boolean canStage(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(check); ResultSet rs = ps.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /** Sends the rows in COPY's binary format (header, one tuple per job, trailer), a chunk at a time. */
    private void copyRows(PGConnection c, List<NewJob> jobs) throws SQLException {
        CopyIn in = c.getCopyAPI().copyIn(copy);
        try {
            Rows rows = new Rows();
            rows.bytes(HEADER);
            rows.int32(0); // flags
            rows.int32(0); // header extension length
            for (NewJob job : jobs) {
                rows.int16(COLUMNS);
                rows.uuid(job.id());
                rows.text(job.type());
                rows.text(job.queue());
                rows.text(job.payloadJson());
                rows.int32Field(job.priority());
                rows.text(job.runAt() == null ? null : job.runAt().toString()); // as bindColumns sends it
                rows.int64Field(JobStatements.micros(job.delay()));
                rows.int32Field(job.maxRetries());
                rows.uuid(job.userId());
                rows.text(TraceContextJson.write(job.traceContext()));
                if (rows.length >= CHUNK) {
                    rows.sendTo(in);
                }
            }
            rows.int16(-1); // trailer
            rows.sendTo(in);
            in.endCopy();
        } catch (SQLException | RuntimeException | Error e) {
            if (in.isActive()) { // end the COPY, so that the connection can roll back
                try {
                    in.cancelCopy();
                } catch (SQLException cancelFailed) {
                    e.addSuppressed(cancelFailed);
                }
            }
            throw e;
        }
    }

    /** A growing buffer of big-endian binary COPY data. */
    private static final class Rows {
        private byte[] buffer = new byte[CHUNK + 1024];
        private int length;

        void sendTo(CopyIn in) throws SQLException {
            in.writeToCopy(buffer, 0, length);
            length = 0;
        }

        void int16(int value) {
            room(2);
            buffer[length++] = (byte) (value >>> 8);
            buffer[length++] = (byte) value;
        }

        void int32(int value) {
            room(4);
            buffer[length++] = (byte) (value >>> 24);
            buffer[length++] = (byte) (value >>> 16);
            buffer[length++] = (byte) (value >>> 8);
            buffer[length++] = (byte) value;
        }

        void int64(long value) {
            int32((int) (value >>> 32));
            int32((int) value);
        }

        void int32Field(int value) {
            int32(4);
            int32(value);
        }

        void int64Field(long value) {
            int32(8);
            int64(value);
        }

        void uuid(UUID value) {
            if (value == null) {
                int32(-1);
                return;
            }
            int32(16);
            int64(value.getMostSignificantBits());
            int64(value.getLeastSignificantBits());
        }

        /** Text as UTF-8, pgjdbc's client encoding (the server converts it, as it does parameters). */
        void text(String value) {
            if (value == null) {
                int32(-1);
                return;
            }
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            int32(utf8.length);
            bytes(utf8);
        }

        void bytes(byte[] bytes) {
            room(bytes.length);
            System.arraycopy(bytes, 0, buffer, length, bytes.length);
            length += bytes.length;
        }

        private void room(int bytes) {
            if (length + bytes > buffer.length) {
                buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + bytes));
            }
        }
    }
}
