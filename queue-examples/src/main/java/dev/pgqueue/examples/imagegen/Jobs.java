package dev.pgqueue.examples.imagegen;

import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import java.time.Duration;
import java.util.UUID;

/**
 * The example's three job types and their payloads: the seed's two, and the pack's completion
 * callback. Payloads carry ids, never image bytes: those stay in the example's tables, and a job is
 * a small JSON row in {@code job_queue} that any producer can write, for example
 * {@code INSERT INTO job_queue (job_type, payload) VALUES ('generate-complete-pack', '{"projectId": "…"}')}.
 */
public final class Jobs {

    /** "Generate Complete Pack" for one project: fans out one {@link GenerateImage} per image and variant. */
    public record GeneratePack(UUID projectId) {}

    /** Renders one variant of one source image of a project. */
    public record GenerateImage(UUID projectId, UUID imageId, Variant variant) {}

    /** Ends a project's pack, COMPLETED or FAILED, once every one of its {@link GenerateImage} jobs has ended. */
    public record FinishPack(UUID projectId) {}

    public static final JobType<GeneratePack> GENERATE_PACK = JobType.of("generate-complete-pack", GeneratePack.class);

    /**
     * Image work is CPU-bound and deterministic: a failure is more likely a bad image than a passing
     * glitch, so retries come soon and give up after the default three; a render that hangs is
     * interrupted after two minutes.
     */
    public static final JobType<GenerateImage> GENERATE_IMAGE = JobType.of("generate-image", GenerateImage.class)
            .withRetryPolicy(RetryPolicy.exponential(Duration.ofSeconds(1), Duration.ofMinutes(1)))
            .withTimeout(Duration.ofMinutes(2));

    /**
     * The pack's fan-in: enqueued with the pack's image jobs, waiting for all of them
     * ({@link PackHandler}, {@link FinishPackHandler}).
     */
    public static final JobType<FinishPack> FINISH_PACK = JobType.of("finish-pack", FinishPack.class);

    private Jobs() {}
}
