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
 * {@code generate-image}: renders one variant of one source image and stores it as an asset. It
 * never touches the project: the pack's {@link FinishPackHandler} decides how the pack ended.
 *
 * <p>The slow part (decode, scale, encode) runs with no transaction open. Then one short
 * transaction stores the asset and completes this job: both or neither, so an asset is DONE exactly
 * when its job completed.
 *
 * <p>Failures: an image that cannot be decoded fails the job permanently, with the reason on its
 * asset (retrying the same bytes cannot help). Anything else is thrown and retried per
 * {@link Jobs#GENERATE_IMAGE}'s policy; if the last attempt fails too, or times out, or its worker
 * dies, the job fails without a word from this handler, and the pack's callback records it.
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

        Images.Encoded asset;
        try {
            asset = task.variant().render(Images.decode(source.bytes()));
        } catch (BadImageException e) {
            String reason = "cannot decode source image '" + source.fileName() + "': " + e.getMessage();
            return store.completeInTransaction(context, handle -> {
                failAsset(handle, task, reason);
                return JobOutcome.failPermanently(reason);
            });
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
            return JobOutcome.done();
        });
    }

    /** Marks the task's asset FAILED with {@code reason}, unless it has ended already. */
    static void failAsset(Handle handle, GenerateImage task, String reason) {
        handle.createUpdate("""
                        UPDATE assets SET status = 'FAILED', error = :error, updated_at = now()
                         WHERE source_image_id = :image AND variant = :variant AND status = 'PENDING'""")
                .bind("error", reason)
                .bind("image", task.imageId())
                .bind("variant", task.variant().id())
                .execute();
    }

    private record Source(String fileName, byte[] bytes) {}

    private Optional<Source> load(GenerateImage task) {
        return store.jdbi().withHandle(handle -> handle.createQuery("""
                        SELECT file_name, bytes FROM source_images WHERE id = :image AND project_id = :project""")
                .bind("image", task.imageId())
                .bind("project", task.projectId())
                .map((row, ctx) -> new Source(row.getString("file_name"), row.getBytes("bytes")))
                .findOne());
    }
}
