package dev.pgqueue.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import dev.pgqueue.cli.CliProcess.Result;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The read and write commands on jobs and queues, run as {@code java -jar pgqueue-cli.jar} against a
 * real PostgreSQL with jobs in every state made by a real worker: what they print (table and JSON),
 * what they change (and, dry, do not), and their exit codes. Each test that changes jobs works in a
 * queue of its own.
 */
@PostgresTest
class CliJobsIT {

    record Render(int n, String error) {}

    static final JobType<Render> RENDER = JobType.of("render", Render.class);
    static final JobType<Render> SEND_MAIL = JobType.of("send-mail", Render.class);
    static final ObjectMapper JSON = new ObjectMapper();
    static final UUID USER = UUID.fromString("0190d3c4-5a6b-7c8d-9e0f-123456789abc");

    static TestDatabase db;
    static JdbiJobStore store;
    static JdbiJobQueue queue;
    static Worker worker;

    /** The render worker serves these queues: a job fails on its first attempt when it carries an error, and completes after. */
    static final String[] WORKED = {"images", "status-img", "retry-q", "hostile-q"};

    @BeforeAll
    static void start(TestDatabase database) {
        db = database;
        store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        queue = JdbiJobQueue.create(store);
        Worker.Builder builder = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                .handler(RENDER, (job, context) -> {
                    if (job.payload().error() != null && job.attempt() == 1) {
                        throw new IllegalStateException(job.payload().error());
                    }
                    return JobOutcome.done(Map.of("rendered", job.payload().n()));
                });
        for (String q : WORKED) {
            builder.queue(q, 4);
        }
        worker = builder.build();
        worker.start();
    }

    @AfterAll
    static void stop() {
        worker.close();
    }

    static List<String> cli(String... args) {
        List<String> all = new ArrayList<>(List.of("--url", db.server().jdbcUrl(), "--schema", db.schema()));
        all.addAll(List.of(args));
        return all;
    }

    static Result run(String... args) {
        return CliProcess.run(cli(args).toArray(String[]::new));
    }

    static JsonNode json(Result result) throws Exception {
        assertThat(result.exit()).as(result.toString()).isZero();
        assertThat(result.err()).as(result.toString()).isEmpty();
        return JSON.readTree(result.out());
    }

    static UUID enqueue(String q, JobType<Render> type, int n, String error) {
        return queue.enqueue(type, new Render(n, error), EnqueueOptions.defaults().queue(q).maxRetries(0));
    }

    static long count(String where, Object... params) {
        return db.queryForLong("SELECT count(*) FROM " + db.schema() + ".job_queue WHERE " + where, params);
    }

    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** n failed jobs in queue {@code q} (which the worker serves), failed by a real attempt with {@code error}. */
    static List<UUID> failed(String q, int n, String error) throws InterruptedException {
        List<UUID> ids = IntStream.range(0, n).mapToObj(i -> enqueue(q, RENDER, i, error)).toList();
        for (UUID id : ids) {
            await("job " + id + " failed", () -> count("id = ? AND status = 'failed'", id) == 1);
        }
        return ids;
    }

    @Nested
    class Status {

        @Test
        void status_printsOneAlignedRowPerQueue_withCountsPerStatus() throws Exception {
            failed("status-img", 2, "timeout after 30s");
            enqueue("status-img", RENDER, 9, null);
            enqueue("status-q", SEND_MAIL, 1, null);
            enqueue("status-q", SEND_MAIL, 2, null);
            await("the status-img queue drained", () -> count("queue = 'status-img' AND status = 'completed'") == 1);

            Result result = run("status");

            assertThat(result.exit()).as(result.toString()).isZero();
            assertThat(result.err()).isEmpty();
            List<String> lines = result.out().lines().toList();
            assertThat(lines.get(0)).startsWith("QUEUE").contains("STATE", "PENDING", "RUNNING", "COMPLETED", "FAILED", "OLDEST PENDING");
            String statusRow = lines.stream().filter(l -> l.startsWith("status-q ")).findFirst().orElseThrow();
            assertThat(statusRow.split("\\s+")).startsWith("status-q", "active", "0", "2", "0", "0", "0", "0");
            int pendingEnd = lines.get(0).indexOf("PENDING") + "PENDING".length();
            assertThat(statusRow.substring(0, pendingEnd)).as("numbers right-aligned under their header").endsWith(" 2");
            assertThat(statusRow.indexOf("active")).isEqualTo(lines.get(0).indexOf("STATE"));
            String imagesRow = lines.stream().filter(l -> l.startsWith("status-img ")).findFirst().orElseThrow();
            assertThat(imagesRow.split("\\s+")).as("1 completed, 2 failed").startsWith("status-img", "active", "0", "0", "0", "1", "2", "0");
        }

