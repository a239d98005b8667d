package dev.pgqueue.examples.imagegen;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.Job;
import dev.pgqueue.JobContext;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.examples.imagegen.Jobs.FinishPack;
import dev.pgqueue.examples.imagegen.Jobs.GenerateImage;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import org.jdbi.v3.core.Handle;

/**
 * {@code finish-pack}: the pack's fan-in, which ends the project COMPLETED or FAILED, once.
 *
 * <p><b>Why once.</b> {@link PackHandler} enqueues one such job per pack, in the transaction that
 * enqueues the pack's image jobs, waiting for all of them ({@code enqueueBatch}, with
 * {@code onDependencyFailure(RUN)}). pgqueue makes it pending in the same transaction as the last of
 * them ends (completed, failed for good, or cancelled), and in only that one, under a lock on its
 * row, even when the last two end at the same moment on two workers. Then it runs like any job: at
 * least once. Its writes and its completion commit in one transaction, fenced by its lease, so a run
 * that crashes keeps nothing, and the next run reads the same final outcomes and decides the same.
 * It writes only to a project that is still PROCESSING: no other job, one enqueued by hand say, can
 * end a pack a second time.
 *
 * <p><b>What it decides.</b> COMPLETED if all of the pack's {@code images_total} image jobs
 * completed (counted: {@code dependencies} leaves out jobs deleted meanwhile); else FAILED with the
 * first failure as the reason. Image jobs that failed without their handler saying why (a timeout,
 * a crashed worker, retries used up) get their asset marked FAILED here. The outcomes are read
 * before the transaction opens: they are final, and the transaction stays short, on one connection.
 */
final class FinishPackHandler implements JobHandler<FinishPack> {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JdbiJobStore store;
    private final JdbiJobQueue queue;

    FinishPackHandler(JdbiJobStore store, JdbiJobQueue queue) {
        this.store = store;
        this.queue = queue;
    }

    @Override
    public JobOutcome handle(Job<FinishPack> job, JobContext context) throws Exception {
        UUID projectId = job.payload().projectId();
        List<JobSnapshot> images = queue.dependencies(job.id());
        List<Failure> failures = new ArrayList<>();
        for (JobSnapshot image : images) {
            if (image.status() != JobStatus.COMPLETED) {
                failures.add(new Failure(JSON.readValue(image.payloadJson(), GenerateImage.class), firstLine(image)));
            }
        }

        return store.completeInTransaction(context, handle -> {
            Optional<Integer> total = handle.createQuery(
                            "SELECT images_total FROM projects WHERE id = :id AND status = 'PROCESSING' FOR UPDATE")
                    .bind("id", projectId)
                    .mapTo(Integer.class)
                    .findOne();
            if (total.isEmpty()) {
                return JobOutcome.cancel("project " + projectId + " is not PROCESSING: its pack has ended already");
            }
            int completed = images.size() - failures.size();
            if (completed == total.get()) {
                setStatus(handle, projectId, ProjectStatus.COMPLETED, null);
                return JobOutcome.done();
            }
            failures.forEach(failure -> ImageHandler.failAsset(handle, failure.task(), failure.error()));
            setStatus(handle, projectId, ProjectStatus.FAILED, failures.isEmpty()
                    ? (total.get() - completed) + " of " + total.get() + " image jobs are gone (deleted before the pack finished)"
                    : failures.get(0).error() + " (" + failures.size() + " of " + total.get() + " images failed)");
            return JobOutcome.done();
        });
    }

    private static void setStatus(Handle handle, UUID projectId, ProjectStatus status, String reason) {
        handle.createUpdate("UPDATE projects SET status = :status, failure_reason = :reason, updated_at = now() WHERE id = :id")
                .bind("status", status.name())
                .bind("reason", reason)
                .bind("id", projectId)
                .execute();
    }

    private record Failure(GenerateImage task, String error) {}

    /** The first line of the job's error: a handler's reason, or an exception's class and message. */
    private static String firstLine(JobSnapshot job) {
        String error = Objects.requireNonNullElse(job.errorMessage(), job.status().sqlValue());
        return error.lines().findFirst().orElse(error);
    }
}
