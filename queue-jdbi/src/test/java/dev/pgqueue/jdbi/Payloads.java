package dev.pgqueue.jdbi;

import dev.pgqueue.JobType;
import java.util.List;
import java.util.Map;

/** Payload classes and job types shared by the store's tests; named after the seed's jobs. */
final class Payloads {

    record GenerateImage(String imageId, int size) {}

    record GeneratePack(String projectId, List<String> imageIds, Map<String, String> options) {}

    static final JobType<GenerateImage> GENERATE_IMAGE = JobType.of("generate-image", GenerateImage.class);
    static final JobType<GeneratePack> GENERATE_PACK = JobType.of("generate-complete-pack", GeneratePack.class);

    private Payloads() {}
}
