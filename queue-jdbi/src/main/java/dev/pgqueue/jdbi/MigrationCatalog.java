package dev.pgqueue.jdbi;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What pgqueue's migration files create, read from the files themselves: the tables, columns,
 * indexes, named constraints, triggers and functions (with their bodies) that a schema migrated up to
 * a version holds. It lets {@link SchemaMigrator#verify()} accept a schema whoever migrated it
 * (pgqueue, Flyway, Liquibase, a DBA in psql), and it needs no upkeep: a new migration file is read
 * like the others. It understands the statements pgqueue's migrations are written with (unqualified
 * names, one object per CREATE); a migration whose only effect it cannot see fails
 * {@code SchemaMigratorTest}'s check that every version is detectable.
 *
 * <p>A function is current when its body ({@code pg_proc.prosrc}) is the one the latest migration up
 * to the version defined, or one a later migration defined (an older pgqueue on a newer schema). A
 * body that an earlier migration defined and a later one replaced is outdated. A body that no
 * migration in this jar defined is taken as newer than this jar and accepted.
 */
final class MigrationCatalog {

    /** One migration's view of a function: the body it defined. */
    private record Definition(int version, String body) {}

    private final Set<String> tables = new LinkedHashSet<>();
    private final Set<String> columns = new LinkedHashSet<>();
    private final Set<String> indexes = new LinkedHashSet<>();
    private final Set<String> constraints = new LinkedHashSet<>();
    private final Set<String> triggers = new LinkedHashSet<>();
    private final Map<String, List<Definition>> functions = new LinkedHashMap<>();
    private final Set<String> liveFunctions = new LinkedHashSet<>();

    private MigrationCatalog() {}

    /**
     * The objects of every migration up to {@code target}, and the function bodies of all
     * migrations (later ones too, to tell outdated bodies from newer ones).
     *
     * @param migrations script name to SQL, in version order
     */
    static MigrationCatalog read(Map<String, String> migrations, int target) {
        MigrationCatalog catalog = new MigrationCatalog();
        for (Map.Entry<String, String> migration : migrations.entrySet()) {
            int version = SchemaMigrator.version(migration.getKey());
            for (Statement statement : statements(migration.getValue())) {
                catalog.apply(version, statement, version <= target);
            }
        }
        return catalog;
    }

    Set<String> tables() {
        return tables;
    }

    /** {@code table.column}. */
    Set<String> columns() {
        return columns;
    }

    Set<String> indexes() {
        return indexes;
    }

    Set<String> constraints() {
        return constraints;
    }

    /** {@code table.trigger}. */
    Set<String> triggers() {
        return triggers;
    }

    /** The functions that exist at the target version. */
    Set<String> functions() {
        return liveFunctions;
    }

    /**
     * Whether {@code body} is current for {@code function} at {@code target}; see the class comment.
     *
     * @return null if current, else the version whose body it is (outdated)
     */
    Integer outdatedBody(String function, String body, int target) {
        List<Definition> definitions = functions.getOrDefault(function, List.of());
        int current = -1;
        for (int i = 0; i < definitions.size(); i++) {
            if (definitions.get(i).version() <= target) {
                current = i;
            }
        }
        String normalized = normalize(body);
        for (int i = Math.max(current, 0); i < definitions.size(); i++) {
            if (normalize(definitions.get(i).body()).equals(normalized)) {
                return null;
            }
        }
        for (int i = 0; i < current; i++) {
            if (normalize(definitions.get(i).body()).equals(normalized)) {
                return definitions.get(i).version();
            }
        }
        return null;
    }

    private static String normalize(String body) {
        return body.replace("\r\n", "\n").strip();
    }

