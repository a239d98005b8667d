package dev.pgqueue.jdbi;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Counts instead of timing: how many entries of an index the scans of {@code c}'s open transaction
 * returned so far ({@code pg_stat_get_xact_tuples_returned}, the transaction's own). The difference
 * across a statement is how many entries it walked, dead ones included.
 */
final class IndexEntries {

    private IndexEntries() {}

    /** Entries of {@code schema.index} returned to this transaction's scans so far. */
    static long returned(Connection c, String schema, String index) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_stat_get_xact_tuples_returned(CAST(? AS regclass))")) {
            ps.setString(1, schema + "." + index);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
