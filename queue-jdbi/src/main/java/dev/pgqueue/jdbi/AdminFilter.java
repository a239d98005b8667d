package dev.pgqueue.jdbi;

import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.internal.Check;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A {@link JobFilter} as SQL conditions on {@code job_queue j}: only the criteria that are set, each a
 * fixed fragment of this class with its values bound as parameters, so no filter text ever becomes
 * SQL. Statuses are the one exception, written as literals because they come from {@link JobStatus}'s
 * constants (never from the caller's text): the planner can then match a status to its partial index
 * ({@code job_queue_claim_idx} for pending, {@code job_queue_failed_idx} for failed, …), which a bound
 * parameter in a generic plan cannot. Text criteria are matched literally: {@code LIKE}'s {@code %},
 * {@code _} and its escape character are escaped.
 */
final class AdminFilter {

    /** Longest text a filter criterion may hold. */
    static final int MAX_TEXT = 10_000;

    @FunctionalInterface
    private interface Binding {
        void bind(Connection c, PreparedStatement ps, int index) throws SQLException;
    }

    private final String sql;
    private final List<Binding> bindings;

    private AdminFilter(String sql, List<Binding> bindings) {
        this.sql = sql;
        this.bindings = List.copyOf(bindings);
    }

    /**
     * @throws dev.pgqueue.ValidationException if the filter is null or holds text PostgreSQL cannot
     *     store ({@code \u0000}) or longer than {@link #MAX_TEXT}
     */
    static AdminFilter of(JobFilter filter) {
        Check.notNull("filter", filter);
        List<String> conditions = new ArrayList<>();
        List<Binding> bindings = new ArrayList<>();
        if (!filter.ids().isEmpty()) {
            conditions.add("j.id = ANY (CAST(? AS uuid[]))");
            UUID[] ids = filter.ids().toArray(UUID[]::new);
            bindings.add((c, ps, i) -> ps.setArray(i, c.createArrayOf("uuid", ids)));
        }
        if (!filter.statuses().isEmpty()) {
            conditions.add(statusCondition(filter.statuses()));
        }
        if (!filter.queues().isEmpty()) {
            String[] queues = texts("filter queues", filter.queues());
            conditions.add("j.queue = ANY (CAST(? AS text[]))");
            bindings.add((c, ps, i) -> ps.setArray(i, c.createArrayOf("text", queues)));
        }
        if (!filter.types().isEmpty()) {
            String[] types = texts("filter types", filter.types());
            conditions.add("j.job_type = ANY (CAST(? AS text[]))");
            bindings.add((c, ps, i) -> ps.setArray(i, c.createArrayOf("text", types)));
        }
        instant(conditions, bindings, "j.created_at >= CAST(? AS timestamptz)", "filter createdAfter", filter.createdAfter());
        instant(conditions, bindings, "j.created_at < CAST(? AS timestamptz)", "filter createdBefore", filter.createdBefore());
        if (filter.finishedAfter() != null || filter.finishedBefore() != null) {
            // Finished jobs only; the literal statuses let job_queue_finished_idx serve the range.
            conditions.add("j.status IN ('completed', 'failed', 'cancelled')");
        }
        instant(conditions, bindings, "j.completed_at >= CAST(? AS timestamptz)", "filter finishedAfter", filter.finishedAfter());
        instant(conditions, bindings, "j.completed_at < CAST(? AS timestamptz)", "filter finishedBefore", filter.finishedBefore());
        if (filter.userId() != null) {
            UUID userId = filter.userId();
            conditions.add("j.user_id = CAST(? AS uuid)");
            bindings.add((c, ps, i) -> ps.setObject(i, userId));
        }
        if (filter.errorContains() != null) {
            String pattern = "%" + likeLiteral(text("filter errorContains", filter.errorContains())) + "%";
            conditions.add("j.error_message ILIKE CAST(? AS text) ESCAPE E'\\\\'");
            bindings.add((c, ps, i) -> ps.setString(i, pattern));
        }
        if (filter.errorFirstLine() != null) {
            String line = text("filter errorFirstLine", filter.errorFirstLine());
            conditions.add("pg_catalog.split_part(coalesce(j.error_message, ''), E'\\n', 1) = CAST(? AS text)");
            bindings.add((c, ps, i) -> ps.setString(i, line));
        }
        if (filter.dedupeKeyPrefix() != null) {
            String pattern = likeLiteral(text("filter dedupeKeyPrefix", filter.dedupeKeyPrefix())) + "%";
            conditions.add("j.dedupe_key LIKE CAST(? AS text) ESCAPE E'\\\\'");
            bindings.add((c, ps, i) -> ps.setString(i, pattern));
        }
        return new AdminFilter(conditions.isEmpty() ? "true" : String.join(" AND ", conditions), bindings);
    }

    /** The conditions, joined with AND ({@code true} for a filter that matches every job). */
    String sql() {
        return sql;
    }

    /** Puts this filter's conditions into {@code statement} at {@code {filter}}. */
    String into(String statement) {
        return statement.replace("{filter}", "(" + sql + ")");
    }

    /** Binds the filter's values from parameter {@code index} on; returns the next free index. */
    int bind(Connection c, PreparedStatement ps, int index) throws SQLException {
        for (Binding binding : bindings) {
            binding.bind(c, ps, index++);
        }
        return index;
    }

    static String statusCondition(Set<JobStatus> statuses) {
        return statuses.stream()
                .sorted()
                .map(s -> "'" + s.sqlValue() + "'")
                .collect(Collectors.joining(", ", "j.status IN (", ")"));
    }

    /** {@code text} with LIKE's wildcards and its escape character escaped: matched as it is. */
    static String likeLiteral(String text) {
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }

    private static void instant(List<String> conditions, List<Binding> bindings, String condition, String field,
            Instant value) {
        if (value == null) {
            return;
        }
        Check.instant(field, value);
        conditions.add(condition);
        bindings.add((c, ps, i) -> JdbcTime.setInstant(ps, i, value));
    }

    private static String[] texts(String field, Set<String> values) {
        return values.stream().map(v -> text(field, v)).sorted().toArray(String[]::new);
    }

    private static String text(String field, String value) {
        Check.notNull(field, value);
        Check.text(field, value, MAX_TEXT);
        return Check.unicode(field, value);
    }
}
