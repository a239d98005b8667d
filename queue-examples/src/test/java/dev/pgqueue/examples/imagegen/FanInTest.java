package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariDataSource;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.Test;

/**
 * The fan-in is exact: each pack completes once, even when its last two images finish at the same
 * moment on different workers. Counted by the status writes that the projects' trigger logs, so
 * that a second completion (COMPLETED → COMPLETED) would show.
 */
@PostgresTest
class FanInTest {

    private final TestDatabase db;

    FanInTest(TestDatabase db) {
        this.db = db;
    }

    @Test
    void imageDone_lastTwoFinishingAtOnce_exactlyOneCompletesTheProject() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 1)) { // for its schema; its worker has nothing to do
            UUID project = processingProject(2);
            String applicationName = "fan-in-race-" + db.schema();
            HikariDataSource pool = db.newDataSource(applicationName, 2);
            Jdbi jdbi = Jdbi.create(pool);

            boolean firstWasLast;
            CompletableFuture<Boolean> second;
            try (Handle first = jdbi.open()) {
                first.begin();
                firstWasLast = PackProgress.imageDone(first, project); // holds the project row's lock
                second = CompletableFuture.supplyAsync(
                        () -> jdbi.inTransaction(handle -> PackProgress.imageDone(handle, project)));
                // The second finisher is inside its UPDATE, waiting for the first one's row lock:
                // both are finishing "at once", and neither has committed.
                await().atMost(Duration.ofSeconds(10)).until(() -> db.queryForLong("""
                        SELECT count(*) FROM pg_stat_activity
                         WHERE application_name = ? AND wait_event_type = 'Lock' AND query LIKE 'UPDATE projects%'""",
                        applicationName) == 1);
                assertThat(second).isNotDone();
                first.commit();
            }
            boolean secondWasLast = second.get(10, TimeUnit.SECONDS);

            assertThat(List.of(firstWasLast, secondWasLast)).containsExactly(false, true);
            assertThat(Fixtures.transitions(db, project)).containsExactly("PROCESSING→COMPLETED");
            assertThat(db.queryForLong("SELECT images_remaining FROM projects WHERE id = ?", project)).isZero();
        }
    }

    @Test
    void packFailed_twoImagesFailingAtOnce_failTheProjectOnce() throws Exception {
        try (ImageGenApp app = Fixtures.start(db, 1)) {
            UUID project = processingProject(3);
            List<CompletableFuture<Boolean>> failures = IntStream.range(0, 2)
                    .mapToObj(i -> CompletableFuture.supplyAsync(() -> app.jdbi().inTransaction(
                            handle -> PackProgress.packFailed(handle, project, "image " + i + " is broken"))))
                    .toList();
            List<Boolean> results = new ArrayList<>();
            for (CompletableFuture<Boolean> failure : failures) {
                results.add(failure.get(10, TimeUnit.SECONDS));
            }

            assertThat(results).containsExactlyInAnyOrder(true, false);
            assertThat(Fixtures.transitions(db, project)).containsExactly("PROCESSING→FAILED");
            boolean completed = app.jdbi().withHandle(handle -> PackProgress.imageDone(handle, project));
            assertThat(completed).as("a failed pack never completes").isFalse();
        }
    }

    @Test
    void twoWorkers_manyTinyImages_eachProjectCompletesExactlyOnce() throws Exception {
        int projects = 8;
        int imagesPerProject = 6;
        List<byte[]> tiny = IntStream.range(0, imagesPerProject).mapToObj(i -> Fixtures.image(12, 9, "png", i)).toList();
        List<UUID> projectIds = Collections.synchronizedList(new ArrayList<>());
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
        assertThat(db.queryForLong("SELECT count(*) FROM projects WHERE images_remaining <> 0")).isZero();
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'generate-image' AND status = 'completed' AND attempt = 1"))
                .isEqualTo((long) projects * imagesPerProject * Variant.values().length);
        assertThat(db.queryForLong("SELECT count(DISTINCT lease_owner) FROM job_queue WHERE job_type = 'generate-image'"))
                .as("both workers ran image jobs").isEqualTo(2);
    }

    /** A project in PROCESSING whose pack has {@code remaining} image jobs left. */
    private UUID processingProject(int remaining) {
        return (UUID) db.queryForList("""
                        INSERT INTO projects (name, user_id, status, images_total, images_remaining)
                        VALUES ('race', ?, 'PROCESSING', ?, ?) RETURNING id""",
                HttpApi.DEMO_USER, remaining, remaining).get(0).get("id");
    }
}
