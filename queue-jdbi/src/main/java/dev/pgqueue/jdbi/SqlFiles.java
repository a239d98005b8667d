package dev.pgqueue.jdbi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the store's statements from {@code dev/pgqueue/jdbi/sql/<name>.sql} and points them at the
 * configured schema. Statements name their schema explicitly instead of relying on
 * {@code search_path}, so that they need no session state (transaction-mode poolers) and cannot be
 * redirected by it; the schema is a validated identifier, quoted, so this is the one safe place
 * where text is put into SQL.
 */
final class SqlFiles {

    private SqlFiles() {}

    static String load(String name, String schema) {
        return read("/dev/pgqueue/jdbi/sql/" + name + ".sql").replace("{schema}", quote(schema));
    }

    /** Loads a statement written with named parameters, turned into {@code ?} once, here. */
    static NamedSql loadNamed(String name, String schema) {
        return NamedSql.parse(load(name, schema));
    }

    static String read(String resource) {
        try (InputStream in = SqlFiles.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** Quotes a validated identifier (letters, digits and _ only, so no quote can occur in it). */
    static String quote(String identifier) {
        return '"' + identifier + '"';
    }
}
