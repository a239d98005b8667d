package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static dev.pgqueue.jdbi.JdbcTime.setInstant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.Schedule;
import dev.pgqueue.StoreException;
import dev.pgqueue.admin.RecurringInfo;
import dev.pgqueue.admin.WorkerInfo;
import dev.pgqueue.internal.Check;
import dev.pgqueue.internal.RecurringJob;
import dev.pgqueue.internal.ScheduleText;
import dev.pgqueue.spi.JobStore.LatestDedupeKeyParams;
import dev.pgqueue.spi.JobStore.UnservedJobs;
import dev.pgqueue.spi.JobStore.UnservedParams;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.jdbi.v3.core.JdbiException;

/**
 * Reads the worker registry (V7's {@code job_queue_worker}) for the admin API: the live workers,
 * the recurring schedules they run with their last and next tick, and the pending jobs that no live
 * worker serves. Needs no running worker. Thread-safe.
 *
 * <p>A schedule's last tick is its newest tick enqueued so far that is not in the future (the
 * greatest dedupe key {@code recurring:<name>@<tick>} up to now: ticks are enqueued up to a poll
 * interval ahead); its next tick comes from its schedule text, as the workers recorded it.
 */
final class WorkerRegistry {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JdbiJobStore store;
    private final String list;
    private final Clock clock;

    WorkerRegistry(JdbiJobStore store) {
        this(store, Clock.systemUTC());
    }

    /** With {@code clock} deciding "now" for liveness and ticks (tests). */
    WorkerRegistry(JdbiJobStore store, Clock clock) {
        this.store = Check.notNull("store", store);
        this.list = SqlFiles.load("worker-list", store.schema());
        this.clock = clock;
    }

    /** {@return the live workers, newest first} */
    List<WorkerInfo> workers() {
        return rows().stream().map(Row::info).toList();
    }

    /**
     * The recurring schedules the live workers run, by name; where workers disagree on a schedule (a
     * deploy in progress), the newest worker's.
     *
     * @return the schedules with their last and next tick
     */
    List<RecurringInfo> recurring() {
        Map<String, JsonNode> byName = new TreeMap<>();
        for (Row row : rows()) { // newest first: the first seen wins
            for (JsonNode schedule : row.recurring()) {
                byName.putIfAbsent(schedule.path("name").asText(), schedule);
            }
        }
        Instant now = clock.instant();
        List<RecurringInfo> result = new ArrayList<>();
        byName.forEach((name, node) -> {
            String type = node.path("type").asText();
            String text = node.path("schedule").asText();
            RecurringJob keys = new RecurringJob(name, type, "{}", EnqueueOptions.defaults(), Schedule.every(Duration.ofSeconds(1)));
            Optional<Instant> last = store.jobLatestDedupeKey(new LatestDedupeKeyParams(type, keys.keyPrefix(), keys.key(now)))
                    .flatMap(keys::tickOf);
            Instant next = ScheduleText.parse(text).flatMap(s -> s.nextTick(now)).orElse(null);
            result.add(new RecurringInfo(name, type, node.path("queue").asText(), text, last.orElse(null), next));
        });
        return result;
    }

    /**
     * Pending jobs due for longer than {@code pendingFor} whose queue and type no live worker serves,
     * per queue and type, most first (for queue statistics: such jobs wait until a worker for them
     * starts).
     *
     * @param pendingFor how long due
     * @param limit      most groups
     * @return the groups
     */
    List<UnservedJobs> unserved(Duration pendingFor, int limit) {
        Check.notNegative("pendingFor", pendingFor);
        return store.jobUnservedList(new UnservedParams(pendingFor, limit, null, clock.instant()));
    }

    private record Row(WorkerInfo info, JsonNode recurring) {}

    private List<Row> rows() {
        try {
            return store.jdbi().withHandle(handle -> {
                try (PreparedStatement ps = handle.getConnection().prepareStatement(list)) {
                    setInstant(ps, 1, clock.instant());
                    List<Row> rows = new ArrayList<>();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Map<String, Integer> queues = new LinkedHashMap<>();
                            json(rs.getString(4)).fields().forEachRemaining(e -> queues.put(e.getKey(), e.getValue().asInt()));
                            rows.add(new Row(new WorkerInfo(rs.getString(1), rs.getString(2), rs.getLong(3), queues,
                                    rs.getString(5), instant(rs, 6), instant(rs, 7), rs.getInt(8)), json(rs.getString(9))));
                        }
                    }
                    return rows;
                }
            });
        } catch (SQLException | JdbiException e) {
            throw new StoreException("could not read the worker registry in " + store.schema() + ".job_queue_worker: "
                    + e.getMessage(), e);
        }
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("unreadable JSON in job_queue_worker: " + e.getOriginalMessage(), e);
        }
    }
}
