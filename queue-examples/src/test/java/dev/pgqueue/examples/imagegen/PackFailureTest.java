package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pgqueue.JobHandler;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.examples.imagegen.Jobs.FinishPack;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A pack with an image job that fails for good ends FAILED, with the reason, however the job
 * failed; its other images are still generated, and other projects are unaffected. Run by a
 * {@code QueueTester}, so retries come when the test moves the clock.
 */
@PostgresTest
class PackFailureTest {

    private final TestDatabase db;
    private Fixtures.Harness harness;

    PackFailureTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() throws Exception {
        harness = Fixtures.harness(db);
        db.execute("DELETE FROM job_queue"); // the tests share the schema; each drains only its own jobs
    }

    @Test
    void corruptSourceImage_failsItsJobsPermanently_andTheCallbackFailsTheProjectWithTheReason() throws Exception {
        byte[] good = Fixtures.image(400, 300, "png", 1);
        byte[] fine = Fixtures.image(300, 400, "jpeg", 2);
        byte[] whole = Fixtures.image(400, 300, "png", 3);
        byte[] broken = Arrays.copyOf(whole, whole.length / 2); // the header is intact: accepted on upload
        UUID bad = Fixtures.project(harness.projects(), "bad", List.of(good, broken, fine),
                List.of("good.png", "broken.png", "fine.jpg"));
        UUID ok = Fixtures.project(harness.projects(), "ok", List.of(good, fine));
        harness.projects().requestPack(bad);
        harness.projects().requestPack(ok);

        harness.tester().drain();

        String reason = "cannot decode source image 'broken.png': PNG data is corrupt";
        ProjectView failed = harness.projects().find(bad).orElseThrow();
        assertThat(failed.status()).isEqualTo(ProjectStatus.FAILED);
        assertThat(failed.failureReason()).startsWith(reason).endsWith(" (4 of 12 images failed)");
        assertThat(Fixtures.transitions(db, bad))
                .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→FAILED");
        UUID brokenImage = failed.images().get(1).id();
        List<Map<String, Object>> brokenJobs = db.queryForList("""
                SELECT status, attempt, error_message FROM job_queue
                 WHERE job_type = 'generate-image' AND payload ->> 'imageId' = ?""", brokenImage.toString());
        assertThat(brokenJobs).as("failed for good, on the first attempt, with the reason").hasSize(4)
                .allSatisfy(job -> {
                    assertThat(job.get("status")).isEqualTo("failed");
                    assertThat(job.get("attempt")).isEqualTo(1);
                    assertThat((String) job.get("error_message")).startsWith(reason);
                });
        assertThat(failed.images().get(1).assets()).hasSize(4)
                .allSatisfy(asset -> {
                    assertThat(asset.status()).isEqualTo("FAILED");
                    assertThat(asset.error()).startsWith(reason);
                });
        assertThat(failed.assets()).as("the pack's other images were still generated").isEqualTo(new ProjectView.Progress(12, 8, 4));
        assertThat(harness.tester().assertEnqueued(Jobs.FINISH_PACK, new FinishPack(bad)).status()).isEqualTo(JobStatus.COMPLETED);

        ProjectView unaffected = harness.projects().find(ok).orElseThrow();
        assertThat(unaffected.status()).isEqualTo(ProjectStatus.COMPLETED);
        assertThat(unaffected.assets()).isEqualTo(new ProjectView.Progress(8, 8, 0));
        assertThat(Fixtures.transitions(db, ok)).endsWith("PROCESSING→COMPLETED");
    }

