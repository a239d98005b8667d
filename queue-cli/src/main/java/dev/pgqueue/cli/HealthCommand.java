package dev.pgqueue.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgqueue.Health.Status;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.QueueStats;
import dev.pgqueue.admin.TableStats;
import dev.pgqueue.StoreException;
import dev.pgqueue.jdbi.SchemaMigrator;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgqueue health}: the database's health as a probe or a cron job reads it, in the
 * {@link dev.pgqueue.Health} vocabulary of {@link dev.pgqueue.Worker#health()}. DOWN (exit
 * {@value PgQueueCli#EXIT_DOWN}): the database cannot be reached, or the schema is not ready for this
 * pgqueue ({@link dev.pgqueue.jdbi.SchemaMigrator#verify()}) and records no migration. DEGRADED (exit
 * {@value PgQueueCli#EXIT_DEGRADED}): the schema is not ready but records an earlier migration, a
 * transaction holds back vacuum of the job table (dead rows alone are not judged: see
 * {@link dev.pgqueue.admin.TableStats}), a queue that is not paused has a pending job overdue by more than {@code --max-pending-age}, or jobs
 * are processing with no live worker left to finish or rescue them. Otherwise UP (exit 0).
 */
@Command(name = "health", description = "Database reachable, schema version, table health, stuck jobs; exit 0 UP, 3 DEGRADED, 4 DOWN")
final class HealthCommand extends CliCommand {

    @Option(names = "--max-pending-age", paramLabel = "<age>", converter = Converters.Age.class,
            description = "A pending job due longer than this in a queue that is not paused is stuck (default: 5m)")
    Duration maxPendingAge = Duration.ofMinutes(5);

    @Option(names = "--max-transaction-age", paramLabel = "<age>", converter = Converters.Age.class,
            description = "A transaction open longer than this holds back vacuum of the job table (default: 1m, "
                    + "the worker's table-health interval)")
    Duration maxTransactionAge = Duration.ofMinutes(1);

    private Status status = Status.UP;
    private final List<String> reasons = new ArrayList<>();
    private final Map<String, String> checks = new LinkedHashMap<>();
    private final ObjectNode details = Json.object();

    @Override
    public Integer call() {
        check();
        if (json()) {
            ObjectNode node = Json.object();
            node.put("status", status.name());
            ArrayNode array = node.putArray("reasons");
            reasons.forEach(array::add);
            node.setAll(details);
            Json.print(out(), node);
        } else {
            PrintWriter out = out();
            out.println("status: " + status);
            checks.forEach((name, value) -> out.printf("  %-9s %s%n", name, value));
            if (!reasons.isEmpty()) {
                out.println("reasons:");
                reasons.forEach(reason -> out.println("  - " + reason));
            }
            out.flush();
        }
        return switch (status) {
            case UP -> PgQueueCli.EXIT_OK;
            case DEGRADED -> PgQueueCli.EXIT_DEGRADED;
            case DOWN -> PgQueueCli.EXIT_DOWN;
        };
    }

    private void check() {
        Database database = Database.unconnected(cli().urlOrNull(), cli().schema());
        try {
            database.ping();
            checks.put("database", "reachable");
            details.put("databaseReachable", true);
        } catch (CliException e) {
            checks.put("database", "unreachable");
            details.put("databaseReachable", false);
            worsen(Status.DOWN, e.getMessage());
            return;
        }
        int version = database.migrator().currentVersion();
        int latest = SchemaMigrator.latestVersion();
        ObjectNode schema = details.putObject("schema");
        schema.put("name", database.schema());
        schema.put("version", version);
        schema.put("expectedVersion", latest);
        checks.put("schema", database.schema() + " at migration version " + version + " (this pgqueue: " + latest + ")");
        try {
            database.migrator().verify();
        } catch (StoreException notReady) {
            // Older workers still run on an older schema; nothing runs on a schema without pgqueue.
            worsen(version > 0 ? Status.DEGRADED : Status.DOWN, (version > 0
                    ? "schema " + database.schema() + " is at migration version " + version + ", this pgqueue needs " + latest + ": "
                    : "") + OneLine.of(notReady.getMessage()) + Database.MIGRATE_HINT);
            return;
        }
        if (version == 0) {
            checks.put("schema", database.schema() + " holds every object of this pgqueue's migrations (version "
                    + latest + "), applied by another tool");
        }
        JobAdmin admin = database.admin();
        checkTable(admin.tableStats());
        checkJobs(admin);
    }

    private void checkTable(TableStats table) {
        details.set("table", Json.table(table));
        String summary = String.format("%,d live rows, %,d dead, %,d inserted since the last vacuum", table.liveRows(),
                table.deadRows(), table.insertedSinceVacuum());
        if (table.oldestTransactionAge() != null) {
            summary += "; oldest transaction open " + Formats.age(table.oldestTransactionAge());
        }
        checks.put("table", summary);
        if (table.oldestTransactionAge() != null && table.oldestTransactionAge().compareTo(maxTransactionAge) > 0) {
            worsen(Status.DEGRADED, "a transaction open for " + Formats.age(table.oldestTransactionAge()) + " ("
                    + table.oldestTransaction() + ") holds back vacuum of job_queue; claims slow down as dead rows pile up");
        }
    }

    private void checkJobs(JobAdmin admin) {
        List<QueueStats> queues = admin.queueStats();
        int workers = admin.workers().size();
        long processing = queues.stream().mapToLong(QueueStats::running).sum();
        List<String> stuck = new ArrayList<>();
        ArrayNode overdue = details.putArray("overdueQueues");
        for (QueueStats q : queues) {
            if (!q.paused() && q.oldestPendingAge() != null && q.oldestPendingAge().compareTo(maxPendingAge) > 0) {
                stuck.add(q.queue());
                ObjectNode node = overdue.addObject();
                node.put("queue", q.queue());
                node.put("pending", q.count(JobStatus.PENDING));
                node.put("oldestPendingAgeSeconds", q.oldestPendingAge().getSeconds());
                worsen(Status.DEGRADED, "queue " + OneLine.of(q.queue()) + ": a pending job has been due for "
                        + Formats.age(q.oldestPendingAge()) + " (more than " + Formats.age(maxPendingAge)
                        + "): no worker serves it, or the workers cannot keep up");
            }
        }
        details.put("liveWorkers", workers);
        details.put("processingJobs", processing);
        if (processing > 0 && workers == 0) {
            worsen(Status.DEGRADED, processing + " jobs are processing but no worker is alive: they stay stuck until a "
                    + "worker starts and rescues them after their lease");
        }
        checks.put("jobs", processing + " processing, " + workers + " live workers"
                + (stuck.isEmpty() ? ", no overdue queue" : ", overdue queues: " + OneLine.of(String.join(", ", stuck))));
    }

    private void worsen(Status to, String reason) {
        reasons.add(OneLine.of(reason));
        if (to.ordinal() > status.ordinal()) {
            status = to;
        }
    }
}
