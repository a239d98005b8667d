package dev.pgqueue.examples.imagegen;

import java.util.List;
import java.util.UUID;

/**
 * A project as {@code GET /projects/{id}} shows it: its status, and each source image with the
 * assets made from it. Bytes are left out; the {@code url}s serve them.
 *
 * @param packJobId the generate-complete-pack job's id in {@code job_queue}, once requested
 * @param assets    assets of the pack by status, for a progress bar
 */
public record ProjectView(
        UUID id,
        String name,
        UUID userId,
        ProjectStatus status,
        String failureReason,
        UUID packJobId,
        String updatedAt,
        Progress assets,
        List<ImageView> images) {

    public ProjectView {
        images = List.copyOf(images);
    }

    /** How many assets the pack has, and how many are done or failed. */
    public record Progress(int total, int done, int failed) {}

    /** A source image and the assets made from it so far. */
    public record ImageView(UUID id, String fileName, String format, int width, int height, String url, List<AssetView> assets) {
        public ImageView {
            assets = List.copyOf(assets);
        }
    }

    /**
     * One variant of one source image: {@code PENDING}, {@code DONE} or {@code FAILED} (with the
     * error). Format and size are set once it is done.
     */
    public record AssetView(UUID id, String variant, String status, String format, Integer width, Integer height,
                            String error, String url) {}
}
