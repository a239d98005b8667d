package dev.pgqueue;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobSnapshotTest {

    private static final UUID ID = UUID.fromString("0190f1e2-0000-7000-8000-000000000001");
    private static final String PAYLOAD = "{\"imageId\": \"secret-customer-data\"}";

    private static JobSnapshot snapshot(JobStatus status, int attempt, String error) {
        Instant t = Instant.parse("2030-01-01T00:00:00Z");
        return new JobSnapshot(ID, "generate-image", "default", status, PAYLOAD, 0, attempt, attempt, 3, t, t, t, null,
                error, null, "key-1", "{\"url\": \"result-data\"}", new JobSnapshot.Progress(50, "half", t));
    }

    @Test
    void toString_isShort_withoutPayloadResultOrStackTrace() {
        String stack = "java.lang.IllegalStateException: no image for img-1\n"
                + "\tat com.example.Images.render(Images.java:42)\n"
                + "\tat dev.pgqueue.internal.Dispatcher.run(Dispatcher.java:10)\n";

        String text = snapshot(JobStatus.FAILED, 4, stack).toString();

        assertThat(text).isEqualTo("JobSnapshot[id=" + ID + ", type=generate-image, queue=default, status=FAILED, attempt=4,"
                + " error=java.lang.IllegalStateException: no image for img-1 …]");
        assertThat(text).doesNotContain("secret-customer-data").doesNotContain("result-data").doesNotContain("Images.java");
    }

    @Test
    void toString_cutsALongFirstLine_andLeavesOutAMissingError() {
        String longLine = "x".repeat(500);

        assertThat(snapshot(JobStatus.FAILED, 1, longLine).toString())
                .endsWith(", error=" + "x".repeat(JobSnapshot.TO_STRING_ERROR_LENGTH) + "…]")
                .hasSizeLessThan(300);
        assertThat(snapshot(JobStatus.PENDING, 0, null))
                .hasToString("JobSnapshot[id=" + ID + ", type=generate-image, queue=default, status=PENDING, attempt=0]");
    }
}
