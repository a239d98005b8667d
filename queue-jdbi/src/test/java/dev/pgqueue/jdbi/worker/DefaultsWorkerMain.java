package dev.pgqueue.jdbi.worker;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.Worker;
import org.jdbi.v3.core.Jdbi;

/**
 * A worker with every timing at its default (lease, heartbeat, presence, rescue), in a JVM of its own
 * for {@link KilledWorkerFastRescueTest} to SIGKILL. Each job writes a "start" row to the ledger and
 * then works for a minute, so that it is still running when the worker is killed. Arguments: JDBC
 * URL, schema, worker id.
 */
public final class DefaultsWorkerMain {

    public static void main(String[] args) throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setMaximumPoolSize(6);
        config.addDataSourceProperty("ApplicationName", "fast-rescue-" + args[2]);
        HikariDataSource pool = new HikariDataSource(config);
        Jdbi jdbi = Jdbi.create(pool);
        dev.pgqueue.jdbi.JdbiJobStore store = dev.pgqueue.jdbi.JdbiJobStore.builder(jdbi).schema(args[1]).migrate(false).build();
        Worker worker = Worker.builder(store)
                .workerId(args[2])
                .queue("default", KilledWorkerFastRescueTest.CHILD_CONCURRENCY)
                .handler(KilledWorkerFastRescueTest.WORK, (job, context) -> {
                    jdbi.useHandle(h -> h.execute(
                            "INSERT INTO " + args[1] + ".ledger (job_id, worker, event) VALUES (?, ?, 'start')",
                            job.id(), args[2]));
                    Thread.sleep(60_000);
                    return JobOutcome.done();
                })
                .build();
        worker.start();
        System.out.println("worker " + args[2] + " started");
        Thread.sleep(Long.MAX_VALUE); // until killed
    }
}