        @Test
        void statusJson_givesEveryQueueWithItsCountsByStatus() throws Exception {
            enqueue("status-json-q", SEND_MAIL, 1, null);

            JsonNode queues = json(run("status", "--json"));

            JsonNode q = null;
            for (JsonNode node : queues) {
                if (node.get("queue").asText().equals("status-json-q")) {
                    q = node;
                }
            }
            assertThat(q).as(queues.toPrettyString()).isNotNull();
            assertThat(q.get("paused").asBoolean()).isFalse();
            assertThat(q.get("counts").get("pending").asLong()).isEqualTo(1);
            assertThat(q.get("counts").get("failed").asLong()).isZero();
            assertThat(q.get("countAccuracy").get("pending").asText()).as("a small table: every count exact").isEqualTo("exact");
            assertThat(q.get("countAccuracy").get("completed").asText()).isEqualTo("exact");
            assertThat(q.has("oldestPendingAgeSeconds")).isTrue();
        }
    }

    @Nested
    class ListAndShow {

        @Test
        void jobsList_filtersByQueueStatusTypeUserAndError_newestFirst() throws Exception {
            List<UUID> timeouts = failed("images", 2, "upstream TIMEOUT after 30s");
            UUID mail = queue.enqueue(SEND_MAIL, new Render(1, null), EnqueueOptions.defaults().queue("list-q").userId(USER));
            queue.enqueue(SEND_MAIL, new Render(2, null), EnqueueOptions.defaults().queue("list-q"));

            JsonNode page = json(run("jobs", "list", "--queue", "images", "--status", "failed", "--error", "timeout after", "--json"));
            assertThat(page.get("jobs").findValuesAsText("id")).containsAll(timeouts.stream().map(UUID::toString).toList());
            assertThat(page.get("jobs").findValuesAsText("status")).containsOnly("failed");
            assertThat(page.get("jobs").get(0).get("errorMessage").asText()).containsIgnoringCase("timeout after 30s");

            JsonNode byUser = json(run("jobs", "list", "--type", "send-mail", "--user", USER.toString(), "--json"));
            assertThat(byUser.get("jobs").findValuesAsText("id")).containsExactly(mail.toString());
            assertThat(byUser.get("jobs").get(0).get("payload").get("n").asInt()).isEqualTo(1);

            Result table = run("jobs", "list", "--queue", "list-q");
            assertThat(table.exit()).as(table.toString()).isZero();
            List<String> lines = table.out().lines().toList();
            assertThat(lines.get(0)).startsWith("ID").contains("TYPE", "QUEUE", "STATUS", "ATTEMPT", "CREATED", "ERROR");
            assertThat(lines).hasSize(3);
            assertThat(lines.get(2)).startsWith(mail.toString()).contains("send-mail", "list-q", "pending");
        }

