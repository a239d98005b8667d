package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Transactions#inOne}: all of the work or none of it, whatever the work throws. */
@PostgresTest
class TransactionsTest {

    private final TestDatabase db;

    TransactionsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void table() {
        db.execute("CREATE TABLE IF NOT EXISTS written (n int)");
        db.execute("DELETE FROM written");
    }

    @Test
    void inAutocommit_theWorkIsCommitted_andAutocommitRestored() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            int n = Transactions.inOne(c, () -> write(c, 1));
            assertThat(n).isEqualTo(1);
            assertThat(c.getAutoCommit()).isTrue();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM written")).isEqualTo(1);
    }

    /** An Error (an assertion, out of memory) must not reach the commit that restoring autocommit makes. */
    @Test
    void anErrorAfterAWrite_rollsItBack_andIsThrownAsItWas() throws SQLException {
        AssertionError thrown = new AssertionError("thrown by the work");
        try (Connection c = db.dataSource().getConnection()) {
            assertThatThrownBy(() -> Transactions.inOne(c, () -> {
                write(c, 1);
                throw thrown;
            })).isSameAs(thrown);
            assertThat(c.getAutoCommit()).isTrue();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM written")).isZero();
    }

    @Test
    void aRuntimeExceptionAfterAWrite_rollsItBack() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            assertThatThrownBy(() -> Transactions.inOne(c, () -> {
                write(c, 1);
                throw new IllegalStateException("thrown by the work");
            })).isInstanceOf(IllegalStateException.class);
        }
        assertThat(db.queryForLong("SELECT count(*) FROM written")).isZero();
    }

    /** A connection that broke: the work's own failure is what the caller sees, the clean-up's failures added to it. */
    @Test
    void whenTheConnectionIsGone_theWorksFailureIsThrown_withTheCleanUpsSuppressed() throws SQLException {
        SQLException broken = new SQLException("thrown by the work", "08006");
        try (Connection c = db.newDataSource("transactions-test", 1).getConnection()) {
            assertThatThrownBy(() -> Transactions.inOne(c, () -> {
                write(c, 1);
                c.unwrap(Connection.class).close(); // the physical connection, under the pool's proxy
                throw broken;
            })).isSameAs(broken);
            assertThat(broken.getSuppressed()).isNotEmpty();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM written")).isZero();
    }

    @Test
    void inTheCallersTransaction_nothingIsCommitted() throws SQLException {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            Transactions.inOne(c, () -> write(c, 1));
            assertThat(c.getAutoCommit()).isFalse();
            c.rollback();
        }
        assertThat(db.queryForLong("SELECT count(*) FROM written")).isZero();
    }

    private static int write(Connection c, int n) throws SQLException {
        try (Statement st = c.createStatement()) {
            return st.executeUpdate("INSERT INTO written VALUES (" + n + ")");
        }
    }
}
