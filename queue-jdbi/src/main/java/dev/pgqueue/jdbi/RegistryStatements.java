package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.JdbcTime.instant;
import static dev.pgqueue.jdbi.JdbcTime.setInstant;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.spi.JobStore.QueuePauseParams;
import dev.pgqueue.spi.JobStore.RecurringRecord;
import dev.pgqueue.spi.JobStore.UnservedJobs;
import dev.pgqueue.spi.JobStore.UnservedParams;
import dev.pgqueue.spi.JobStore.WorkerBeat;
import dev.pgqueue.spi.JobStore.WorkerBeatParams;
import dev.pgqueue.spi.JobStore.WorkerParams;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * The statements of V7's two small tables: the paused queues ({@code job_queue_queue}) and the worker
 * registry ({@code job_queue_worker}), plus the query for pending jobs no live worker serves. Kept
 * apart from {@link JobStatements}, which is about the job table's hot path.
 */
final class RegistryStatements {

    /** Only for building the registry's JSON columns; payloads never pass here. */
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String paused;
    private final String pause;
    private final String resume;
    private final String register;
    private final String beat;
    private final String delete;
    private final String prune;
    private final String unserved;

    RegistryStatements(String schema) {
        paused = SqlFiles.load("queue-paused", schema);
        pause = SqlFiles.load("queue-pause", schema);
        resume = SqlFiles.load("queue-resume", schema);
        register = SqlFiles.load("worker-register", schema);
        beat = SqlFiles.load("worker-beat", schema);
        delete = SqlFiles.load("worker-delete", schema);
        prune = SqlFiles.load("worker-prune", schema);
        unserved = SqlFiles.load("jobs-unserved", schema);
    }

    Set<String> paused(Connection c) throws SQLException {
        Set<String> queues = new LinkedHashSet<>();
        try (PreparedStatement ps = c.prepareStatement(paused); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                queues.add(rs.getString(1));
            }
        }
        return queues;
    }

    boolean pause(Connection c, QueuePauseParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(params.paused() ? pause : resume)) {
            ps.setString(1, params.queue());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    void register(Connection c, WorkerParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(register)) {
            setInstant(ps, 1, params.now());
            ps.setString(2, params.id());
            ps.setString(3, params.host());
            ps.setLong(4, params.pid());
            ps.setString(5, queuesJson(params));
            ps.setArray(6, c.createArrayOf("text", params.types().stream().sorted().toArray()));
            ps.setString(7, recurringJson(params.recurring()));
            ps.setString(8, params.version());
            ps.setDouble(9, JobStatements.micros(params.presenceInterval()));
            ps.executeUpdate();
        }
    }

    WorkerBeat beat(Connection c, WorkerBeatParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(beat)) {
            setInstant(ps, 1, params.now());
            ps.setInt(2, params.running());
            ps.setString(3, params.id());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new WorkerBeat(rs.getBoolean(1), rs.getBoolean(2));
            }
        }
    }

    void delete(Connection c, String workerId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(delete)) {
            ps.setString(1, workerId);
            ps.executeUpdate();
        }
    }

    int prune(Connection c, Instant now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(prune)) {
            setInstant(ps, 1, now);
            return ps.executeUpdate();
        }
    }

    List<UnservedJobs> unserved(Connection c, UnservedParams params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(unserved)) {
            setInstant(ps, 1, params.now());
            ps.setString(2, params.onlyFor());
            ps.setDouble(3, JobStatements.micros(params.pendingFor()));
            ps.setInt(4, params.limit());
            List<UnservedJobs> groups = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    groups.add(new UnservedJobs(rs.getString(1), rs.getString(2), rs.getLong(3), instant(rs, 4)));
                }
            }
            return groups;
        }
    }

    private static String queuesJson(WorkerParams params) {
        ObjectNode queues = JSON.createObjectNode();
        new TreeMap<>(params.queues()).forEach(queues::put);
        return queues.toString();
    }

    private static String recurringJson(List<RecurringRecord> recurring) {
        ArrayNode list = JSON.createArrayNode();
        for (RecurringRecord r : recurring) {
            list.addObject().put("name", r.name()).put("type", r.type()).put("queue", r.queue()).put("schedule", r.schedule());
        }
        return list.toString();
    }
}
