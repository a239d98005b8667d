package dev.pgqueue.dashboard;

import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobFilter;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A {@link JobFilter} to and from request parameters: {@code id}, {@code status}, {@code queue},
 * {@code type} (each repeatable), {@code created_after}, {@code created_before},
 * {@code finished_after}, {@code finished_before} (ISO instants, or a {@code datetime-local} value in
 * UTC), {@code user}, {@code error}, {@code error_line} (exact first line; empty matches jobs
 * without an error, as a failure group's filter sets it) and {@code dedupe}. Values are checked here and handed to the
 * admin API as values: never SQL.
 */
final class Filters {

    static final List<String> NAMES = List.of("id", "status", "queue", "type", "created_after", "created_before",
            "finished_after", "finished_before", "user", "error", "error_line", "dedupe");
    private static final int MAX_TEXT = 500;

    private Filters() {}

    static JobFilter parse(Params p) {
        JobFilter.Builder b = JobFilter.builder();
        List<String> ids = p.all("id");
        if (!ids.isEmpty()) {
            b.ids(ids.stream().map(v -> uuid("id", v)).toArray(UUID[]::new));
        }
        List<String> statuses = p.all("status");
        if (!statuses.isEmpty()) {
            b.statuses(statuses.stream().map(Filters::status).toArray(JobStatus[]::new));
        }
        List<String> queues = p.all("queue");
        if (!queues.isEmpty()) {
            b.queues(queues.stream().map(v -> text("queue", v)).toArray(String[]::new));
        }
        List<String> types = p.all("type");
        if (!types.isEmpty()) {
            b.types(types.stream().map(v -> text("type", v)).toArray(String[]::new));
        }
        b.created(instant("created_after", p.first("created_after")), instant("created_before", p.first("created_before")));
        b.finished(instant("finished_after", p.first("finished_after")), instant("finished_before", p.first("finished_before")));
        String user = p.first("user");
        if (user != null) {
            b.userId(uuid("user", user));
        }
        String error = p.first("error");
        if (error != null) {
            b.errorContains(text("error", error));
        }
        String errorLine = p.exact("error_line");
        if (errorLine != null) {
            b.errorFirstLine(text("error_line", errorLine));
        }
        String dedupe = p.first("dedupe");
        if (dedupe != null) {
            b.dedupeKeyPrefix(text("dedupe", dedupe));
        }
        return b.build();
    }

    /** The parameters that {@link #parse} reads back as {@code filter}. */
    static Params params(JobFilter f) {
        Params p = new Params();
        f.ids().stream().map(UUID::toString).sorted().forEach(v -> p.add("id", v));
        f.statuses().stream().sorted().forEach(s -> p.add("status", s.sqlValue()));
        f.queues().stream().sorted().forEach(v -> p.add("queue", v));
        f.types().stream().sorted().forEach(v -> p.add("type", v));
        put(p, "created_after", f.createdAfter());
        put(p, "created_before", f.createdBefore());
        put(p, "finished_after", f.finishedAfter());
        put(p, "finished_before", f.finishedBefore());
        put(p, "user", f.userId());
        put(p, "error", f.errorContains());
        put(p, "error_line", f.errorFirstLine());
        put(p, "dedupe", f.dedupeKeyPrefix());
        return p;
    }

    /** Whether the filter sets nothing. */
    static boolean isEmpty(JobFilter f) {
        return params(f).asMap().isEmpty();
    }

    /** {@code filter} narrowed to the statuses an action changes: the jobs it will change. */
    static JobFilter narrow(JobFilter filter, Set<JobStatus> changes) {
        EnumSet<JobStatus> statuses = EnumSet.copyOf(changes);
        if (!filter.statuses().isEmpty()) {
            statuses.retainAll(filter.statuses());
        }
        if (statuses.isEmpty()) {
            return null;
        }
        return filter.toBuilder().statuses(statuses.toArray(JobStatus[]::new)).build();
    }

    /** The filter for people: {@code status = failed, queue = images}. */
    static String describe(JobFilter f) {
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, List<String>> e : params(f).asMap().entrySet()) {
            List<String> v = e.getValue();
            parts.add(e.getKey().replace('_', ' ') + (v.size() == 1 ? " = " + v.get(0) : " in (" + String.join(", ", v) + ")"));
        }
        return parts.isEmpty() ? "every job" : String.join(", ", parts);
    }

    private static void put(Params p, String name, Object value) {
        if (value != null) {
            p.add(name, value.toString());
        }
    }

    private static JobStatus status(String v) {
        try {
            return JobStatus.valueOf(v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new Params.BadRequest("expected status to be one of "
                    + EnumSet.allOf(JobStatus.class).stream().map(JobStatus::sqlValue).collect(Collectors.joining(", "))
                    + ", got: " + Params.cut(v, 80));
        }
    }

    private static UUID uuid(String name, String v) {
        try {
            return UUID.fromString(v);
        } catch (IllegalArgumentException e) {
            throw new Params.BadRequest("expected " + name + " to be a UUID, got: " + Params.cut(v, 80));
        }
    }

    private static String text(String name, String v) {
        if (v.length() > MAX_TEXT) {
            throw new Params.BadRequest("expected " + name + " to be at most " + MAX_TEXT + " characters, got: "
                    + v.length());
        }
        return v;
    }

    static Instant instant(String name, String v) {
        if (v == null) {
            return null;
        }
        try {
            return Instant.parse(v);
        } catch (DateTimeParseException notInstant) {
            try {
                return LocalDateTime.parse(v).toInstant(ZoneOffset.UTC);
            } catch (DateTimeParseException e) {
                throw new Params.BadRequest("expected " + name
                        + " to be an ISO instant (2026-01-31T12:00:00Z) or a UTC date-time (2026-01-31T12:00), got: "
                        + Params.cut(v, 80));
            }
        }
    }
}
