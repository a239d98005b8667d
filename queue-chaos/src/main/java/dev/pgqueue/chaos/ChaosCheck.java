package dev.pgqueue.chaos;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;

/**
 * Verifies a chaos run from three sources that do not depend on each other: the {@code job_queue}
 * rows, the ledger that handlers write inside their fenced completion (a row exists if and only if
 * that attempt's outcome was accepted under its lease), and the workers' start/end event logs.
 *
 * <ul>
 *   <li>lost: a job the producer was told was enqueued is missing, or not final;</li>
 *   <li>stuck: a job left {@code processing} (with an expired lease, or at all) after the drain;</li>
 *   <li>wrong end: a job's final status does not match its kind (doomed → failed, others → completed);</li>
 *   <li>attempts: {@code attempt}, {@code retry_count} and the ledger disagree with the retry policy
 *       (every run but the last of a completed job is a failure or a snooze; a doomed job runs
 *       exactly {@code max_retries + 1} times; a flaky one completes only after its failures);</li>
 *   <li>effects: a completed job has not exactly one "done" row in the ledger, or a failed one has any;</li>
 *   <li>duplicates beyond the lease: two accepted attempts of one job overlap in time (the later one
 *       started before the earlier one committed), or two runs that both ended "ok" overlap;</li>
 *   <li>zombie: a paused worker's attempt wrote to the ledger, or its job's final row is its own.</li>
 * </ul>
 */
final class ChaosCheck {

    record Held(UUID job, int attempt, UUID leaseToken) {}

    record Zombie(String worker, List<Held> held) {}

    record Faults(ChaosConfig config, int kills, int drops, int crashes, int pauses, int producerRetries, Duration elapsed) {}

    record Report(Map<String, String> figures, List<String> violations) {

        String table() {
            StringBuilder text = new StringBuilder("| chaos run | result |\n|---|---|\n");
            figures.forEach((k, v) -> text.append("| ").append(k).append(" | ").append(v).append(" |\n"));
            text.append("| violations | ").append(violations.size()).append(" |\n");
            violations.stream().limit(50).forEach(v -> text.append("\nVIOLATION: ").append(v));
            return text.toString();
        }
    }

    private record Row(UUID id, String kind, int failTimes, int snoozes, String status, int attempt, int retryCount,
            int maxRetries, String leaseOwner, UUID leaseToken, OffsetDateTime leaseExpiresAt, boolean leaseExpired,
            String error) {}

    private record Entry(UUID job, int attempt, String worker, String note, OffsetDateTime startedAt,
            OffsetDateTime finishedAt) {}

    private final Jdbi jdbi;
    private final String schema;
    private final Path eventsDir;
    private final Set<UUID> confirmed;
    private final List<Zombie> zombies;
    private final List<String> violations = new ArrayList<>();

    ChaosCheck(Jdbi jdbi, String schema, Path eventsDir, Set<UUID> confirmed, List<Zombie> zombies) {
        this.jdbi = jdbi;
        this.schema = schema;
        this.eventsDir = eventsDir;
        this.confirmed = confirmed;
        this.zombies = zombies;
    }

