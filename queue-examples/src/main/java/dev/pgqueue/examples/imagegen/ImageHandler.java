package dev.pgqueue.examples.imagegen;

import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.util.Optional;
import org.jdbi.v3.core.Handle;

/**
 * {@code generate-image}: renders one variant of one source image and stores it as an asset.
 *
 * <p>The slow part (decode, scale, encode) runs with no transaction open. Then one short
 * transaction stores the asset, counts the image done for the pack's fan-in ({@link PackProgress})
 * and completes this job: all three or none. That is what makes the fan-in exact: the counter is
 * decremented exactly once per job, because a job whose completion committed never runs again,
 * and a job whose transaction rolled back took its decrement with it.
 *
 * <p>Failures: an image that cannot be decoded fails the job permanently and the project with it
 * (retrying the same bytes cannot help); anything else is retried, and on the last attempt fails
 * the project too. Jobs of a project whose pack already failed are cancelled without rendering.
 */
final class ImageHandler implements JobHandler<GenerateImage> {

    private final JdbiJobStore store;

    ImageHandler(JdbiJobStore store) {
        this.store = store;
    }

    @Override
    public JobOutcome handle(Job<GenerateImage> job, JobContext context) throws Exception {
        GenerateImage task = job.payload();
        Optional<Source> found = load(task);
        if (found.isEmpty()) {
            return JobOutcome.failPermanently("project " + task.projectId() + " has no source image " + task.imageId());
        }
        Source source = found.get();
        if (source.projectStatus() != ProjectStatus.PROCESSING) {
            String reason = "project " + task.projectId() + " is " + source.projectStatus() + "; skipped";
            return store.completeInTransaction(context, handle -> {
                setAsset(handle, task, "SKIPPED", reason);
                return JobOutcome.cancel(reason);
            });
        }

        Images.Encoded asset;
        try {
            asset = task.variant().render(Images.decode(source.bytes()));
        } catch (BadImageException e) {
            return failPack(job, context, "cannot decode source image '" + source.fileName() + "': " + e.getMessage());
        } catch (RuntimeException e) {
            if (!job.isLastAttempt()) {
                throw e; // perhaps passing (out of memory under load): retried per GENERATE_IMAGE's policy
            }
            return failPack(job, context, "rendering " + task.variant().id() + " of '" + source.fileName() + "' failed: " + e);
        }

        return store.completeInTransaction(context, handle -> {
            handle.createUpdate("""
                            UPDATE assets SET status = 'DONE', format = :format, width = :width, height = :height,
                                              bytes = :bytes, error = NULL, updated_at = now()
                             WHERE source_image_id = :image AND variant = :variant""")
                    .bind("format", asset.format())
                    .bind("width", asset.width())
                    .bind("height", asset.height())
                    .bind("bytes", asset.bytes())
                    .bind("image", task.imageId())
                    .bind("variant", task.variant().id())
                    .execute();
            PackProgress.imageDone(handle, task.projectId());
            return JobOutcome.done();
        });
    }

    private JobOutcome failPack(Job<GenerateImage> job, JobContext context, String reason) throws Exception {
        return store.completeInTransaction(context, handle -> {
            setAsset(handle, job.payload(), "FAILED", reason);
            PackProgress.packFailed(handle, job.payload().projectId(), reason);
            return JobOutcome.failPermanently(reason);
        });
    }

    private record Source(String fileName, byte[] bytes, ProjectStatus projectStatus) {}

    private Optional<Source> load(GenerateImage task) {
        return store.jdbi().withHandle(handle -> handle.createQuery("""
                        SELECT s.file_name, s.bytes, p.status
                          FROM source_images s JOIN projects p ON p.id = s.project_id
                         WHERE s.id = :image AND s.project_id = :project""")
                .bind("image", task.imageId())
                .bind("project", task.projectId())
                .map((row, ctx) -> new Source(row.getString("file_name"), row.getBytes("bytes"),
                        ProjectStatus.valueOf(row.getString("status"))))
                .findOne());
    }

    private static void setAsset(Handle handle, GenerateImage task, String status, String error) {
        handle.createUpdate("""
                        UPDATE assets SET status = :status, error = :error, updated_at = now()
                         WHERE source_image_id = :image AND variant = :variant AND status = 'PENDING'""")
                .bind("status", status)
                .bind("error", error)
                .bind("image", task.imageId())
                .bind("variant", task.variant().id())
                .execute();
    }
}
