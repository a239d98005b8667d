package dev.pgqueue.examples.imagegen;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.Job;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.junit.jupiter.api.Test;

/** The whole flow on PostgreSQL and a worker: projects → Generate → fan-out → rendering → fan-in → COMPLETED. */
@PostgresTest
class PackFlowTest {

    private final TestDatabase db;

    PackFlowTest(TestDatabase db) {
        this.db = db;
    }

    /** A source image and the size each variant must come out at. */
    record Source(String name, int width, int height, String format, Map<Variant, int[]> expected) {}

    private static final List<Source> SOURCES = List.of(
            new Source("landscape.png", 1600, 1200, "png", Map.of(
                    Variant.THUMBNAIL, new int[] {160, 120},
                    Variant.SQUARE, new int[] {512, 512},
                    Variant.WEB, new int[] {1280, 960},
                    Variant.WATERMARKED, new int[] {1024, 768})),
            new Source("portrait.jpg", 900, 1200, "jpeg", Map.of(
                    Variant.THUMBNAIL, new int[] {120, 160},
                    Variant.SQUARE, new int[] {512, 512},
                    Variant.WEB, new int[] {900, 1200},
                    Variant.WATERMARKED, new int[] {768, 1024})),
            new Source("panorama.png", 2400, 1000, "png", Map.of(
                    Variant.THUMBNAIL, new int[] {160, 67},
                    Variant.SQUARE, new int[] {512, 512},
                    Variant.WEB, new int[] {1280, 533},
                    Variant.WATERMARKED, new int[] {1024, 427})),
            new Source("small.png", 300, 200, "png", Map.of(
                    Variant.THUMBNAIL, new int[] {160, 107},
                    Variant.SQUARE, new int[] {200, 200},
                    Variant.WEB, new int[] {300, 200},
                    Variant.WATERMARKED, new int[] {300, 200})));

    @Test
    void generate_completesEveryProjectWithEveryAssetAtItsSizeAndFormat_eachJobRunOnce() throws Exception {
        Map<UUID, Integer> runs = new ConcurrentHashMap<>();
        WorkerListener countRuns = new WorkerListener() {
            @Override
            public void jobStarted(Job<?> job) {
                runs.merge(job.id(), 1, Integer::sum);
            }
        };
        List<byte[]> images = SOURCES.stream()
                .map(source -> Fixtures.image(source.width(), source.height(), source.format(), source.name().hashCode()))
                .toList();
        List<String> names = SOURCES.stream().map(Source::name).toList();

        List<UUID> projectIds = new ArrayList<>();
        try (ImageGenApp app = Fixtures.start(db, 4, ImageGenApp.Settings.NO_HTTP, countRuns)) {
            for (int p = 0; p < 3; p++) {
                projectIds.add(Fixtures.project(app.projects(), "flow-" + p, images, names));
            }
            projectIds.forEach(app.projects()::requestPack);
            Fixtures.awaitPacks(db, projectIds, Duration.ofMinutes(3));

            for (UUID id : projectIds) {
                ProjectView project = app.projects().find(id).orElseThrow();
                assertThat(project.status()).as("project %s: %s", id, project.failureReason()).isEqualTo(ProjectStatus.COMPLETED);
                assertThat(project.assets()).isEqualTo(new ProjectView.Progress(16, 16, 0));
                assertThat(Fixtures.transitions(db, id))
                        .containsExactly("DRAFT→PENDING", "PENDING→PROCESSING", "PROCESSING→COMPLETED");
                for (ProjectView.ImageView image : project.images()) {
                    Source source = SOURCES.get(names.indexOf(image.fileName()));
                    assertThat(image.assets()).extracting(ProjectView.AssetView::variant)
                            .containsExactly("thumbnail", "square", "web", "watermarked");
                    for (ProjectView.AssetView asset : image.assets()) {
                        Variant variant = Variant.of(asset.variant());
                        byte[] bytes = app.projects().asset(asset.id()).orElseThrow().bytes();
                        Decoded decoded = decode(bytes);
                        int[] size = source.expected().get(variant);
                        assertThat(decoded.format()).as("%s %s", source.name(), variant).isEqualTo(variant.format());
                        assertThat(new int[] {decoded.image().getWidth(), decoded.image().getHeight()})
                                .as("%s %s", source.name(), variant).containsExactly(size);
                        assertThat(new int[] {asset.width(), asset.height()}).containsExactly(size);
                        assertThat(asset.format()).isEqualTo(variant.format());
                    }
                }
            }
        }

        List<UUID> imageJobs = db.queryForList("SELECT id FROM job_queue WHERE job_type = 'generate-image'")
                .stream().map(row -> (UUID) row.get("id")).toList();
        assertThat(imageJobs).hasSize(3 * 16);
        assertThat(imageJobs).allSatisfy(job -> assertThat(runs.get(job)).as("runs of job %s", job).isEqualTo(1));
        // Per project: its pack job, 16 image jobs, and one finish-pack; each completed on its first attempt.
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE job_type = 'finish-pack'")).isEqualTo(3);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE status = 'completed' AND attempt = 1")).isEqualTo(3 * 18);
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue")).isEqualTo(3 * 18);
    }

    record Decoded(String format, BufferedImage image) {}

    /** Decodes with ImageIO directly (not the code under test) and names the format the bytes really have. */
    private static Decoded decode(byte[] bytes) throws Exception {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            assertThat(readers.hasNext()).as("an image reader for the asset").isTrue();
            ImageReader reader = readers.next();
            try {
                reader.setInput(in);
                return new Decoded(reader.getFormatName().toLowerCase(), reader.read(0));
            } finally {
                reader.dispose();
            }
        }
    }
}
