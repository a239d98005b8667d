package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.examples.imagegen.Jobs.FinishPack;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.examples.imagegen.Jobs.GeneratePack;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The flow one job at a time, run by a {@code QueueTester} on the test's thread: what the router
 * step, the pack and each image job enqueue and write, and when the pack's callback runs.
 */
@PostgresTest
class PackStepsTest {

    private final TestDatabase db;
    private Fixtures.Harness harness;

    PackStepsTest(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() throws Exception {
        harness = Fixtures.harness(db);
        db.execute("DELETE FROM job_queue"); // the tests share the schema; each drains only its own jobs
    }

    @Test
    void requestPack_enqueuesThePackJobForTheProjectAndItsUser() {
        UUID project = twoImageProject("router");

        UUID jobId = harness.projects().requestPack(project);

        JobSnapshot job = harness.tester().assertEnqueued(Jobs.GENERATE_PACK, new GeneratePack(project));
        assertThat(job.id()).isEqualTo(jobId);
        assertThat(job.status()).isEqualTo(JobStatus.PENDING);
        assertThat(job.userId()).isEqualTo(HttpApi.DEMO_USER);
        assertThat(Fixtures.transitions(db, project)).containsExactly("DRAFT→PENDING");
    }

    @Test
    void pack_enqueuesAnImageJobPerImageAndVariant_andOneCallbackWaitingForAllOfThem() {
        UUID project = twoImageProject("fan-out");

        JobSnapshot pack = harness.tester().run(harness.projects().requestPack(project));

        assertThat(pack.status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(harness.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.PROCESSING);
        List<UUID> imageJobs = new ArrayList<>();
        for (ProjectView.ImageView image : harness.projects().find(project).orElseThrow().images()) {
            for (Variant variant : Variant.values()) {
                JobSnapshot job = harness.tester().assertEnqueued(Jobs.GENERATE_IMAGE, new GenerateImage(project, image.id(), variant));
                assertThat(job.status()).isEqualTo(JobStatus.PENDING);
                imageJobs.add(job.id());
            }
        }
        JobSnapshot callback = harness.tester().assertEnqueued(Jobs.FINISH_PACK, new FinishPack(project));
        assertThat(callback.status()).isEqualTo(JobStatus.WAITING);
        assertThat(harness.queue().dependencies(callback.id())).extracting(JobSnapshot::id)
                .containsExactlyElementsOf(imageJobs);
    }

    @Test
    void imageJobs_releaseTheCallbackWithTheLastOfThem_whichCompletesTheProjectOnce() {
        UUID project = twoImageProject("fan-in");
        harness.tester().run(harness.projects().requestPack(project));
        JobSnapshot callback = harness.tester().assertEnqueued(Jobs.FINISH_PACK, new FinishPack(project));
        List<UUID> imageJobs = harness.queue().dependencies(callback.id()).stream().map(JobSnapshot::id).toList();

        for (UUID job : imageJobs.subList(0, imageJobs.size() - 1)) {
            assertThat(harness.tester().run(job).status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(status(callback)).as("the callback while image jobs are left").isEqualTo(JobStatus.WAITING);
        }
        harness.tester().run(imageJobs.get(imageJobs.size() - 1));
        assertThat(status(callback)).as("released by the last image job's completion").isEqualTo(JobStatus.PENDING);
        assertThat(harness.projects().find(project).orElseThrow().assets()).isEqualTo(new ProjectView.Progress(8, 8, 0));
        assertThat(harness.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.PROCESSING);

        List<JobSnapshot> ran = harness.tester().drain();

        assertThat(ran).extracting(JobSnapshot::id, JobSnapshot::status)
                .containsExactly(tuple(callback.id(), JobStatus.COMPLETED));
        ProjectView finished = harness.projects().find(project).orElseThrow();
        assertThat(finished.status()).isEqualTo(ProjectStatus.COMPLETED);
        assertThat(finished.failureReason()).isNull();
        assertThat(Fixtures.transitions(db, project))
                .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
    }

    @Test
    void drain_runsThePackThenItsImagesThenItsCallbackLast() {
        UUID project = twoImageProject("drain");
        harness.projects().requestPack(project);

        List<JobSnapshot> ran = harness.tester().drain();

        assertThat(ran).extracting(JobSnapshot::type).containsExactly(
                "generate-complete-pack",
                "generate-image", "generate-image", "generate-image", "generate-image",
                "generate-image", "generate-image", "generate-image", "generate-image",
                "finish-pack");
        assertThat(ran).allSatisfy(job -> assertThat(job.status()).isEqualTo(JobStatus.COMPLETED));
        assertThat(harness.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.COMPLETED);
    }

    @Test
    void secondPackJob_forAProjectAlreadyProcessing_isCancelledAndEnqueuesNoSecondCallback() {
        UUID project = twoImageProject("twice");
        harness.tester().run(harness.projects().requestPack(project));

        // A second pack job, as a SQL producer could insert it:
        JobSnapshot second = harness.tester().run(Jobs.GENERATE_PACK, new GeneratePack(project));

        assertThat(second.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(second.errorMessage()).isEqualTo("project " + project + " is PROCESSING already; nothing to do");
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'finish-pack'")).isEqualTo(1);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'generate-image'")).isEqualTo(8);
        harness.tester().drain();
        assertThat(Fixtures.transitions(db, project))
                .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
    }

    @Test
    void callback_forAPackThatHasEnded_changesNothing() {
        UUID project = twoImageProject("stray");
        harness.projects().requestPack(project);
        harness.tester().drain();

        // Another finish-pack job for the same project, enqueued by hand: it has no dependencies, so
        // unguarded it would count 0 of 8 images and fail the COMPLETED project.
        JobSnapshot stray = harness.tester().run(Jobs.FINISH_PACK, new FinishPack(project));

        assertThat(stray.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(stray.errorMessage()).isEqualTo("project " + project + " is not PROCESSING: its pack has ended already");
        ProjectView after = harness.projects().find(project).orElseThrow();
        assertThat(after.status()).isEqualTo(ProjectStatus.COMPLETED);
        assertThat(after.failureReason()).isNull();
        assertThat(after.assets()).isEqualTo(new ProjectView.Progress(8, 8, 0));
        assertThat(Fixtures.transitions(db, project))
                .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
    }

    @Test
    void callback_whoseTransactionDiesAtCommit_keepsNothing_andItsRetryEndsThePackOnce() {
        UUID project = twoImageProject("crash");
        harness.projects().requestPack(project);
        // The callback's first completion fails inside its transaction, after the project's update,
        // as if its worker's connection died at that moment. nextval is not rolled back: once only.
        db.execute("CREATE SEQUENCE callback_attempts");
        db.execute("""
                CREATE FUNCTION die_once() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF nextval('callback_attempts') = 1 THEN
                        RAISE EXCEPTION 'connection lost';
                    END IF;
                    RETURN NEW;
                END $$""");
        db.execute("""
                CREATE TRIGGER die_once BEFORE UPDATE OF status ON job_queue FOR EACH ROW
                WHEN (NEW.job_type = 'finish-pack' AND NEW.status = 'completed') EXECUTE FUNCTION die_once()""");
        try {
            List<JobSnapshot> ran = harness.tester().drain();

            JobSnapshot callback = ran.get(ran.size() - 1);
            assertThat(callback.type()).isEqualTo("finish-pack");
            assertThat(callback.status()).as("to be retried").isEqualTo(JobStatus.PENDING);
            assertThat(callback.errorMessage()).contains("connection lost");
            assertThat(harness.projects().find(project).orElseThrow().status())
                    .as("the project's update rolled back with the callback's completion").isEqualTo(ProjectStatus.PROCESSING);
            assertThat(Fixtures.transitions(db, project)).containsExactly("DRAFT→PENDING", "PENDING→PROCESSING");

            harness.clock().advance(Duration.ofHours(1));
            List<JobSnapshot> retried = harness.tester().drain();

            assertThat(retried).extracting(JobSnapshot::id, JobSnapshot::status, JobSnapshot::attempt)
                    .containsExactly(tuple(callback.id(), JobStatus.COMPLETED, 2));
            assertThat(harness.projects().find(project).orElseThrow().status()).isEqualTo(ProjectStatus.COMPLETED);
            assertThat(Fixtures.transitions(db, project))
                    .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
        } finally {
            db.execute("DROP TRIGGER die_once ON job_queue");
            db.execute("DROP FUNCTION die_once()");
            db.execute("DROP SEQUENCE callback_attempts");
        }
    }

    private JobStatus status(JobSnapshot job) {
        return harness.queue().find(job.id()).orElseThrow().status();
    }

    private static final AtomicInteger SEEDS = new AtomicInteger();

    /** A DRAFT project with two small images: 8 image jobs. */
    private UUID twoImageProject(String name) {
        return Fixtures.project(harness.projects(), name, List.of(
                Fixtures.image(64, 48, "png", SEEDS.incrementAndGet()),
                Fixtures.image(48, 64, "jpeg", SEEDS.incrementAndGet())));
    }
}
