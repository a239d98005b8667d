package dev.pgqueue.examples.imagegen;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueOptions.DependencyFailure;
import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.examples.imagegen.Jobs.FinishPack;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.examples.imagegen.Jobs.GeneratePack;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.TransactionalJobHandler;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * {@code generate-complete-pack}: the fan-out. In one transaction, which also completes this job:
 * the project goes to PROCESSING, one asset row per source image × variant is created, one
 * {@code generate-image} job per asset is enqueued, and one {@code finish-pack} job that waits for
 * all of them ({@link JdbiJobQueue#enqueueBatch}). A worker that dies half-way leaves nothing behind
 * and the job runs again; a job that ran to the end cannot run again, and a second pack job for the
 * same project finds it PROCESSING and is cancelled: so each pack has exactly one callback.
 */
final class PackHandler implements TransactionalJobHandler<GeneratePack> {

    private final JdbiJobQueue queue;

    PackHandler(JdbiJobQueue queue) {
        this.queue = queue;
    }

    @Override
    public JobOutcome handle(Job<GeneratePack> job, JobContext context, Handle handle) {
        UUID projectId = job.payload().projectId();
        Optional<Project> project = handle.createQuery("SELECT status, user_id FROM projects WHERE id = :id FOR UPDATE")
                .bind("id", projectId)
                .map((row, ctx) -> new Project(ProjectStatus.valueOf(row.getString("status")), row.getObject("user_id", UUID.class)))
                .findOne();
        if (project.isEmpty()) {
            return JobOutcome.failPermanently("project " + projectId + " does not exist");
        }
        ProjectStatus status = project.get().status();
        if (status != ProjectStatus.PENDING && status != ProjectStatus.DRAFT) { // DRAFT: enqueued by plain SQL
            return JobOutcome.cancel("project " + projectId + " is " + status + " already; nothing to do");
        }

        List<GenerateImage> images = handle.createQuery("""
                        INSERT INTO assets (project_id, source_image_id, variant)
                        SELECT s.project_id, s.id, v.variant
                          FROM source_images s CROSS JOIN unnest(:variants) WITH ORDINALITY AS v (variant, n)
                         WHERE s.project_id = :project
                         ORDER BY s.created_at, s.id, v.n
                        RETURNING source_image_id, variant""")
                .bind("project", projectId)
                .bindArray("variants", String.class, Arrays.stream(Variant.values()).map(Variant::id).toList())
                .map((row, ctx) -> new GenerateImage(projectId, row.getObject("source_image_id", UUID.class),
                        Variant.of(row.getString("variant"))))
                .list();
        if (images.isEmpty()) {
            String reason = "project " + projectId + " has no source images";
            handle.createUpdate("UPDATE projects SET status = 'FAILED', failure_reason = :reason, updated_at = now() WHERE id = :id")
                    .bind("reason", reason)
                    .bind("id", projectId)
                    .execute();
            return JobOutcome.failPermanently(reason);
        }
        handle.createUpdate("""
                        UPDATE projects SET status = 'PROCESSING', images_total = :n,
                               pack_job_id = coalesce(pack_job_id, :job), updated_at = now()
                         WHERE id = :id""")
                .bind("n", images.size())
                .bind("job", job.id())
                .bind("id", projectId)
                .execute();
        EnqueueOptions options = EnqueueOptions.defaults().userId(project.get().userId());
        queue.in(handle).enqueueBatch(Jobs.GENERATE_IMAGE, images, options,
                Jobs.FINISH_PACK, new FinishPack(projectId), options.onDependencyFailure(DependencyFailure.RUN));
        return JobOutcome.done();
    }

    private record Project(ProjectStatus status, UUID userId) {}
}
