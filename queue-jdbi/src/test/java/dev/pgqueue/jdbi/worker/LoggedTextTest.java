package dev.pgqueue.jdbi.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.internal.LogText;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * What the worker logs of text it does not control: exception messages, payloads that do not map,
 * notifications any role may send. Each is escaped (no forged log lines) and cut; payload content is
 * logged only when the application asked for it. The log is read where slf4j-simple writes it.
 */
@PostgresTest
class LoggedTextTest extends WorkerFixture {

    record Task(int n) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class).withRetryPolicy(RetryPolicy.noBackoff());
    private static final String FORGED = "12:00:00.000 [main] ERROR forged.Logger - FORGED LINE";

    private volatile ByteArrayOutputStream captured;

    LoggedTextTest(TestDatabase db) {
        super(db);
    }

    @Test
    void hugeExceptionMessagesWithLineBreaks_areLoggedEscapedAndCut() {
        String huge = "boom\n" + FORGED + "\n" + "x".repeat(5_000_000);
        String log = logged(builder -> builder.handler(TASK, (job, context) -> {
            throw new IllegalStateException(huge);
        }), () -> {
            UUID id = queue.enqueue(TASK, new Task(1), EnqueueOptions.defaults().maxRetries(0));
            awaitStatus(id, "failed");
        });
        assertThat(log).contains("boom\\n12:00:00.000 [main] ERROR forged.Logger - FORGED LINE\\nxxx");
        assertThat(log.lines()).noneMatch(line -> line.startsWith(FORGED));
        assertThat(log.lines().mapToInt(String::length).max().orElse(0)).isLessThan(LogText.MAX_LENGTH + 400);
    }

    @Test
    void payloadThatDoesNotMap_isNotQuotedInTheLog_unlessAskedFor() {
        String secret = "jane.doe@example.com";
        String log = logged(builder -> builder.handler(TASK, (job, context) -> JobOutcome.done()), () -> {
            UUID id = insertRaw("{\"n\": \"" + secret + "\"}");
            awaitStatus(id, "failed");
            assertThat((String) db.queryForList("SELECT error_message FROM job_queue WHERE id = ?", id).get(0)
                    .get("error_message")).as("the job itself says why").contains(secret);
        });
        assertThat(log).contains("cannot run: its payload cannot be read as Task").doesNotContain(secret);

        String optedIn = logged(builder -> builder.handler(TASK, (job, context) -> JobOutcome.done()).logPayloads(true), () -> {
            UUID id = insertRaw("{\"n\": \"" + secret + "\"}");
            awaitStatus(id, "failed");
        });
        assertThat(optedIn).contains(secret);
    }

    @Test
    void malformedNotifications_areLoggedOnce_escapedAndCut() {
        String channel = (String) db.queryForList("SELECT job_queue_channel() AS c").get(0).get("c");
        String log = logged(builder -> builder.handler(TASK, (job, context) -> JobOutcome.done()), () -> {
            awaitListening(channel);
            for (int i = 0; i < 50; i++) {
                db.execute("SELECT pg_notify(?, ?)", channel, "cancel:x\n" + FORGED + "\n" + "y".repeat(7_000));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> captured.toString(StandardCharsets.UTF_8).contains("malformed"));
            UUID id = queue.enqueue(TASK, new Task(1));
            awaitStatus(id, "completed");
        });
        assertThat(log.lines()).noneMatch(line -> line.startsWith(FORGED));
        assertThat(log.lines().filter(line -> line.contains("malformed notification")).count()).isEqualTo(1);
        assertThat(log).contains("cancel:x\\n" + FORGED + "\\nyyy");
        assertThat(log.lines().mapToInt(String::length).max().orElse(0)).isLessThan(LogText.MAX_LENGTH + 400);
    }

    private UUID insertRaw(String payloadJson) {
        UUID id = UUID.randomUUID();
        db.execute("INSERT INTO job_queue (id, job_type, payload, max_retries) VALUES (?, 'task', CAST(? AS jsonb), 0)",
                id, payloadJson);
        return id;
    }

    private void awaitStatus(UUID id, String status) {
        await().atMost(Duration.ofSeconds(15)).until(() ->
                status.equals(db.queryForList("SELECT status FROM job_queue WHERE id = ?", id).get(0).get("status")));
    }

    private void awaitListening(String channel) {
        await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong(
                "SELECT count(*) FROM pg_stat_activity WHERE query = ?", "LISTEN \"" + channel + "\"") > 0);
    }

    /** What the worker logged (slf4j-simple writes to System.err) while it ran {@code body}. */
    private String logged(Consumer<Worker.Builder> options, Runnable body) {
        captured = new ByteArrayOutputStream();
        PrintStream stderr = System.err;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(200));
        options.accept(builder);
        Worker worker = builder.build();
        try {
            worker.start();
            body.run();
        } finally {
            worker.close();
            System.setErr(stderr);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        // The test's own log keeps a short copy.
        Arrays.stream(log.split("\n")).map(line -> line.length() > 300 ? line.substring(0, 300) + "…" : line)
                .forEach(stderr::println);
        return log;
    }
}
