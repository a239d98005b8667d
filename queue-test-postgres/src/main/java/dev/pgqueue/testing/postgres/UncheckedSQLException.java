package dev.pgqueue.testing.postgres;

import java.sql.SQLException;

/**
 * A {@link SQLException} from one of {@link TestDatabase}'s conveniences, unchecked so that tests
 * need not declare it. The message names the statement; {@link #getCause()} keeps the
 * {@code SQLState} (for PostgreSQL errors, a {@code PSQLException} with the server's details).
 */
public final class UncheckedSQLException extends RuntimeException {

    /**
     * Wraps {@code cause}, the failure of {@code sql}.
     *
     * @param sql the statement that failed, named in the message
     * @param cause the driver's exception
     */
    public UncheckedSQLException(String sql, SQLException cause) {
        super(sql + " failed: " + cause.getMessage(), cause);
    }

    /** The SQL failure. */
    @Override
    public synchronized SQLException getCause() {
        return (SQLException) super.getCause();
    }
}
