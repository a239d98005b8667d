package dev.pgqueue.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.JobStatus;
import dev.pgqueue.ValidationException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JobCountTest {

    @Test
    void eachAccuracy_saysWhatItIs() {
        assertThat(JobCount.exact(12)).hasToString("12").matches(JobCount::isExact);
        assertThat(JobCount.atLeast(10_000)).hasToString("10000+").matches(c -> !c.isExact());
        assertThat(JobCount.estimate(915_000)).hasToString("~915000").matches(c -> !c.isExact());
        assertThat(JobCount.Accuracy.AT_LEAST.jsonName()).isEqualTo("at_least");
    }

    @Test
    void badInput_isRefused() {
        assertThatThrownBy(() -> JobCount.exact(-1)).isInstanceOf(ValidationException.class)
                .hasMessage("expected value to be >= 0, got: -1");
        assertThatThrownBy(() -> new JobCount(1, null)).isInstanceOf(ValidationException.class)
                .hasMessage("expected accuracy to be non-null, got: null");
    }

    @Test
    void queueStats_readsACountWhateverItsAccuracy_andZeroForAMissingStatus() {
        QueueStats stats = new QueueStats("mail", false,
                Map.of(JobStatus.PROCESSING, JobCount.exact(3), JobStatus.COMPLETED, JobCount.estimate(900)),
                Duration.ZERO, 0, 0, 0, 0, 0, 0);

        assertThat(stats.running()).isEqualTo(3);
        assertThat(stats.count(JobStatus.COMPLETED)).isEqualTo(900);
        assertThat(stats.count(JobStatus.FAILED)).isZero();
    }
}
