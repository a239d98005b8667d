package dev.pgqueue.jdbi.worker;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.time.Duration;
import org.jdbi.v3.core.Jdbi;

/**
 * A worker in a JVM of its own whose handler ends the JVM: {@code System.exit} for "exit", a crash
 * without shutdown hooks ({@code Runtime.halt}) for "halt". Arguments: JDBC URL, schema, worker id, how.
 */
public final class ExitingWorkerMain {

    public static void main(String[] args) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(args[0]);
        config.setMaximumPoolSize(4);
        Jdbi jdbi = Jdbi.create(new HikariDataSource(config));
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(args[1]).migrate(false).build();
        Worker worker = Worker.builder(store)
                .workerId(args[2])
                .leaseDuration(Duration.ofSeconds(2))
                .heartbeatInterval(Duration.ofMillis(500))
                .pollInterval(Duration.ofMillis(200))
                .handler(HandlerMisbehaviourTest.EXIT, (job, context) -> {
                    if (args[3].equals("halt")) {
                        Runtime.getRuntime().halt(42);
                    }
                    System.exit(41);
                    throw new AssertionError("unreachable");
                })
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(worker::close));
        worker.start();
    }
}
