package dev.pgqueue.examples.imagegen;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.examples.imagegen.Jobs.GeneratePack;
import dev.pgqueue.examples.imagegen.ProjectView.AssetView;
import dev.pgqueue.examples.imagegen.ProjectView.ImageView;
import dev.pgqueue.jdbi.JdbiJobQueue;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;

/**
 * What the HTTP API does with projects, each call in a transaction of its own: create a project,
 * add source images, press "Generate" (the seed's router step), and read a project back. The jobs'
 * own database work lives in their handlers ({@link PackHandler}, {@link ImageHandler},
 * {@link FinishPackHandler}). Thread-safe.
 */
final class Projects {

    static final int MAX_NAME_LENGTH = 200;
    static final int MAX_IMAGES_PER_PROJECT = 50;

    private final Jdbi jdbi;
    private final JdbiJobQueue queue;

    Projects(Jdbi jdbi, JdbiJobQueue queue) {
        this.jdbi = jdbi;
        this.queue = queue;
    }

    /** Creates a {@code DRAFT} project. */
    ProjectView create(String name, UUID userId) {
        if (name == null || name.isBlank() || name.strip().length() > MAX_NAME_LENGTH) {
            throw new ProjectException(ProjectException.Kind.INVALID,
                    "expected name to be 1-" + MAX_NAME_LENGTH + " characters, got: " + (name == null ? "none" : name.strip().length()));
        }
        requirePlainText("name", name);
        if (userId == null) {
            throw new ProjectException(ProjectException.Kind.INVALID, "expected a userId");
        }
        UUID id = jdbi.withHandle(handle -> handle.createQuery(
                        "INSERT INTO projects (name, user_id) VALUES (:name, :user) RETURNING id")
                .bind("name", name.strip())
                .bind("user", userId)
                .mapTo(UUID.class)
                .one());
        return find(id).orElseThrow();
    }

    /**
     * Adds a source image to a {@code DRAFT} project. Only the header is read here (format and size);
     * an image that is damaged further in fails its jobs in the worker, with the reason on the project.
     */
    ImageView addImage(UUID projectId, String fileName, byte[] bytes) {
        if (fileName != null) {
            requirePlainText("the file name", fileName);
        }
        Images.Info info;
        try {
            info = Images.probe(bytes);
        } catch (BadImageException e) {
            throw new ProjectException(ProjectException.Kind.INVALID, e.getMessage());
        }
        String name = cleanFileName(fileName, info.format());
        UUID imageId = jdbi.inTransaction(handle -> {
            ProjectStatus status = lockedStatus(handle, projectId, "FOR SHARE");
            if (status != ProjectStatus.DRAFT) {
                throw new ProjectException(ProjectException.Kind.CONFLICT,
                        "project " + projectId + " is " + status + ": images can be added only before generating");
            }
            if (imageCount(handle, projectId) >= MAX_IMAGES_PER_PROJECT) {
                throw new ProjectException(ProjectException.Kind.CONFLICT,
                        "project " + projectId + " already has the most images a project may have, " + MAX_IMAGES_PER_PROJECT);
            }
            return handle.createQuery("""
                            INSERT INTO source_images (project_id, file_name, format, width, height, bytes)
                            VALUES (:project, :name, :format, :width, :height, :bytes)
                            RETURNING id""")
                    .bind("project", projectId)
                    .bind("name", name)
                    .bind("format", info.format())
                    .bind("width", info.width())
                    .bind("height", info.height())
                    .bind("bytes", bytes)
                    .mapTo(UUID.class)
                    .one();
        });
        return new ImageView(imageId, name, info.format(), info.width(), info.height(), "/images/" + imageId, List.of());
    }

    /**
     * "Generate Complete Pack", the seed's router step: the project goes from {@code DRAFT} to
     * {@code PENDING} and its generate-complete-pack job is inserted in one transaction. There is
     * never a PENDING project without its job, nor a job for a project whose update rolled back.
     *
     * @return the job's id
     */
    UUID requestPack(UUID projectId) {
        return jdbi.inTransaction(handle -> {
            ProjectStatus status = lockedStatus(handle, projectId, "FOR UPDATE");
            if (status != ProjectStatus.DRAFT) {
                throw new ProjectException(ProjectException.Kind.CONFLICT,
                        "project " + projectId + " is " + status + ": its pack was requested already");
            }
            if (imageCount(handle, projectId) == 0) {
                throw new ProjectException(ProjectException.Kind.INVALID,
                        "project " + projectId + " has no images: add some before generating");
            }
            UUID userId = handle.createQuery("SELECT user_id FROM projects WHERE id = :id")
                    .bind("id", projectId).mapTo(UUID.class).one();
            UUID jobId = queue.in(handle).enqueue(Jobs.GENERATE_PACK, new GeneratePack(projectId),
                    EnqueueOptions.defaults().userId(userId));
            handle.createUpdate("UPDATE projects SET status = 'PENDING', pack_job_id = :job, updated_at = now() WHERE id = :id")
                    .bind("job", jobId)
                    .bind("id", projectId)
                    .execute();
            return jobId;
        });
    }

