package dev.pgqueue.examples.imagegen;

import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobHandler;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.QueueTester;
import dev.pgqueue.testing.TestClock;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.function.Function;
import org.jdbi.v3.core.Jdbi;

/**
 * Starting the service on a test's schema, or its parts with a {@link QueueTester} in place of its
 * worker; making projects, waiting for packs.
 */
final class Fixtures {

    private Fixtures() {}

    static ImageGenApp start(TestDatabase db, int concurrency, int httpPort, WorkerListener listener) throws Exception {
        return ImageGenApp.start(ImageGenApp.Settings.of(db.jdbcUrl())
                .schema(db.schema())
                .concurrency(concurrency)
                .httpPort(httpPort)
                .listener(listener));
    }

    static ImageGenApp start(TestDatabase db, int concurrency) throws Exception {
        return start(db, concurrency, ImageGenApp.Settings.NO_HTTP, new WorkerListener() {});
    }

    /**
     * The service's parts on the test's schema, wired as {@link ImageGenApp} wires them, with no
     * worker: {@code tester} runs the jobs on the test's thread, when the test says, under
     * {@code clock}, which the queue shares.
     */
    record Harness(JdbiJobStore store, JdbiJobQueue queue, Projects projects, QueueTester tester, TestClock clock) {}

    static Harness harness(TestDatabase db) throws SQLException {
        return harness(db, ImageHandler::new);
    }

    /** As {@link #harness(TestDatabase)}, with {@code images} making the generate-image handler. */
    static Harness harness(TestDatabase db, Function<JdbiJobStore, JobHandler<GenerateImage>> images) throws SQLException {
        Jdbi jdbi = Jdbi.create(db.dataSource());
        JdbiJobStore store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        ImageGenApp.migrate(jdbi);
        // Later than the database's clock: jobs that SQL producers enqueue by now() are due for the tester.
        TestClock clock = TestClock.at(Instant.parse("2030-01-01T00:00:00Z"));
        JdbiJobQueue queue = JdbiJobQueue.builder(store).clock(clock).build();
        QueueTester tester = QueueTester.builder(store).clock(clock)
                .handler(Jobs.GENERATE_PACK, store.transactional(new PackHandler(queue)))
                .handler(Jobs.GENERATE_IMAGE, images.apply(store))
                .handler(Jobs.FINISH_PACK, new FinishPackHandler(store, queue))
                .build();
        return new Harness(store, queue, new Projects(jdbi, queue), tester, clock);
    }

    /** An image drawn at {@code width} × {@code height} and encoded as {@code format} (png or jpeg). */
    static byte[] image(int width, int height, String format, long seed) {
        return Images.encode(SampleImages.draw(width, height, seed), format).bytes();
    }

    /** A DRAFT project with the given images, named image-1.png, image-2.png, … unless named in {@code names}. */
    static UUID project(Projects projects, String name, List<byte[]> images, List<String> names) {
        UUID id = projects.create(name, HttpApi.DEMO_USER).id();
        for (int i = 0; i < images.size(); i++) {
            projects.addImage(id, i < names.size() ? names.get(i) : "image-" + (i + 1) + ".png", images.get(i));
        }
        return id;
    }

    static UUID project(Projects projects, String name, List<byte[]> images) {
        return project(projects, name, images, List.of());
    }

    /** Waits until every project's pack has ended (COMPLETED or FAILED). */
    static void awaitPacks(TestDatabase db, Collection<UUID> projectIds, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> db.queryForLong(
                "SELECT count(*) FROM projects WHERE id = ANY(?) AND status IN ('COMPLETED', 'FAILED')",
                (Object) projectIds.toArray(UUID[]::new)) == projectIds.size());
    }

    /** The project's status writes in order, as "FROM→TO". */
    static List<String> transitions(TestDatabase db, UUID projectId) {
        return db.queryForList("SELECT from_status || '→' || to_status AS t FROM project_status_changes WHERE project_id = ? ORDER BY id",
                        projectId)
                .stream().map(row -> (String) row.get("t")).toList();
    }
}
