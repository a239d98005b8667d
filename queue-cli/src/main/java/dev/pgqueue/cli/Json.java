package dev.pgqueue.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.AttemptRecord;
import dev.pgqueue.admin.JobDetail;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.QueueStats;
import dev.pgqueue.admin.TableStats;
import dev.pgqueue.admin.WorkerInfo;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.UUID;

/**
 * The {@code --json} form of what the commands print, one stable shape per API record: camelCase
 * names as the records have them, instants as ISO-8601 strings in UTC, ages in seconds, statuses in
 * lower case as the SQL contract spells them, payloads and results as JSON. Absent values are null.
 */
final class Json {

    static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {}

    static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    static void print(PrintWriter out, JsonNode node) {
        try {
            out.println(MAPPER.writeValueAsString(node));
            out.flush();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("could not write JSON: " + e.getMessage(), e);
        }
    }

    static ObjectNode job(JobSnapshot job) {
        ObjectNode node = object();
        node.put("id", job.id().toString());
        node.put("type", job.type());
        node.put("queue", job.queue());
        node.put("status", job.status().sqlValue());
        node.put("priority", job.priority());
        node.put("attempt", job.attempt());
        node.put("retryCount", job.retryCount());
        node.put("maxRetries", job.maxRetries());
        node.put("runAt", instant(job.runAt()));
        node.put("createdAt", instant(job.createdAt()));
        node.put("processedAt", instant(job.processedAt()));
        node.put("completedAt", instant(job.completedAt()));
        node.put("errorMessage", job.errorMessage());
        node.put("userId", uuid(job.userId()));
        node.put("dedupeKey", job.dedupeKey());
        node.set("payload", parsed(job.payloadJson()));
        node.set("result", parsed(job.resultJson()));
        if (job.progress() == null) {
            node.putNull("progress");
        } else {
            ObjectNode progress = node.putObject("progress");
            progress.put("percent", job.progress().percent());
            progress.put("message", job.progress().message());
            progress.put("reportedAt", instant(job.progress().reportedAt()));
        }
        return node;
    }

    static ObjectNode detail(JobDetail detail) {
        ObjectNode node = job(detail.job());
        ArrayNode attempts = node.putArray("attempts");
        for (AttemptRecord a : detail.attempts()) {
            ObjectNode attempt = attempts.addObject();
            attempt.put("attempt", a.attempt());
            attempt.put("at", instant(a.at()));
            attempt.put("kind", a.kind());
            attempt.put("message", a.message());
            attempt.put("worker", a.worker());
        }
        node.set("dependsOn", uuids(detail.dependsOn()));
        node.set("dependents", uuids(detail.dependents()));
        ObjectNode trace = node.putObject("traceContext");
        detail.traceContext().forEach(trace::put);
        return node;
    }

    static ObjectNode queue(QueueStats stats) {
        ObjectNode node = object();
        node.put("queue", stats.queue());
        node.put("paused", stats.paused());
        ObjectNode counts = node.putObject("counts");
        ObjectNode accuracy = node.putObject("countAccuracy");
        for (JobStatus status : JobStatus.values()) {
            counts.put(status.sqlValue(), stats.count(status));
            JobCount count = stats.counts().get(status);
            accuracy.put(status.sqlValue(), (count == null ? JobCount.Accuracy.EXACT : count.accuracy()).jsonName());
        }
        node.put("running", stats.running());
        node.put("oldestPendingAgeSeconds", seconds(stats.oldestPendingAge()));
        node.put("completedLast1m", stats.completedLast1m());
        node.put("completedLast5m", stats.completedLast5m());
        node.put("completedLast15m", stats.completedLast15m());
        node.put("failedLast1m", stats.failedLast1m());
        node.put("failedLast5m", stats.failedLast5m());
        node.put("failedLast15m", stats.failedLast15m());
        return node;
    }

    static ObjectNode worker(WorkerInfo worker) {
        ObjectNode node = object();
        node.put("id", worker.id());
        node.put("host", worker.host());
        node.put("pid", worker.pid());
        ObjectNode queues = node.putObject("queues");
        worker.queues().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> queues.put(e.getKey(), e.getValue()));
        node.put("version", worker.version());
        node.put("startedAt", instant(worker.startedAt()));
        node.put("lastHeartbeat", instant(worker.lastHeartbeat()));
        node.put("running", worker.running());
        return node;
    }

    static ObjectNode table(TableStats stats) {
        ObjectNode node = object();
        node.put("liveRows", stats.liveRows());
        node.put("deadRows", stats.deadRows());
        node.put("insertedSinceVacuum", stats.insertedSinceVacuum());
        node.put("lastVacuum", instant(stats.lastVacuum()));
        node.put("oldestTransaction", stats.oldestTransaction());
        if (stats.oldestTransactionAge() == null) {
            node.putNull("oldestTransactionAgeSeconds");
        } else {
            node.put("oldestTransactionAgeSeconds", seconds(stats.oldestTransactionAge()));
        }
        return node;
    }

    static String instant(Instant instant) {
        return instant == null ? null : instant.toString();
    }

    private static String uuid(UUID id) {
        return id == null ? null : id.toString();
    }

    private static long seconds(Duration duration) {
        return duration == null ? 0 : duration.getSeconds();
    }

    private static ArrayNode uuids(Collection<UUID> ids) {
        ArrayNode array = array();
        ids.forEach(id -> array.add(id.toString()));
        return array;
    }

    /** Stored JSON as JSON; text that does not parse (it should not happen) as a string. */
    private static JsonNode parsed(String json) {
        if (json == null) {
            return MAPPER.nullNode();
        }
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return MAPPER.getNodeFactory().textNode(json);
        }
    }
}