    Report check(Faults faults) throws IOException {
        Map<UUID, Row> rows = new HashMap<>();
        jdbi.useHandle(h -> h.createQuery("SELECT id, payload->>'kind', coalesce((payload->>'failTimes')::int, 0),"
                        + " coalesce((payload->>'snoozes')::int, 0), status, attempt, retry_count, max_retries, lease_owner,"
                        + " lease_token, lease_expires_at, lease_expires_at < now(), error_message FROM " + schema + ".job_queue")
                .map((rs, ctx) -> new Row(rs.getObject(1, UUID.class), rs.getString(2), rs.getInt(3), rs.getInt(4),
                        rs.getString(5), rs.getInt(6), rs.getInt(7), rs.getInt(8), rs.getString(9),
                        rs.getObject(10, UUID.class), rs.getObject(11, OffsetDateTime.class), rs.getBoolean(12),
                        rs.getString(13)))
                .forEach(r -> rows.put(r.id(), r)));
        Map<UUID, List<Entry>> ledger = new HashMap<>();
        jdbi.useHandle(h -> h.createQuery("SELECT job_id, attempt, worker, note, started_at, finished_at FROM "
                        + schema + ".chaos_ledger")
                .map((rs, ctx) -> new Entry(rs.getObject(1, UUID.class), rs.getInt(2), rs.getString(3), rs.getString(4),
                        rs.getObject(5, OffsetDateTime.class), rs.getObject(6, OffsetDateTime.class)))
                .forEach(e -> ledger.computeIfAbsent(e.job(), k -> new ArrayList<>()).add(e)));
        Map<UUID, List<EventLog.Event>> events = new HashMap<>();
        List<EventLog.Event> allEvents = EventLog.readAll(eventsDir);
        allEvents.forEach(e -> events.computeIfAbsent(e.job(), k -> new ArrayList<>()).add(e));

        int lost = 0;
        for (UUID id : confirmed) {
            if (!rows.containsKey(id)) {
                lost++;
                violation("lost: job %s was confirmed enqueued but is not in the table", id);
            }
        }
        int stuck = 0;
        int notFinal = 0;
        int duplicatesBeyondLease = 0;
        int reruns = 0;
        int unfinishedRuns = 0;
        Map<String, int[]> byKind = new LinkedHashMap<>();
        for (Row row : rows.values()) {
            List<Entry> entries = ledger.getOrDefault(row.id(), List.of());
            List<EventLog.Event> runs = events.getOrDefault(row.id(), List.of());
            byKind.computeIfAbsent(row.kind() + " → " + row.status(), k -> new int[1])[0]++;
            if (row.status().equals("processing")) {
                stuck++;
                violation("stuck: job %s is processing (lease %s, expired: %s)", row.id(), row.leaseExpiresAt(), row.leaseExpired());
                continue;
            }
            if (!row.status().equals("completed") && !row.status().equals("failed")) {
                notFinal++;
                violation("not final: job %s (%s) is %s", row.id(), row.kind(), row.status());
                continue;
            }
            checkEnd(row);
            checkAttempts(row, entries, runs);
            duplicatesBeyondLease += checkOverlaps(row, entries, runs);
            long starts = runs.stream().filter(EventLog.Event::start).count();
            int plannedFailures = row.kind().equals("FLAKY") ? row.failTimes() : 0;
            if (row.status().equals("completed") && row.retryCount() > plannedFailures) {
                reruns++;
            }
            unfinishedRuns += (int) (starts - runs.stream().filter(e -> !e.start()).count());
        }
        int zombieFenced = checkZombies(rows, ledger, events);

        Map<String, String> figures = new LinkedHashMap<>();
        ChaosConfig config = faults.config();
        figures.put("scale", config.name());
        figures.put("jobs enqueued (confirmed)", String.valueOf(confirmed.size()));
        figures.put("jobs in table", String.valueOf(rows.size()));
        figures.put("worker JVMs at once", String.valueOf(config.workers()));
        figures.put("workers killed (SIGKILL)", String.valueOf(faults.kills()));
        figures.put("all worker connections terminated", faults.drops() + " times");
        figures.put("server crashes (pg_ctl restart -m immediate)", String.valueOf(faults.crashes()));
        figures.put("workers paused past their lease (SIGSTOP/SIGCONT)", String.valueOf(faults.pauses()));
        figures.put("zombie outcomes fenced out", String.valueOf(zombieFenced));
        figures.put("lost", String.valueOf(lost + notFinal));
        figures.put("stuck in processing", String.valueOf(stuck));
        figures.put("duplicates beyond the lease", String.valueOf(duplicatesBeyondLease));
        figures.put("completed jobs that ran again after a fault", String.valueOf(reruns));
        figures.put("handler runs cut off by a kill", String.valueOf(unfinishedRuns));
        figures.put("handler runs logged", String.valueOf(allEvents.stream().filter(EventLog.Event::start).count()));
        figures.put("final states", byKind.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .map(e -> e.getKey() + ": " + e.getValue()[0]).reduce((a, b) -> a + ", " + b).orElse("-"));
        figures.put("producer retries (server down)", String.valueOf(faults.producerRetries()));
        figures.put("wall time", faults.elapsed().toSeconds() + " s");
        return new Report(figures, List.copyOf(violations));
    }

    private void checkEnd(Row row) {
        String expected = row.kind().equals("DOOMED") ? "failed" : "completed";
        if (!row.status().equals(expected)) {
            violation("wrong end: job %s (%s) is %s, expected %s (retry_count %d of %d; %s)", row.id(), row.kind(),
                    row.status(), expected, row.retryCount(), row.maxRetries(), firstLine(row.error()));
        }
    }

