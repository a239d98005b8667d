package dev.pgqueue.jdbi;

import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Schemas of a test's own beside its class's schema, named after it, for tests that migrate several
 * schemas: {@link #dropAll()} (from {@code @AfterEach}) drops every one named here.
 */
final class ScratchSchemas {

    private final TestDatabase db;
    private final List<String> names = new ArrayList<>();

    ScratchSchemas(TestDatabase db) {
        this.db = db;
    }

    /** A name for a schema that does not exist yet (the migrator creates it), dropped by {@link #dropAll()}. */
    String name(String suffix) {
        String schema = db.schema() + "_" + suffix;
        names.add(schema);
        return schema;
    }

    /** A new, empty schema, dropped by {@link #dropAll()}. */
    String create(String suffix) {
        String schema = name(suffix);
        db.execute("CREATE SCHEMA " + schema);
        return schema;
    }

    /** Runs a migration file as psql would: the whole text, in {@code schema} (first on the search path). */
    void runMigrationFile(String schema, String file) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            st.execute("SET search_path = " + schema);
            try {
                st.execute(SqlFiles.read(SchemaMigrator.LOCATION + file));
            } finally {
                st.execute("RESET search_path");
            }
        }
    }

    void dropAll() {
        names.forEach(schema -> db.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE"));
        names.clear();
    }
}