    private static final String NAME = "\"?([A-Za-z_][A-Za-z0-9_]*)\"?";
    private static final Pattern CREATE_TABLE = Pattern.compile(
            "CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?" + NAME + " ?\\((.*)\\)", Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_TABLE = Pattern.compile("DROP TABLE (?:IF EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern ALTER_TABLE = Pattern.compile(
            "ALTER TABLE (?:IF EXISTS )?(?:ONLY )?" + NAME + " (.*)", Pattern.CASE_INSENSITIVE);
    private static final Pattern ADD_COLUMN = Pattern.compile("ADD (?:COLUMN )?(?:IF NOT EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_COLUMN = Pattern.compile("DROP (?:COLUMN )?(?:IF EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern CONSTRAINT = Pattern.compile("(?:ADD )?CONSTRAINT " + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_CONSTRAINT = Pattern.compile("DROP CONSTRAINT (?:IF EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern RENAME_CONSTRAINT = Pattern.compile("RENAME CONSTRAINT " + NAME + " TO " + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern CREATE_INDEX = Pattern.compile(
            "CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?" + NAME + " ON ", Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_INDEX = Pattern.compile(
            "DROP INDEX (?:CONCURRENTLY )?(?:IF EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern CREATE_FUNCTION = Pattern.compile(
            "CREATE (?:OR REPLACE )?FUNCTION " + NAME + " ?\\(", Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_FUNCTION = Pattern.compile("DROP FUNCTION (?:IF EXISTS )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern CREATE_TRIGGER = Pattern.compile(
            "CREATE (?:OR REPLACE )?(?:CONSTRAINT )?TRIGGER " + NAME + " .*? ON (?:ONLY )?" + NAME, Pattern.CASE_INSENSITIVE);
    private static final Pattern DROP_TRIGGER = Pattern.compile(
            "DROP TRIGGER (?:IF EXISTS )?" + NAME + " ON " + NAME, Pattern.CASE_INSENSITIVE);
    private static final Set<String> NOT_COLUMNS = Set.of("constraint", "primary", "unique", "check", "foreign", "exclude", "like");

    private void apply(int version, Statement statement, boolean live) {
        String head = statement.head();
        Matcher m;
        if ((m = CREATE_FUNCTION.matcher(head)).lookingAt()) {
            String name = lower(m.group(1));
            if (!statement.bodies().isEmpty()) {
                functions.computeIfAbsent(name, k -> new ArrayList<>()).add(new Definition(version, statement.bodies().get(0)));
            }
            if (live) {
                liveFunctions.add(name);
            }
            return;
        }
        if (!live) {
            return;
        }
        if ((m = CREATE_TABLE.matcher(head)).lookingAt()) {
            String table = lower(m.group(1));
            tables.add(table);
            for (String element : splitTopLevel(m.group(2))) {
                Matcher constraint = CONSTRAINT.matcher(element);
                if (constraint.lookingAt()) {
                    constraints.add(lower(constraint.group(1)));
                    continue;
                }
                String first = element.split(" ", 2)[0];
                if (!first.isEmpty() && !NOT_COLUMNS.contains(lower(first))) {
                    columns.add(table + "." + lower(first.replace("\"", "")));
                }
            }
        } else if ((m = DROP_TABLE.matcher(head)).lookingAt()) {
            String table = lower(m.group(1));
            tables.remove(table);
            columns.removeIf(column -> column.startsWith(table + "."));
            triggers.removeIf(trigger -> trigger.startsWith(table + "."));
        } else if ((m = ALTER_TABLE.matcher(head)).lookingAt()) {
            String table = lower(m.group(1));
            for (String action : splitTopLevel(m.group(2))) {
                Matcher a;
                if ((a = DROP_CONSTRAINT.matcher(action)).lookingAt()) {
                    constraints.remove(lower(a.group(1)));
                } else if ((a = RENAME_CONSTRAINT.matcher(action)).lookingAt()) {
                    constraints.remove(lower(a.group(1)));
                    constraints.add(lower(a.group(2)));
                } else if ((a = CONSTRAINT.matcher(action)).lookingAt()) {
                    constraints.add(lower(a.group(1)));
                } else if (lower(action).startsWith("add constraint")) {
                    // ADD CONSTRAINT ... USING INDEX and the like: named above, nothing else to record.
                } else if ((a = ADD_COLUMN.matcher(action)).lookingAt() && !lower(action).matches("add (primary|unique|check|foreign|exclude)\\b.*")) {
                    columns.add(table + "." + lower(a.group(1)));
                } else if ((a = DROP_COLUMN.matcher(action)).lookingAt() && !lower(action).startsWith("drop constraint")) {
                    columns.remove(table + "." + lower(a.group(1)));
                }
            }
        } else if ((m = CREATE_INDEX.matcher(head)).lookingAt()) {
            indexes.add(lower(m.group(1)));
        } else if ((m = DROP_INDEX.matcher(head)).lookingAt()) {
            indexes.remove(lower(m.group(1)));
        } else if ((m = DROP_FUNCTION.matcher(head)).lookingAt()) {
            liveFunctions.remove(lower(m.group(1)));
        } else if ((m = CREATE_TRIGGER.matcher(head)).lookingAt()) {
            triggers.add(lower(m.group(2)) + "." + lower(m.group(1)));
        } else if ((m = DROP_TRIGGER.matcher(head)).lookingAt()) {
            triggers.remove(lower(m.group(2)) + "." + lower(m.group(1)));
        }
    }

    private static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** Splits at commas outside parentheses; each part trimmed. */
    private static List<String> splitTopLevel(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(text.substring(start, i).strip());
                start = i + 1;
            }
        }
        parts.add(text.substring(start).strip());
        return parts;
    }

    /**
     * One SQL statement: its text with comments removed, literals and dollar-quoted bodies replaced
     * by placeholders and white space collapsed ({@code head}), and its dollar-quoted bodies verbatim.
     */
    record Statement(String head, List<String> bodies) {}

    private static final Pattern DOLLAR_TAG = Pattern.compile("\\$(?:[A-Za-z_][A-Za-z0-9_]*)?\\$");

    /** Splits a script into statements at semicolons outside comments, quotes and dollar quotes. */
    static List<Statement> statements(String sql) {
        List<Statement> statements = new ArrayList<>();
        StringBuilder head = new StringBuilder();
        List<String> bodies = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                i = end < 0 ? n : end;
                head.append(' ');
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? n : end + 2;
                head.append(' ');
            } else if (c == '\'') {
                int j = i + 1;
                while (j < n && !(sql.charAt(j) == '\'' && (j + 1 >= n || sql.charAt(j + 1) != '\''))) {
                    j += sql.charAt(j) == '\'' ? 2 : 1;
                }
                head.append("''");
                i = Math.min(j + 1, n);
            } else if (c == '$' && dollarTagAt(sql, i) != null) {
                String tag = dollarTagAt(sql, i);
                int bodyStart = i + tag.length();
                int end = sql.indexOf(tag, bodyStart);
                if (end < 0) {
                    end = n;
                }
                bodies.add(sql.substring(bodyStart, end));
                head.append("$body$");
                i = Math.min(end + tag.length(), n);
            } else if (c == ';') {
                add(statements, head, bodies);
                head.setLength(0);
                bodies = new ArrayList<>();
                i++;
            } else {
                head.append(Character.isWhitespace(c) ? ' ' : c);
                i++;
            }
        }
        add(statements, head, bodies);
        return statements;
    }

    private static String dollarTagAt(String sql, int i) {
        if (i > 0 && (Character.isLetterOrDigit(sql.charAt(i - 1)) || sql.charAt(i - 1) == '_')) {
            return null;
        }
        Matcher m = DOLLAR_TAG.matcher(sql);
        m.region(i, sql.length());
        return m.lookingAt() ? m.group() : null;
    }

    private static void add(List<Statement> statements, StringBuilder head, List<String> bodies) {
        String text = head.toString().replaceAll("\\s+", " ").replaceAll("\\( ", "(").replaceAll(" \\)", ")").strip();
        if (!text.isEmpty()) {
            statements.add(new Statement(text, List.copyOf(bodies)));
        }
    }
}
