package dev.pgqueue.jdbi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.postgres.UncheckedSQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * Bad and hostile input, from Java and from SQL producers. Every case asserts the error and that
 * nothing else changed: the table holds exactly the rows it held before.
 */
@PostgresTest
class HostileInputTest {

    record Text(String text) {}

    static final JobType<Text> TEXT = JobType.of("text", Text.class);
    static final JobType<JsonNode> TREE = JobType.of("tree", JsonNode.class);

    private final TestDatabase db;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private UUID bystander;

    HostileInputTest(TestDatabase db) {
        this.db = db;
        this.store = JdbiJobStore.builder(Jdbi.create(db.dataSource())).schema(db.schema()).build();
        this.queue = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void oneBystanderJob() {
        db.execute("DELETE FROM job_queue");
        bystander = queue.enqueue(TEXT, new Text("bystander"));
    }

    @AfterEach
    void nothingElseChanged() {
        assertThat(db.queryForList("SELECT id, status, payload::text AS payload FROM job_queue WHERE id = ?", bystander))
                .as("the bystander job is untouched")
                .containsExactly(Map.of("id", bystander, "status", "pending", "payload", "{\"text\": \"bystander\"}"));
    }

    private long jobs() {
        return db.queryForLong("SELECT count(*) FROM job_queue");
    }

    @Nested
    class Payloads {

        @Test
        void tenMegabytes_isRejectedAtEnqueue_withTheLimitInTheMessage() {
            Text huge = new Text("x".repeat(10 * 1024 * 1024));

            assertThatThrownBy(() -> queue.enqueue(TEXT, huge))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected payload of job type text to be at most 1048576 bytes of JSON"
                            + " (JdbiJobQueue.Builder.maxPayloadBytes), got: 10485771");
            assertThatThrownBy(() -> queue.enqueueAll(TEXT, List.of(new Text("ok"), huge), EnqueueOptions.defaults()))
                    .as("a batch is all or nothing")
                    .isInstanceOf(ValidationException.class);
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void theLimitIsConfigurable_andCountsUtf8Bytes() {
            JdbiJobQueue small = JdbiJobQueue.builder(store).maxPayloadBytes(40).build();
            // 13 characters of 4 UTF-8 bytes each: 52 bytes + 11 of JSON around them, over 40.
            assertThatThrownBy(() -> small.enqueue(TEXT, new Text("😀".repeat(13))))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("at most 40 bytes")
                    .hasMessageEndingWith("got: 63");
            UUID fits = small.enqueue(TEXT, new Text("😀".repeat(7)));
            assertThat(jobs()).isEqualTo(2);
            db.execute("DELETE FROM job_queue WHERE id = ?", fits);
            assertThatThrownBy(() -> JdbiJobQueue.builder(store).maxPayloadBytes(1))
                    .hasMessage("expected maxPayloadBytes to be >= 2, got: 1");
        }

        @Test
        void sqlFunction_rejectsTenMegabytes_andHonoursTheOwnersSetting() {
            assertThatThrownBy(() -> db.execute(
                            "SELECT job_queue_enqueue('text', jsonb_build_object('text', repeat('x', 10 * 1024 * 1024)))"))
                    .isInstanceOf(UncheckedSQLException.class)
                    .hasMessageContaining("expected payload to be at most 1048576 bytes of JSON (job_queue_setting.max_payload_bytes),"
                            + " got: 10485772 bytes");
            db.execute("UPDATE job_queue_setting SET max_payload_bytes = 64");
            try {
                assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('text', jsonb_build_object('text', repeat('x', 100)))"))
                        .hasMessageContaining("at most 64 bytes");
            } finally {
                db.execute("UPDATE job_queue_setting SET max_payload_bytes = 1048576");
            }
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void nulCharacter_isRejectedAtEnqueue_andBySql() {
            assertThatThrownBy(() -> queue.enqueue(TEXT, new Text("before\u0000after")))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected payload.text to be a string without \\u0000 (PostgreSQL's jsonb cannot store it)");
            assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('text', '{\"text\": \"a\\u0000b\"}')"))
                    .hasMessageContaining("unsupported Unicode escape sequence");
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void halfASurrogatePair_isRejectedAtEnqueue_insteadOfBeingStoredAsAQuestionMark() {
            assertThatThrownBy(() -> queue.enqueue(TEXT, new Text("broken \uD83D emoji")))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageContaining("valid Unicode (a string holds half a surrogate pair, U+D83D");
            assertThatThrownBy(() -> queue.enqueue(TEXT, new Text("\uDE00 low half first")))
                    .isInstanceOf(ValidationException.class);
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void unusualUnicode_isStoredExactly() {
            String[] texts = {
                "😀 👩‍👩‍👧‍👦 🏳️‍🌈", "שלום עולם", "مرحبا", "e\u0301 vs é", "\uFEFFbom", "line\u2028separator",
                "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "汉字かなカナ", "tab\tnewline\n\"quote\" \\backslash", "\u001f control", "\uFFFF"
            };
            for (String text : texts) {
                UUID id = queue.enqueue(TEXT, new Text(text));
                assertThat(db.queryForList("SELECT payload->>'text' AS t FROM job_queue WHERE id = ?", id).get(0).get("t"))
                        .as("round trip of %s", text)
                        .isEqualTo(text);
                db.execute("DELETE FROM job_queue WHERE id = ?", id);
            }
        }

        @Test
        void deeplyNestedJson_isRejectedAtEnqueue() {
            JsonNode deep = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < 5_000; i++) {
                ArrayNode outer = JsonNodeFactory.instance.arrayNode();
                outer.add(deep);
                deep = outer;
            }
            JsonNode payload = deep;
            assertThatThrownBy(() -> queue.enqueue(TREE, payload))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageStartingWith("cannot write the payload of job type tree as JSON")
                    .hasMessageContaining("nesting depth");
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void deeplyNestedJsonFromSql_failsThatJobClearly_andTheWorkerKeepsServing() {
            UUID deep = (UUID) db.queryForList("INSERT INTO job_queue (job_type, payload) VALUES ('tree', "
                    + "(repeat('[', 3000) || repeat(']', 3000))::jsonb) RETURNING id").get(0).get("id");
            UUID fine = (UUID) db.queryForList("INSERT INTO job_queue (job_type, payload) VALUES ('tree', '[1, [2]]')"
                    + " RETURNING id").get(0).get("id");
            Worker worker = Worker.builder(store).pollInterval(Duration.ofMillis(100))
                    .handler(TREE.withPermanentPayloadFailures(), (job, context) -> JobOutcome.done()).build();
            worker.start();
            try {
                await().atMost(Duration.ofSeconds(15)).until(() ->
                        db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'tree' AND status IN ('completed', 'failed')") == 2);
            } finally {
                worker.close();
            }
            Map<String, Object> failed = db.queryForList("SELECT status, attempt, error_message FROM job_queue WHERE id = ?", deep).get(0);
            assertThat(failed).containsEntry("status", "failed").containsEntry("attempt", 1);
            assertThat((String) failed.get("error_message"))
                    .startsWith("payload of job tree/" + deep + " does not map to JsonNode")
                    .contains("nesting depth");
            assertThat(db.queryForList("SELECT status FROM job_queue WHERE id = ?", fine).get(0)).containsEntry("status", "completed");
            db.execute("DELETE FROM job_queue WHERE job_type = 'tree'");
        }
    }

    @Nested
    class Names {

        private static final List<String> HOSTILE = List.of(
                "x'; DROP TABLE job_queue; --",
                "quote\"d",
                "with space",
                "semi;colon",
                "",
                " ",
                "ünïcödé",
                "new\nline",
                "nul\u0000",
                "x".repeat(10_000));

        @Test
        void hostileJobTypeNames_areRejected_inJavaAndSql() {
            for (String name : HOSTILE) {
                assertThatThrownBy(() -> JobType.of(name, Text.class))
                        .as("JobType.of(%s)", name)
                        .isInstanceOf(ValidationException.class)
                        .hasMessageStartingWith("expected job type name to be 1-128 characters");
                if (name.indexOf('\u0000') < 0) {
                    assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue(?, '{}')", name))
                            .as("job_queue_enqueue(%s)", name)
                            .hasMessageContaining("expected job_type to be 1-128 characters");
                    assertThatThrownBy(() -> db.execute("INSERT INTO job_queue (job_type) VALUES (?)", name))
                            .as("INSERT %s", name)
                            .hasMessageContaining("job_queue_job_type_check");
                }
            }
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void hostileQueueNames_areRejected_inJavaAndSql() {
            for (String name : HOSTILE) {
                assertThatThrownBy(() -> EnqueueOptions.defaults().queue(name))
                        .as("queue(%s)", name)
                        .isInstanceOf(ValidationException.class)
                        .hasMessageStartingWith("expected queue to be 1-63 characters");
                assertThatThrownBy(() -> Worker.builder(store).queue(name, 1)).isInstanceOf(ValidationException.class);
                if (name.indexOf('\u0000') < 0) {
                    assertThatThrownBy(() -> db.execute("SELECT job_queue_enqueue('text', '{}', queue => ?)", name))
                            .hasMessageContaining("expected queue to be 1-63 characters");
                }
            }
            assertThat(jobs()).isEqualTo(1);
        }

        @Test
        void hostileSchemaNames_areRejected_beforeAnySql() {
            long schemas = db.queryForLong("SELECT count(*) FROM pg_namespace");
            Jdbi jdbi = Jdbi.create(db.dataSource());
            for (String name : List.of("public\"; DROP SCHEMA public CASCADE; --", "My Schema", "a;b", "Upper",
                    "x".repeat(64), "", "pg_temp\"", "\"quoted\"")) {
                assertThatThrownBy(() -> JdbiJobStore.builder(jdbi).schema(name))
                        .as("schema(%s)", name)
                        .isInstanceOf(ValidationException.class)
                        .hasMessageStartingWith("expected schema to be a lower-case SQL identifier");
                assertThatThrownBy(() -> SchemaMigrator.of(jdbi, name)).isInstanceOf(ValidationException.class);
            }
            assertThat(db.queryForLong("SELECT count(*) FROM pg_namespace")).isEqualTo(schemas);
        }

        @Test
        void aWorkerIdFullOfSql_isBoundAsData() {
            String id = "w'); DELETE FROM job_queue; --\"";
            UUID job = queue.enqueue(TEXT, new Text("run me"), EnqueueOptions.defaults().queue("q_hostile"));
            Worker worker = Worker.builder(store).workerId(id).queue("q_hostile", 1).pollInterval(Duration.ofMillis(100))
                    .handler(TEXT, (j, context) -> JobOutcome.done()).build();
            worker.start();
            try {
                await().atMost(Duration.ofSeconds(10)).until(() ->
                        "completed".equals(db.queryForList("SELECT status FROM job_queue WHERE id = ?", job).get(0).get("status")));
            } finally {
                worker.close();
            }
            assertThat(db.queryForList("SELECT lease_owner FROM job_queue WHERE id = ?", job).get(0)).containsEntry("lease_owner", id);
            db.execute("DELETE FROM job_queue WHERE id = ?", job);
        }
    }

    @Nested
    class ErrorMessages {

        @Test
        void longErrorsAreCutToTheDocumentedLength_neverInsideACharacter() {
            for (String prefix : List.of("", "x")) { // both parities: one cut lands inside a pair
                String message = prefix + "😀".repeat(10_000);
                UUID id = queue.enqueue(TEXT, new Text("fails"), EnqueueOptions.defaults().maxRetries(0).queue("errors"));
                Worker serving = Worker.builder(store).pollInterval(Duration.ofMillis(100)).queue("errors", 1)
                        .handler(TEXT, (job, context) -> {
                            throw new IllegalStateException(message);
                        }).build();
                serving.start();
                try {
                    await().atMost(Duration.ofSeconds(10)).until(() ->
                            "failed".equals(db.queryForList("SELECT status FROM job_queue WHERE id = ?", id).get(0).get("status")));
                } finally {
                    serving.close();
                }
                String stored = (String) db.queryForList("SELECT error_message FROM job_queue WHERE id = ?", id).get(0).get("error_message");
                String kept = stored.substring(0, stored.indexOf("… [truncated"));
                assertThat(stored.length()).isLessThanOrEqualTo(Worker.MAX_ERROR_MESSAGE_LENGTH);
                assertThat(("java.lang.IllegalStateException: " + message).startsWith(kept))
                        .as("with prefix '%s' the stored message is the original's beginning; it ends with: %s",
                                prefix, kept.substring(kept.length() - 10))
                        .isTrue();
                assertThat(stored.indexOf('?')).as("no character was replaced by '?'").isNegative();
                db.execute("DELETE FROM job_queue WHERE id = ?", id);
            }
        }
    }

    @Nested
    class Secrets {

        private static final String SECRET = "SuperSecret-7f3a";

        @Test
        void storeErrors_neverCarryTheConnectionPassword() {
            Jdbi unreachable = Jdbi.create("jdbc:postgresql://127.0.0.1:1/test?user=postgres&password=" + SECRET
                    + "&connectTimeout=2");
            Throwable failure = catchAll(() -> JdbiJobStore.builder(unreachable).schema(db.schema()).build());
            assertThat(failure).isInstanceOf(StoreException.class);
            assertNoSecret(failure);

            // A statement the server rejects, on a connection whose URL carries the password.
            String broken = db.schema() + "_broken";
            Jdbi withPassword = Jdbi.create(db.jdbcUrl() + "&password=" + SECRET);
            try {
                JdbiJobQueue queueWithPassword = JdbiJobQueue.create(JdbiJobStore.builder(withPassword).schema(broken).build());
                db.execute("ALTER TABLE " + broken + ".job_queue RENAME TO job_queue_elsewhere");
                Throwable rejected = catchAll(() -> queueWithPassword.enqueue(TEXT, new Text("lost")));
                assertThat(rejected).isInstanceOf(StoreException.class).hasMessageContaining("does not exist");
                assertNoSecret(rejected);
            } finally {
                db.execute("DROP SCHEMA IF EXISTS " + broken + " CASCADE");
            }
            assertThat(jobs()).isEqualTo(1);
        }

        private Throwable catchAll(Runnable action) {
            try {
                action.run();
            } catch (Throwable t) {
                return t;
            }
            throw new AssertionError("expected a failure");
        }

        private void assertNoSecret(Throwable failure) {
            for (Throwable t = failure; t != null; t = t.getCause()) {
                assertThat(String.valueOf(t.getMessage())).as("message of %s", t.getClass().getName()).doesNotContain(SECRET);
                assertThat(t.toString()).doesNotContain(SECRET);
            }
        }
    }
}