    @Test
    void imageJobThrowingOnEveryAttempt_failsThePackThroughTheCallbackOnceItsRetriesAreUsedUp() throws Exception {
        String error = "java.lang.IllegalStateException: JPEG encoder ran out of memory";
        harness = Fixtures.harness(db, store -> webCrashes(store, error));
        UUID project = Fixtures.project(harness.projects(), "crashing", List.of(Fixtures.image(64, 48, "png", 4)));
        harness.projects().requestPack(project);

        harness.tester().drain();
        JobSnapshot web = harness.tester().assertEnqueuedMatching(Jobs.GENERATE_IMAGE,
                task -> task.projectId().equals(project) && task.variant() == Variant.WEB);
        JobSnapshot callback = harness.tester().assertEnqueued(Jobs.FINISH_PACK, new FinishPack(project));
        for (int attempt = 1; attempt <= 3; attempt++) {
            assertThat(harness.queue().find(web.id()).orElseThrow())
                    .as("after attempt %d", attempt)
                    .satisfies(job -> assertThat(job.status()).isEqualTo(JobStatus.PENDING))
                    .satisfies(job -> assertThat(job.errorMessage()).startsWith(error));
            assertThat(harness.queue().find(callback.id()).orElseThrow().status())
                    .as("a failed attempt that will be retried has not failed for good").isEqualTo(JobStatus.WAITING);
            harness.clock().advance(Duration.ofMinutes(2)); // GENERATE_IMAGE retries within a minute
            harness.tester().drain();
        }

        JobSnapshot failedJob = harness.queue().find(web.id()).orElseThrow();
        assertThat(failedJob.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failedJob.attempt()).isEqualTo(4);
        assertThat(harness.queue().find(callback.id()).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);
        ProjectView failed = harness.projects().find(project).orElseThrow();
        assertThat(failed.status()).isEqualTo(ProjectStatus.FAILED);
        assertThat(failed.failureReason()).isEqualTo(error + " (1 of 4 images failed)");
        assertThat(failed.images().get(0).assets())
                .extracting(ProjectView.AssetView::variant, ProjectView.AssetView::status, ProjectView.AssetView::error)
                .containsExactly(
                        tuple("thumbnail", "DONE", null),
                        tuple("square", "DONE", null),
                        tuple("web", "FAILED", error), // marked by the callback
                        tuple("watermarked", "DONE", null));
        assertThat(Fixtures.transitions(db, project))
                .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→FAILED");
    }

    @Test
    void imageJobDeletedBeforeItRan_failsThePack() throws Exception {
        UUID project = Fixtures.project(harness.projects(), "deleted", List.of(Fixtures.image(64, 48, "png", 5)));
        harness.tester().run(harness.projects().requestPack(project));
        JobSnapshot square = harness.tester().assertEnqueuedMatching(Jobs.GENERATE_IMAGE,
                task -> task.projectId().equals(project) && task.variant() == Variant.SQUARE);

        db.execute("DELETE FROM job_queue WHERE id = ?", square.id());
        harness.tester().drain();

        ProjectView failed = harness.projects().find(project).orElseThrow();
        assertThat(failed.status()).isEqualTo(ProjectStatus.FAILED);
        assertThat(failed.failureReason()).isEqualTo("1 of 4 image jobs are gone (deleted before the pack finished)");
    }

    @Test
    void packWithoutImages_failsTheProject() throws Exception {
        UUID empty = harness.projects().create("empty", HttpApi.DEMO_USER).id();
        // The HTTP API refuses to generate an empty project; a producer writing SQL need not ask it.
        db.execute("INSERT INTO job_queue (job_type, payload) VALUES ('generate-complete-pack', ?::jsonb)",
                "{\"projectId\": \"" + empty + "\"}");

        assertThat(harness.tester().drain()).extracting(JobSnapshot::status).containsExactly(JobStatus.FAILED);

        ProjectView project = harness.projects().find(empty).orElseThrow();
        assertThat(project.status()).isEqualTo(ProjectStatus.FAILED);
        assertThat(project.failureReason()).isEqualTo("project " + empty + " has no source images");
        // The job's failure committed with the project's, in one transaction.
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'failed' AND error_message = ?",
                project.failureReason())).isEqualTo(1);
        harness.tester().assertNotEnqueuedMatching(Jobs.FINISH_PACK, pack -> pack.projectId().equals(empty));
    }

    /** The real generate-image handler, except that rendering the web variant always throws. */
    private static JobHandler<GenerateImage> webCrashes(JdbiJobStore store, String error) {
        ImageHandler real = new ImageHandler(store);
        return (job, context) -> {
            if (job.payload().variant() == Variant.WEB) {
                throw new IllegalStateException(error.substring(error.indexOf(": ") + 2));
            }
            return real.handle(job, context);
        };
    }
}