    /** The project with its images and assets, if it exists. */
    Optional<ProjectView> find(UUID projectId) {
        return jdbi.withHandle(handle -> handle.createQuery("""
                        SELECT id, name, user_id, status, failure_reason, pack_job_id, updated_at
                          FROM projects WHERE id = :id""")
                .bind("id", projectId)
                .map((row, ctx) -> new ProjectRow(
                        row.getObject("id", UUID.class),
                        row.getString("name"),
                        row.getObject("user_id", UUID.class),
                        ProjectStatus.valueOf(row.getString("status")),
                        row.getString("failure_reason"),
                        row.getObject("pack_job_id", UUID.class),
                        row.getTimestamp("updated_at").toInstant().toString()))
                .findOne()
                .map(project -> view(handle, project)));
    }

    /** A stored image's format and bytes. */
    record StoredImage(String format, byte[] bytes) {}

    /** A source image's bytes. */
    Optional<StoredImage> sourceImage(UUID imageId) {
        return stored("SELECT format, bytes FROM source_images WHERE id = :id", imageId);
    }

    /** A finished asset's bytes. */
    Optional<StoredImage> asset(UUID assetId) {
        return stored("SELECT format, bytes FROM assets WHERE id = :id AND status = 'DONE'", assetId);
    }

    private record ProjectRow(UUID id, String name, UUID userId, ProjectStatus status, String failureReason,
                              UUID packJobId, String updatedAt) {}

    private record ImageAsset(UUID imageId, AssetView asset) {}

    private ProjectView view(Handle handle, ProjectRow project) {
        Map<UUID, List<AssetView>> assetsByImage = handle.createQuery("""
                        SELECT id, source_image_id, variant, status, format, width, height, error
                          FROM assets WHERE project_id = :id""")
                .bind("id", project.id())
                .map((row, ctx) -> {
                    UUID id = row.getObject("id", UUID.class);
                    String status = row.getString("status");
                    return new ImageAsset(row.getObject("source_image_id", UUID.class), new AssetView(
                            id, row.getString("variant"), status, row.getString("format"),
                            (Integer) row.getObject("width"), (Integer) row.getObject("height"), row.getString("error"),
                            status.equals("DONE") ? "/assets/" + id : null));
                })
                .stream()
                .sorted(Comparator.comparing(a -> Variant.of(a.asset().variant())))
                .collect(Collectors.groupingBy(ImageAsset::imageId, Collectors.mapping(ImageAsset::asset, Collectors.toList())));
        List<ImageView> images = handle.createQuery("""
                        SELECT id, file_name, format, width, height
                          FROM source_images WHERE project_id = :id ORDER BY created_at, id""")
                .bind("id", project.id())
                .map((row, ctx) -> {
                    UUID id = row.getObject("id", UUID.class);
                    return new ImageView(id, row.getString("file_name"), row.getString("format"),
                            row.getInt("width"), row.getInt("height"), "/images/" + id,
                            assetsByImage.getOrDefault(id, List.of()));
                })
                .list();
        List<AssetView> all = images.stream().flatMap(image -> image.assets().stream()).toList();
        ProjectView.Progress progress = new ProjectView.Progress(
                all.size(), count(all, "DONE"), count(all, "FAILED"));
        return new ProjectView(project.id(), project.name(), project.userId(), project.status(), project.failureReason(),
                project.packJobId(), project.updatedAt(), progress, images);
    }

    private static int count(List<AssetView> assets, String status) {
        return (int) assets.stream().filter(asset -> asset.status().equals(status)).count();
    }

    private Optional<StoredImage> stored(String sql, UUID id) {
        return jdbi.withHandle(handle -> handle.createQuery(sql)
                .bind("id", id)
                .map((row, ctx) -> new StoredImage(row.getString("format"), row.getBytes("bytes")))
                .findOne());
    }

    private static ProjectStatus lockedStatus(Handle handle, UUID projectId, String lock) {
        return handle.createQuery("SELECT status FROM projects WHERE id = :id " + lock)
                .bind("id", projectId)
                .mapTo(String.class)
                .findOne()
                .map(ProjectStatus::valueOf)
                .orElseThrow(() -> ProjectException.notFound(projectId));
    }

    private static int imageCount(Handle handle, UUID projectId) {
        return handle.createQuery("SELECT count(*) FROM source_images WHERE project_id = :id")
                .bind("id", projectId).mapTo(Integer.class).one();
    }

    /**
     * Rejects control characters (U+0000, which PostgreSQL's text cannot hold, newlines, escapes) and
     * unpaired surrogates, which the driver would store as {@code ?}.
     */
    private static void requirePlainText(String what, String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++; // a pair: one character outside the BMP
            } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                throw new ProjectException(ProjectException.Kind.INVALID, String.format(Locale.ROOT,
                        "expected %s to have no control characters or unpaired surrogates, got U+%04X at position %d",
                        what, (int) c, i + 1));
            }
        }
    }

    /** The last path segment, cut to fit; a blank name becomes {@code image.<format>}. */
    private static String cleanFileName(String fileName, String format) {
        String name = fileName == null ? "" : fileName.replace('\\', '/');
        name = name.substring(name.lastIndexOf('/') + 1).strip();
        if (name.isEmpty()) {
            return "image." + format;
        }
        return name.length() > MAX_NAME_LENGTH ? name.substring(0, MAX_NAME_LENGTH) : name;
    }
}
