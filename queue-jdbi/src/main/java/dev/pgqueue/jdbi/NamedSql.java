package dev.pgqueue.jdbi;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A statement written with named parameters ({@code :name}) and run through plain JDBC: the names
 * are turned into {@code ?} once, when the statement's file is loaded, so that a statement of many
 * parameters says which is which in its own text while the hot path stays a {@link PreparedStatement}
 * with no parsing per execution. A name may occur more than once; it is bound at each place.
 *
 * <p>What is not a parameter is copied as written: {@code ::} casts, string literals
 * ({@code '...'}, also {@code E'...'}), quoted identifiers ({@code "..."}), dollar quotes,
 * {@code --} and block comments. A statement uses names or {@code ?}, not both.
 */
final class NamedSql {

    private final String jdbc;
    private final Map<String, int[]> positions;

    private NamedSql(String jdbc, Map<String, int[]> positions) {
        this.jdbc = jdbc;
        this.positions = positions;
    }

    /** The statement with each name replaced by {@code ?}, for {@code prepareStatement}. */
    String jdbc() {
        return jdbc;
    }

    /** The parameter names in the order of their first occurrence. */
    Set<String> names() {
        return Collections.unmodifiableSet(positions.keySet());
    }

    /** The JDBC indexes (1-based) where {@code name} occurs. */
    int[] positions(String name) {
        int[] at = positions.get(name);
        if (at == null) {
            throw new IllegalArgumentException("no parameter :" + name + " in statement");
        }
        return at.clone();
    }

    /** A binder for a statement prepared from {@link #jdbc()}. */
    Binder bind(PreparedStatement ps) {
        return new Binder(ps);
    }

    static NamedSql parse(String sql) {
        StringBuilder out = new StringBuilder(sql.length());
        Map<String, List<Integer>> found = new LinkedHashMap<>();
        boolean positional = false;
        int count = 0;
        int n = sql.length();
        int i = 0;
        while (i < n) {
            char ch = sql.charAt(i);
            int end;
            if (ch == '\'') {
                end = quotedEnd(sql, i, '\'', isEscapeStringPrefix(sql, i));
            } else if (ch == '"') {
                end = quotedEnd(sql, i, '"', false);
            } else if (ch == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int newline = sql.indexOf('\n', i);
                end = newline < 0 ? n : newline;
            } else if (ch == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int close = sql.indexOf("*/", i + 2);
                end = close < 0 ? n : close + 2;
            } else if (ch == '$' && dollarTagEnd(sql, i) > 0) {
                String tag = sql.substring(i, dollarTagEnd(sql, i));
                int close = sql.indexOf(tag, i + tag.length());
                end = close < 0 ? n : close + tag.length();
            } else if (ch == ':' && i + 1 < n && sql.charAt(i + 1) == ':') {
                end = i + 2;
            } else if (ch == ':' && i + 1 < n && Character.isJavaIdentifierStart(sql.charAt(i + 1)) && sql.charAt(i + 1) != '$') {
                end = i + 2;
                while (end < n && isNamePart(sql.charAt(end))) {
                    end++;
                }
                found.computeIfAbsent(sql.substring(i + 1, end), k -> new ArrayList<>()).add(++count);
                out.append('?');
                i = end;
                continue;
            } else {
                positional |= ch == '?';
                end = i + 1;
            }
            out.append(sql, i, end);
            i = end;
        }
        if (positional && !found.isEmpty()) {
            throw new IllegalArgumentException("statement mixes ? and named parameters");
        }
        Map<String, int[]> positions = new LinkedHashMap<>();
        found.forEach((name, at) -> positions.put(name, at.stream().mapToInt(Integer::intValue).toArray()));
        return new NamedSql(out.toString(), positions);
    }

    private static boolean isNamePart(char ch) {
        return ch == '_' || Character.isLetterOrDigit(ch);
    }

    /** E'...' takes backslash escapes; a plain '...' does not (standard_conforming_strings). */
    private static boolean isEscapeStringPrefix(String sql, int quote) {
        return quote > 0 && (sql.charAt(quote - 1) == 'E' || sql.charAt(quote - 1) == 'e')
                && (quote == 1 || !isNamePart(sql.charAt(quote - 2)));
    }

    /** The index after the quote that closes the one at {@code start}; a doubled quote does not close. */
    private static int quotedEnd(String sql, int start, char quote, boolean backslashEscapes) {
        int i = start + 1;
        while (i < sql.length()) {
            char ch = sql.charAt(i);
            if (backslashEscapes && ch == '\\') {
                i += 2;
            } else if (ch == quote && i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                i += 2;
            } else if (ch == quote) {
                return i + 1;
            } else {
                i++;
            }
        }
        return sql.length();
    }

    /** The index after a dollar-quote tag ($$ or $tag$) starting at {@code start}, or -1 if there is none. */
    private static int dollarTagEnd(String sql, int start) {
        if (start > 0 && isNamePart(sql.charAt(start - 1))) {
            return -1; // part of an identifier such as a$b
        }
        int i = start + 1;
        if (i < sql.length() && Character.isDigit(sql.charAt(i))) {
            return -1; // $1 is a positional parameter
        }
        while (i < sql.length() && isNamePart(sql.charAt(i))) {
            i++;
        }
        return i < sql.length() && sql.charAt(i) == '$' ? i + 1 : -1;
    }

    /** Sets a parameter by name at every place it occurs. */
    final class Binder {
        private final PreparedStatement ps;

        private Binder(PreparedStatement ps) {
            this.ps = ps;
        }

        Binder setObject(String name, Object value) throws SQLException {
            for (int at : at(name)) {
                ps.setObject(at, value);
            }
            return this;
        }

        Binder setString(String name, String value) throws SQLException {
            for (int at : at(name)) {
                ps.setString(at, value);
            }
            return this;
        }

        Binder setInt(String name, int value) throws SQLException {
            for (int at : at(name)) {
                ps.setInt(at, value);
            }
            return this;
        }

        Binder setLong(String name, long value) throws SQLException {
            for (int at : at(name)) {
                ps.setLong(at, value);
            }
            return this;
        }

        Binder setBoolean(String name, boolean value) throws SQLException {
            for (int at : at(name)) {
                ps.setBoolean(at, value);
            }
            return this;
        }

        Binder setArray(String name, Array value) throws SQLException {
            for (int at : at(name)) {
                ps.setArray(at, value);
            }
            return this;
        }

        Binder setInstant(String name, Instant value) throws SQLException {
            for (int at : at(name)) {
                JdbcTime.setInstant(ps, at, value);
            }
            return this;
        }

        private int[] at(String name) {
            int[] at = positions.get(name);
            if (at == null) {
                throw new IllegalArgumentException("no parameter :" + name + " in statement");
            }
            return at;
        }
    }
}
