package dev.pgqueue.jdbi;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

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

    /**
     * As {@link #loadNamed(String, String)}, with each {@code {placeholder}} of {@code fragments} replaced
     * by its fixed text (never a value: values are parameters).
     */
    static NamedSql loadNamed(String name, String schema, Map<String, String> fragments) {
        return NamedSql.parse(load(name, schema, fragments));
    }

    /** As {@link #load(String, String)}, with each {@code {placeholder}} of {@code fragments} replaced by its text. */
    static String load(String name, String schema, Map<String, String> fragments) {
        String sql = load(name, schema);
        for (Map.Entry<String, String> fragment : fragments.entrySet()) {
            String placeholder = "{" + fragment.getKey() + "}";
            if (!sql.contains(placeholder)) {
                throw new IllegalStateException(name + ".sql has no " + placeholder);
            }
            sql = sql.replace(placeholder, fragment.getValue());
        }
        return sql;
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