        @Test
        void jobsList_pagesWithTheCursorItPrints_oldestFirstOnRequest() throws Exception {
            List<UUID> ids = IntStream.range(0, 5).mapToObj(i -> enqueue("page-q", SEND_MAIL, i, null)).toList();

            JsonNode first = json(run("jobs", "list", "--queue", "page-q", "--oldest-first", "--limit", "2", "--json"));
            String cursor = first.get("nextCursor").asText();
            JsonNode second = json(run("jobs", "list", "--queue", "page-q", "--oldest-first", "--limit", "2", "--cursor", cursor, "--json"));
            JsonNode third = json(run("jobs", "list", "--queue", "page-q", "--oldest-first", "--limit", "2", "--cursor",
                    second.get("nextCursor").asText(), "--json"));

            List<String> seen = new ArrayList<>(first.get("jobs").findValuesAsText("id"));
            seen.addAll(second.get("jobs").findValuesAsText("id"));
            seen.addAll(third.get("jobs").findValuesAsText("id"));
            assertThat(seen).containsExactlyElementsOf(ids.stream().map(UUID::toString).toList());
            assertThat(third.get("nextCursor").isNull()).isTrue();

            Result table = run("jobs", "list", "--queue", "page-q", "--limit", "2");
            assertThat(table.out()).contains("next page: --cursor ");
            assertThat(table.out().lines().skip(1).findFirst().orElseThrow()).startsWith(ids.get(4).toString());
        }

        @Test
        void jobShow_printsTheRowPayloadErrorAndAttemptHistory() throws Exception {
            UUID id = failed("images", 1, "renderer crashed: out of memory").get(0);

            Result shown = run("job", "show", id.toString());

            assertThat(shown.exit()).as(shown.toString()).isZero();
            assertThat(shown.out()).contains("id:         " + id, "type:       render", "queue:      images", "status:     failed",
                    "payload:", "\"n\" : 0", "error:", "renderer crashed: out of memory");
            JsonNode json = json(run("job", "show", id.toString(), "--json"));
            assertThat(json.get("id").asText()).isEqualTo(id.toString());
            assertThat(json.get("status").asText()).isEqualTo("failed");
            assertThat(json.get("payload").get("error").asText()).isEqualTo("renderer crashed: out of memory");
            assertThat(json.has("attempts")).isTrue();
            assertThat(json.get("dependsOn").isArray()).isTrue();
        }

        @Test
        void jobShow_ofAnUnknownId_failsWithOneLine_andAMalformedIdIsAUsageError() {
            UUID unknown = UUID.randomUUID();

            Result missing = run("job", "show", unknown.toString());
            assertThat(missing.exit()).isEqualTo(PgQueueCli.EXIT_ERROR);
            assertThat(missing.out()).isEmpty();
            assertThat(missing.err().strip()).isEqualTo("pgqueue: no job with id " + unknown + " in schema " + db.schema());

            Result malformed = run("job", "show", "not-a-uuid");
            assertThat(malformed.exit()).isEqualTo(PgQueueCli.EXIT_USAGE);
            assertThat(malformed.err().lines().findFirst().orElseThrow()).contains("expected a UUID", "got: not-a-uuid");
            assertThat(malformed.err()).doesNotContain("Exception", "\tat ");
        }
    }

    @Nested
    class Bulk {

        @Test
        void retryDryRun_countsWhatWouldChange_andChangesNothing_thenRetryRunsThemAgain() throws Exception {
            List<UUID> timeouts = failed("retry-q", 3, "timeout talking to the renderer");
            failed("retry-q", 1, "bad payload");
            String before = snapshot("retry-q");

            Result dry = run("retry", "--queue", "retry-q", "--error", "TIMEOUT", "--dry-run");

            assertThat(dry.exit()).as(dry.toString()).isZero();
            assertThat(dry.out().strip()).isEqualTo("would retry 3 jobs (dry run: nothing changed)");
            assertThat(snapshot("retry-q")).as("a dry run changes nothing").isEqualTo(before);

            JsonNode done = json(run("retry", "--queue", "retry-q", "--error", "TIMEOUT", "--json"));
            assertThat(done.get("action").asText()).isEqualTo("retry");
            assertThat(done.get("dryRun").asBoolean()).isFalse();
            assertThat(done.get("count").asLong()).isEqualTo(3);
            await("the retried jobs completed", () -> count("queue = 'retry-q' AND status = 'completed'") == 3);
            assertThat(count("queue = 'retry-q' AND status = 'failed' AND error_message LIKE '%bad payload%'")).isEqualTo(1);
            for (UUID id : timeouts) {
                assertThat(count("id = ? AND status = 'completed'", id)).isEqualTo(1);
            }
        }

