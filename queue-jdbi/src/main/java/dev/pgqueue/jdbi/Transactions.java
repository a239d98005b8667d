package dev.pgqueue.jdbi;

import java.sql.Connection;
import java.sql.SQLException;

/** Work that must be one transaction, on a connection that may be in autocommit or in its caller's transaction. */
final class Transactions {

    private Transactions() {}

    /**
     * Runs {@code work} in the transaction {@code c} is in, or, in autocommit, in one of its own, committed
     * before this returns. On any failure, an {@link Error} too, that transaction is rolled back before
     * autocommit is restored (which would commit it), and what the clean-up throws is added to the failure
     * rather than replacing it.
     */
    static <T> T inOne(Connection c, JdbiJobStore.SqlWork.Body<T> work) throws SQLException {
        if (!c.getAutoCommit()) {
            return work.get();
        }
        c.setAutoCommit(false);
        T result;
        try {
            result = work.get();
            c.commit();
        } catch (Throwable e) {
            try {
                c.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            try {
                c.setAutoCommit(true);
            } catch (SQLException restore) {
                e.addSuppressed(restore);
            }
            throw e;
        }
        c.setAutoCommit(true);
        return result;
    }
}
