package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Producers in other languages: a job written by plain SQL, as the seed's TypeScript router writes
 * it, is run by the Java worker. These statements are the README's "Producers in other languages".
 */
@PostgresTest
class SqlProducerTest {

    private final TestDatabase db;

    SqlProducerTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void plainInsert_likeTheSeedsRouter_isRunByTheWorker() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 4)) {
            UUID project = Fixtures.project(app.projects(), "from-sql", List.of(Fixtures.image(640, 480, "png", 7)));

            // The seed's router (supabase.from('job_queue').insert({...})) sends exactly this, in the
            // same transaction as its own status change:
            db.execute("""
                    WITH requested AS (UPDATE projects SET status = 'PENDING' WHERE id = ?::uuid AND status = 'DRAFT' RETURNING id, user_id)
                    INSERT INTO job_queue (job_type, payload, user_id)
                    SELECT 'generate-complete-pack', jsonb_build_object('projectId', id), user_id FROM requested""",
                    project.toString());
            Fixtures.awaitPacks(db, List.of(project), Duration.ofMinutes(1));

            assertThat(app.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.COMPLETED);
            assertThat(Fixtures.transitions(db, project))
                    .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
            assertThat(db.queryForList("SELECT user_id FROM job_queue WHERE job_type = 'generate-image'"))
                    .hasSize(4)
                    .allSatisfy(row -> assertThat(row.get("user_id")).isEqualTo(HttpApi.DEMO_USER));
        }
    }

    @Test
    void enqueueFunction_isRunByTheWorker() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 4)) {
            UUID project = Fixtures.project(app.projects(), "from-function", List.of(Fixtures.image(640, 480, "jpeg", 8)));

            UUID jobId = (UUID) db.queryForList("""
                            SELECT job_queue_enqueue('generate-complete-pack', jsonb_build_object('projectId', ?::uuid),
                                                     priority => -1, max_retries => 5, user_id => ?) AS id""",
                    project.toString(), HttpApi.DEMO_USER)
                    .get(0).get("id");
            Fixtures.awaitPacks(db, List.of(project), Duration.ofMinutes(1));

            assertThat(app.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.COMPLETED);
            assertThat(db.queryForList("SELECT status, max_retries FROM job_queue WHERE id = ?", jobId))
                    .singleElement()
                    .satisfies(row -> {
                        assertThat(row.get("status")).isEqualTo("completed");
                        assertThat(row.get("max_retries")).isEqualTo(5);
                    });
            assertThat(app.projects().find(project).orElseThrow().packJobId()).as("recorded by the pack handler").isEqualTo(jobId);
        }
    }

    @Test
    void payloadOfTheWrongShape_failsTheJobWithAClearMessage() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 2)) {
            UUID jobId = (UUID) db.queryForList(
                    "SELECT job_queue_enqueue('generate-complete-pack', '{\"project\": \"not-the-field\"}') AS id").get(0).get("id");

            await().atMost(Duration.ofSeconds(30)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE id = ? AND status = 'failed'", jobId) == 1);
            assertThat((String) db.queryForList("SELECT error_message FROM job_queue WHERE id = ?", jobId).get(0).get("error_message"))
                    .contains("generate-complete-pack").contains(jobId.toString());
        }
    }
}