        @Test
        void cancelById_cancelsThoseJobs_andAnUnknownIdChangesNothing() throws Exception {
            UUID a = enqueue("cancel-q", SEND_MAIL, 1, null);
            UUID b = enqueue("cancel-q", SEND_MAIL, 2, null);
            UUID c = enqueue("cancel-q", SEND_MAIL, 3, null);
            UUID unknown = UUID.randomUUID();

            Result refused = run("cancel", a.toString(), unknown.toString());
            assertThat(refused.exit()).isEqualTo(PgQueueCli.EXIT_ERROR);
            assertThat(refused.err().strip()).isEqualTo("pgqueue: no job with id " + unknown + " in schema " + db.schema()
                    + ": nothing was changed");
            assertThat(count("queue = 'cancel-q' AND status = 'pending'")).isEqualTo(3);

            Result dry = run("cancel", a.toString(), b.toString(), "--dry-run");
            assertThat(dry.out().strip()).isEqualTo("would cancel 2 jobs (dry run: nothing changed)");
            assertThat(count("queue = 'cancel-q' AND status = 'pending'")).isEqualTo(3);

            Result cancelled = run("cancel", a.toString(), b.toString());
            assertThat(cancelled.exit()).as(cancelled.toString()).isZero();
            assertThat(cancelled.out().strip()).isEqualTo("cancelled 2 jobs");
            assertThat(count("id IN (?, ?) AND status = 'cancelled'", a, b)).isEqualTo(2);
            assertThat(count("id = ? AND status = 'pending'", c)).isEqualTo(1);
        }

        @Test
        void deleteByFilter_dryRunMatchesWhatItThenDeletes() throws Exception {
            IntStream.range(0, 4).forEach(i -> enqueue("delete-q", SEND_MAIL, i, null));
            enqueue("delete-q", RENDER, 9, null);
            enqueue("keep-q", SEND_MAIL, 1, null);

            Result dry = run("delete", "--queue", "delete-q", "--type", "send-mail", "--dry-run", "--json");
            assertThat(json(dry).get("count").asLong()).isEqualTo(4);
            assertThat(count("queue = 'delete-q'")).isEqualTo(5);

            Result deleted = run("delete", "--queue", "delete-q", "--type", "send-mail");
            assertThat(deleted.out().strip()).isEqualTo("deleted 4 jobs");
            assertThat(count("queue = 'delete-q'")).isEqualTo(1);
            assertThat(count("queue = 'keep-q'")).isEqualTo(1);
        }

        @Test
        void dryRun_countsOnlyTheStatusesTheActionChanges() throws Exception {
            enqueue("status-mix-q", SEND_MAIL, 1, null);

            Result retryPending = run("retry", "--queue", "status-mix-q", "--status", "pending", "--dry-run");
            assertThat(retryPending.out().strip()).isEqualTo("would retry 0 jobs (dry run: nothing changed)");
            Result retry = run("retry", "--queue", "status-mix-q", "--status", "pending");
            assertThat(retry.out().strip()).isEqualTo("retried 0 jobs");
            Result cancelDry = run("cancel", "--queue", "status-mix-q", "--dry-run");
            assertThat(cancelDry.out().strip()).isEqualTo("would cancel 1 job (dry run: nothing changed)");
        }

        @Test
        void aBulkCommandWithoutIdsOrFilters_isRefused_unlessAllIsGiven() {
            enqueue("all-q", SEND_MAIL, 1, null);

            Result refused = run("delete");
            assertThat(refused.exit()).isEqualTo(PgQueueCli.EXIT_USAGE);
            assertThat(refused.err().strip()).startsWith("pgqueue: delete needs job ids or at least one filter");
            assertThat(count("queue = 'all-q'")).isEqualTo(1);

            Result all = run("cancel", "--all", "--dry-run");
            assertThat(all.exit()).as(all.toString()).isZero();
            assertThat(all.out()).startsWith("would cancel ");
        }

