package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A pack with an image that cannot be decoded fails, with the reason, and nothing else does. */
@PostgresTest
class PackFailureTest {

    private final TestDatabase db;

    PackFailureTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void generate_corruptSourceImage_failsItsJobsPermanentlyAndTheProjectWithTheReason() throws Exception {
        byte[] good = Fixtures.image(400, 300, "png", 1);
        byte[] fine = Fixtures.image(300, 400, "jpeg", 2);
        byte[] whole = Fixtures.image(400, 300, "png", 3);
        byte[] broken = Arrays.copyOf(whole, whole.length / 2); // the header is intact: accepted on upload

        try (ImageGenApp app = Fixtures.start(db, 4)) {
            UUID bad = Fixtures.project(app.projects(), "bad", List.of(good, broken, fine),
                    List.of("good.png", "broken.png", "fine.jpg"));
            UUID ok = Fixtures.project(app.projects(), "ok", List.of(good, fine));
            app.projects().requestPack(bad);
            app.projects().requestPack(ok);
            Fixtures.awaitPacks(db, List.of(bad, ok), Duration.ofMinutes(2));
            await().atMost(Duration.ofMinutes(1)).until(() ->
                    db.queryForLong("SELECT count(*) FROM job_queue WHERE status IN ('pending', 'processing')") == 0);

            String reason = "cannot decode source image 'broken.png': PNG data is corrupt";
            ProjectView failed = app.projects().find(bad).orElseThrow();
            assertThat(failed.status()).isEqualTo(ProjectStatus.FAILED);
            assertThat(failed.failureReason()).startsWith(reason);
            assertThat(Fixtures.transitions(db, bad))
                    .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→FAILED");

            UUID brokenImage = failed.images().get(1).id();
            List<Map<String, Object>> brokenJobs = db.queryForList("""
                    SELECT status, attempt, error_message FROM job_queue
                     WHERE job_type = 'generate-image' AND payload ->> 'imageId' = ?""", brokenImage.toString());
            assertThat(brokenJobs).hasSize(4).noneMatch(job -> job.get("status").equals("completed"));
            List<Map<String, Object>> failedJobs = brokenJobs.stream().filter(job -> job.get("status").equals("failed")).toList();
            assertThat(failedJobs).as("failed for good, on the first attempt, with the reason").isNotEmpty()
                    .allSatisfy(job -> {
                        assertThat(job.get("attempt")).isEqualTo(1);
                        assertThat((String) job.get("error_message")).startsWith(reason);
                    });
            assertThat(brokenJobs).as("the rest were cancelled because the pack had failed")
                    .allMatch(job -> job.get("status").equals("failed") || job.get("status").equals("cancelled"));
            assertThat(failed.images().get(1).assets())
                    .noneMatch(asset -> asset.status().equals("DONE"))
                    .filteredOn(asset -> asset.status().equals("FAILED"))
                    .isNotEmpty()
                    .allSatisfy(asset -> assertThat(asset.error()).startsWith(reason));

            ProjectView unaffected = app.projects().find(ok).orElseThrow();
            assertThat(unaffected.status()).isEqualTo(ProjectStatus.COMPLETED);
            assertThat(unaffected.assets()).isEqualTo(new ProjectView.Progress(8, 8, 0, 0));
            assertThat(Fixtures.transitions(db, ok)).endsWith("PROCESSING→COMPLETED");
        }
    }

    @Test
    void generate_packWithoutImages_failsTheProject() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 2)) {
            UUID empty = app.projects().create("empty", HttpApi.DEMO_USER).id();
            // The HTTP API refuses to generate an empty project; a producer writing SQL need not ask it.
            db.execute("INSERT INTO job_queue (job_type, payload) VALUES ('generate-complete-pack', ?::jsonb)",
                    "{\"projectId\": \"" + empty + "\"}");
            Fixtures.awaitPacks(db, List.of(empty), Duration.ofMinutes(1));

            ProjectView project = app.projects().find(empty).orElseThrow();
            assertThat(project.status()).isEqualTo(ProjectStatus.FAILED);
            assertThat(project.failureReason()).isEqualTo("project " + empty + " has no source images");
            // The job's failure committed with the project's, in one transaction.
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'failed' AND error_message = ?",
                    project.failureReason())).isEqualTo(1);
        }
    }
}
