package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The fan-in is exact under load: on two workers with many image jobs finishing at once, each pack's
 * callback runs once, after all of its image jobs, and each project completes once. Counted by the
 * status writes that the projects' trigger logs, so that a second completion (COMPLETED → COMPLETED)
 * or a contradiction (COMPLETED → FAILED) would show. The last-two-at-once race itself, forced, is
 * pgqueue's own test (WorkflowsTest).
 */
@PostgresTest
class FanInTest {

    private final TestDatabase db;

    FanInTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void twoWorkers_manyTinyImages_eachProjectCompletesExactlyOnce() throws Exception {
        int projects = 8;
        int imagesPerProject = 6;
        int jobsPerPack = imagesPerProject * Variant.values().length;
        List<byte[]> tiny = IntStream.range(0, imagesPerProject).mapToObj(i -> Fixtures.image(12, 9, "png", i)).toList();
        List<UUID> projectIds = new ArrayList<>();
        try (ImageGenApp one = Fixtures.start(db, 12); ImageGenApp two = Fixtures.start(db, 12)) {
            for (int p = 0; p < projects; p++) {
                projectIds.add(Fixtures.project((p % 2 == 0 ? one : two).projects(), "race-" + p, tiny));
            }
            projectIds.forEach(one.projects()::requestPack);
            Fixtures.awaitPacks(db, projectIds, Duration.ofMinutes(2));
        }

        for (UUID id : projectIds) {
            assertThat(Fixtures.transitions(db, id)).as("project %s", id)
                    .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
        }
        assertThat(db.queryForLong("SELECT count(*) FROM project_status_changes WHERE to_status = 'COMPLETED'"))
                .isEqualTo(projects);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'generate-image' AND status = 'completed' AND attempt = 1"))
                .isEqualTo((long) projects * jobsPerPack);
        assertThat(db.queryForLong("SELECT count(DISTINCT lease_owner) FROM job_queue WHERE job_type = 'generate-image'"))
                .as("both workers ran image jobs").isEqualTo(2);
        // One callback per pack, run once, and not before the last of its image jobs had completed:
        assertThat(db.queryForList("""
                        SELECT c.payload ->> 'projectId' AS project, c.status, c.attempt,
                               count(d.depends_on) AS images,
                               bool_and(i.completed_at <= c.processed_at) AS ran_after_all
                          FROM job_queue c
                          JOIN job_queue_dependency d ON d.job_id = c.id
                          JOIN job_queue i ON i.id = d.depends_on
                         WHERE c.job_type = 'finish-pack'
                         GROUP BY c.id""")).as("finish-pack jobs")
                .hasSize(projects)
                .allSatisfy(callback -> {
                    assertThat(callback.get("status")).isEqualTo("completed");
                    assertThat(callback.get("attempt")).isEqualTo(1);
                    assertThat(callback.get("images")).isEqualTo((long) jobsPerPack);
                    assertThat(callback.get("ran_after_all")).isEqualTo(true);
                })
                .extracting(callback -> UUID.fromString((String) callback.get("project")))
                .containsExactlyInAnyOrderElementsOf(projectIds);
    }
}
