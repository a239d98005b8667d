package dev.pgqueue.jdbi.worker;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;

/**
 * A worker in a JVM of its own, for {@link WorkerCrashTest} to kill. Each job writes a "start" row to
 * the ledger, works for a while, and completes. Arguments: JDBC URL, schema, worker id.
 */
public final class CrashingWorkerMain {

    public static void main(String[] args) throws Exception {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setMaximumPoolSize(6);
        config.addDataSourceProperty("ApplicationName", "crash-test-" + args[2]);
        HikariDataSource pool = new HikariDataSource(config);
        Jdbi jdbi = Jdbi.create(pool);
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(args[1]).migrate(false).build();
        Worker worker = Worker.builder(store)
                .workerId(args[2])
                .queue("default", 8)
                .leaseDuration(Duration.ofSeconds(2))
                .heartbeatInterval(Duration.ofMillis(500))
                .handler(WorkerCrashTest.WORK, (job, context) -> {
                    jdbi.useHandle(h -> h.execute(
                            "INSERT INTO " + args[1] + ".ledger (job_id, worker, event) VALUES (?, ?, 'start')",
                            job.id(), args[2]));
                    Thread.sleep(job.payload().millis());
                    return JobOutcome.done();
                })
                .build();
        worker.start();
        System.out.println("worker " + args[2] + " started");
        Thread.sleep(Long.MAX_VALUE); // until killed
    }
}
