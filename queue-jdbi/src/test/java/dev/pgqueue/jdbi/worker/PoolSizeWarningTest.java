package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * A pool too small for a worker's transactional handlers serializes them; the worker says so at
 * start, with the numbers, when the pool tells its size (a real HikariCP pool here).
 */
@PostgresTest
class PoolSizeWarningTest {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    private final TestDatabase db;

    PoolSizeWarningTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void poolSmallerThanTransactionalHandlersNeed_isWarnedAboutAtStart_withTheNumbers() {
        JdbiJobStore store = JdbiJobStore.builder(Jdbi.create(db.newDataSource("pool-check-small", 2))).schema(db.schema()).build();
        String log = loggedAtStart(store, s -> s.transactional((job, context, handle) -> JobOutcome.done()));
        assertThat(log).contains("its store can lend it 1 connections at once")
                .contains("but it may use 8: 4 for claiming, recording outcomes, heartbeats and maintenance, "
                        + "and 4 for transactional handlers (concurrency 4)")
                .contains("make the pool at least 7 larger");
    }

    @Test
    void poolLargeEnough_orHandlersThatHoldNoConnection_areNotWarnedAbout() {
        JdbiJobStore large = JdbiJobStore.builder(Jdbi.create(db.newDataSource("pool-check-large", 9))).schema(db.schema()).build();
        assertThat(loggedAtStart(large, s -> s.transactional((job, context, handle) -> JobOutcome.done())))
                .doesNotContain("connections at once");

        JdbiJobStore plain = JdbiJobStore.builder(Jdbi.create(db.newDataSource("pool-check-plain", 5))).schema(db.schema()).build();
        assertThat(loggedAtStart(plain, s -> (job, context) -> JobOutcome.done())).doesNotContain("connections at once");
    }

    private static String loggedAtStart(JdbiJobStore store, Function<JdbiJobStore, dev.pgqueue.JobHandler<Task>> handler) {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (Worker worker = Worker.builder(store).queue("default", 4).handler(TASK, handler.apply(store)).build()) {
            worker.start();
        } finally {
            System.setErr(stderr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        stderr.print(log);
        return log;
    }
}