    private void checkAttempts(Row row, List<Entry> entries, List<EventLog.Event> runs) {
        int snoozes = snoozesOf(entries);
        if (row.retryCount() > row.maxRetries() + 1) {
            violation("attempts: job %s has retry_count %d > max_retries + 1 (%d)", row.id(), row.retryCount(), row.maxRetries() + 1);
        }
        if (row.status().equals("completed") && row.attempt() != row.retryCount() + snoozes + 1) {
            violation("attempts: completed job %s (%s) ran %d times but had %d failures and %d snoozes",
                    row.id(), row.kind(), row.attempt(), row.retryCount(), snoozes);
        }
        if (row.kind().equals("DOOMED")
                && (row.retryCount() != row.maxRetries() + 1 || row.attempt() != row.maxRetries() + 1)) {
            violation("attempts: doomed job %s ran %d times with retry_count %d, expected %d of each",
                    row.id(), row.attempt(), row.retryCount(), row.maxRetries() + 1);
        }
        if (row.kind().equals("FLAKY") && row.status().equals("completed") && row.retryCount() < row.failTimes()) {
            violation("attempts: flaky job %s completed after %d failures, but fails %d times", row.id(), row.retryCount(), row.failTimes());
        }
        if (row.kind().equals("SNOOZER") && row.status().equals("completed") && snoozes != row.snoozes()) {
            violation("attempts: snoozer %s snoozed %d times, expected %d", row.id(), snoozes, row.snoozes());
        }
        long starts = runs.stream().filter(EventLog.Event::start).count();
        if (starts > row.attempt()) {
            violation("attempts: job %s started %d times but attempt is %d", row.id(), starts, row.attempt());
        }
        long done = entries.stream().filter(e -> e.note().equals("done")).count();
        if (row.status().equals("completed") && done != 1) {
            violation("effects: completed job %s has %d 'done' ledger rows, expected exactly 1", row.id(), done);
        }
        if (row.status().equals("failed") && done != 0) {
            violation("effects: failed job %s has %d 'done' ledger rows", row.id(), done);
        }
        Set<Integer> attempts = new HashSet<>();
        for (Entry e : entries) {
            if (!attempts.add(e.attempt())) {
                violation("effects: job %s has two ledger rows for attempt %d", row.id(), e.attempt());
            }
        }
        entries.stream().filter(e -> e.note().equals("done")).findFirst().ifPresent(e -> {
            if (e.attempt() != row.attempt()) {
                violation("effects: job %s completed in attempt %d, but its last attempt is %d", row.id(), e.attempt(), row.attempt());
            }
        });
    }

    /** Accepted attempts of one job must follow each other: each starts after the previous committed. */
    private int checkOverlaps(Row row, List<Entry> entries, List<EventLog.Event> runs) {
        int overlaps = 0;
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(Entry::startedAt));
        for (int i = 1; i < sorted.size(); i++) {
            Entry before = sorted.get(i - 1);
            Entry after = sorted.get(i);
            if (!after.startedAt().isAfter(before.finishedAt())) {
                overlaps++;
                violation("duplicate beyond lease: job %s attempt %d (%s) started at %s, before attempt %d (%s) committed at %s",
                        row.id(), after.attempt(), after.worker(), after.startedAt(), before.attempt(), before.worker(),
                        before.finishedAt());
            }
        }
        // From the event logs: two runs that both ended "ok" (accepted) must not overlap either.
        Map<String, long[]> okRuns = new HashMap<>();
        Map<String, Long> startsByRun = new HashMap<>();
        for (EventLog.Event e : runs) {
            String key = e.attempt() + "/" + e.worker();
            if (e.start()) {
                startsByRun.put(key, e.micros());
            } else if ("ok".equals(e.result()) && startsByRun.containsKey(key)) {
                okRuns.put(key, new long[] {startsByRun.get(key), e.micros()});
            }
        }
        List<long[]> intervals = new ArrayList<>(okRuns.values());
        intervals.sort(Comparator.comparingLong(a -> a[0]));
        for (int i = 1; i < intervals.size(); i++) {
            if (intervals.get(i)[0] < intervals.get(i - 1)[1]) {
                overlaps++;
                violation("duplicate beyond lease: job %s had two accepted runs at once (event log)", row.id());
            }
        }
        return overlaps;
    }

    /** Counts the zombie attempts whose outcome was fenced out; any that got through is a violation. */
    private int checkZombies(Map<UUID, Row> rows, Map<UUID, List<Entry>> ledger, Map<UUID, List<EventLog.Event>> events) {
        int fenced = 0;
        for (Zombie zombie : zombies) {
            for (Held held : zombie.held()) {
                boolean wrote = ledger.getOrDefault(held.job(), List.of()).stream()
                        .anyMatch(e -> e.worker().equals(zombie.worker()) && e.attempt() == held.attempt());
                if (wrote) {
                    violation("zombie: paused worker %s's attempt %d of job %s was accepted after its lease expired",
                            zombie.worker(), held.attempt(), held.job());
                }
                Row row = rows.get(held.job());
                // Rescue fails a job whose retries are spent in place, keeping the expired lease on the row:
                // that is the paused attempt's legitimate end, not its outcome getting through.
                boolean failedByRescue = row != null && "failed".equals(row.status()) && row.attempt() == held.attempt()
                        && row.error() != null && row.error().startsWith("lease expired at ");
                if (row != null && held.leaseToken().equals(row.leaseToken()) && !failedByRescue) {
                    violation("zombie: job %s's final row still carries the paused worker %s's lease", held.job(), zombie.worker());
                }
                boolean ended = events.getOrDefault(held.job(), List.of()).stream()
                        .anyMatch(e -> !e.start() && e.worker().equals(zombie.worker()) && e.attempt() == held.attempt());
                if (ended && !wrote) {
                    fenced++;
                }
            }
        }
        return fenced;
    }

    private static int snoozesOf(Collection<Entry> entries) {
        return (int) entries.stream().filter(e -> e.note().equals("snooze")).count();
    }

    private void violation(String format, Object... args) {
        violations.add(String.format(format, args));
    }

    private static String firstLine(String text) {
        return text == null ? "no error" : text.lines().findFirst().orElse("");
    }
}