        @Test
        void hostileFilterText_isMatchedAsText_neverRunAsSql() throws Exception {
            String hostileError = "x'); DELETE FROM job_queue; DROP TABLE job_queue; --";
            failed("hostile-q", 1, hostileError);
            enqueue("hostile-q", SEND_MAIL, 1, null);
            long jobs = count("true");
            // "%" and "q_eue" match every message, and the hostile one, if taken as LIKE patterns; they are text.

            for (String error : List.of("'; DROP TABLE job_queue; --", "%", "q_eue", "\\", "' OR '1'='1")) {
                Result dry = run("delete", "--error", error, "--queue", "hostile-q", "--dry-run");
                assertThat(dry.exit()).as(dry.toString()).isZero();
                assertThat(dry.out().strip()).as("--error %s", error).isEqualTo("would delete 0 jobs (dry run: nothing changed)");
            }
            for (String error : List.of("'; DROP TABLE job_queue; --", "%")) {
                Result delete = run("delete", "--error", error);
                assertThat(delete.out().strip()).as("--error %s", error).isEqualTo("deleted 0 jobs");
            }
            Result byQueue = run("delete", "--queue", "hostile-q' OR '1'='1", "--type", "x\"; DROP SCHEMA public; --");
            assertThat(byQueue.out().strip()).isEqualTo("deleted 0 jobs");
            assertThat(count("true")).as("nothing deleted, the table still there").isEqualTo(jobs);

            Result exact = run("jobs", "list", "--error", "DELETE FROM job_queue; DROP", "--json");
            assertThat(json(exact).get("jobs").findValuesAsText("errorMessage")).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                    .contains(hostileError);
        }

        private String snapshot(String q) {
            return db.queryForList("SELECT id, status, attempt, retry_count, error_message, run_at, completed_at FROM "
                    + db.schema() + ".job_queue WHERE queue = ? ORDER BY id", q).toString();
        }
    }

    @Nested
    class PauseAndResume {

        @Test
        void pauseAndResume_showInStatus() throws Exception {
            enqueue("pause-q", SEND_MAIL, 1, null);

            Result paused = run("pause", "pause-q");
            assertThat(paused.exit()).as(paused.toString()).isZero();
            assertThat(paused.out().strip()).isEqualTo("paused queue pause-q");
            assertThat(row("pause-q")).contains("paused");

            JsonNode resumed = json(run("resume", "pause-q", "--json"));
            assertThat(resumed.get("queue").asText()).isEqualTo("pause-q");
            assertThat(resumed.get("paused").asBoolean()).isFalse();
            assertThat(row("pause-q")).contains("active");
        }

        private String row(String q) {
            Result status = run("status");
            return status.out().lines().filter(l -> l.startsWith(q + " ")).findFirst().orElseThrow(() -> new AssertionError(status));
        }
    }

    @Nested
    class Workers {

        @Test
        void workers_listsTheLiveWorker_withItsQueues() throws Exception {
            await("the worker registered", () -> !run("workers", "--json").out().strip().equals("[]"));

            JsonNode workers = json(run("workers", "--json"));
            JsonNode ours = null;
            for (JsonNode w : workers) {
                if (w.get("id").asText().equals(worker.workerId())) {
                    ours = w;
                }
            }
            assertThat(ours).as(workers.toPrettyString()).isNotNull();
            assertThat(ours.get("queues").get("images").asInt()).isEqualTo(4);
            assertThat(Instant.parse(ours.get("lastHeartbeat").asText())).isAfter(Instant.now().minus(Duration.ofMinutes(5)));

            Result table = run("workers");
            assertThat(table.out().lines().findFirst().orElseThrow()).startsWith("ID").contains("HOST", "QUEUES", "HEARTBEAT");
            assertThat(table.out()).contains(worker.workerId(), "images=4");
        }
    }
}
