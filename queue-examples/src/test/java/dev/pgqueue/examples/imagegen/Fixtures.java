package dev.pgqueue.examples.imagegen;

import static org.awaitility.Awaitility.await;

import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/** Starting the service on a test's schema, making projects, waiting for packs. */
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
