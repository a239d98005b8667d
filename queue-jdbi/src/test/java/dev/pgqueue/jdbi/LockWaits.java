package dev.pgqueue.jdbi;

import static org.awaitility.Awaitility.await;

import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Waits on the condition a test means instead of sleeping: that another session is blocked by a
 * lock that {@code holder}'s open transaction holds (PostgreSQL's {@code pg_blocking_pids}), so no
 * other test on the same server can satisfy it.
 */
public final class LockWaits {

    private LockWaits() {}

    /** Returns once some session waits for a lock {@code holder} holds; fails after 10 s. */
    public static void awaitBlockedBy(TestDatabase db, Connection holder) {
        int pid = backendPid(holder);
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(10)).until(() -> db.queryForLong(
                "SELECT count(*) FROM pg_stat_activity WHERE CAST(? AS integer) = ANY (pg_blocking_pids(pid))", pid) > 0);
    }

    private static int backendPid(Connection connection) {
        try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
