package dev.pgqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JobTypeTest {

    private static final String RULE =
            "1-128 characters of letters, digits and _ . : / -, starting with a letter or digit";

    record GenerateImage(String imageId) {}

    @ParameterizedTest
    @ValueSource(strings = {"generate-image", "generate-complete-pack", "billing.invoice:v2/send_email", "X", "9lives"})
    void of_acceptsStableNames(String name) {
        JobType<GenerateImage> type = JobType.of(name, GenerateImage.class);

        assertThat(type.name()).isEqualTo(name);
        assertThat(type.payloadType()).isEqualTo(GenerateImage.class);
        assertThat(type.retryPolicy()).isEmpty();
        assertThat(type.timeout()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "generate image", "-x", ".x", "_x", "naïve", "a;b", "a\"b", "a'b", "tab\t"})
    void of_rejectsIllegalNames(String name) {
        assertThatThrownBy(() -> JobType.of(name, GenerateImage.class))
                .isInstanceOf(ValidationException.class)
                .hasMessage("expected job type name to be " + RULE + ", got: \"" + name + "\"");
    }

    @Test
    void of_acceptsAtMost128Characters() {
        assertThat(JobType.of("a".repeat(128), GenerateImage.class).name()).hasSize(128);

        assertThatThrownBy(() -> JobType.of("a".repeat(129), GenerateImage.class))
                .isInstanceOf(ValidationException.class)
                .hasMessage("expected job type name to be " + RULE + ", got: \"" + "a".repeat(80) + "… (129 chars)\"");
    }

    @Test
    void of_rejectsNulls() {
        assertThatThrownBy(() -> JobType.of(null, GenerateImage.class))
                .isInstanceOf(ValidationException.class).hasMessage("expected job type name to be " + RULE + ", got: null");
        assertThatThrownBy(() -> JobType.of("generate-image", null))
                .isInstanceOf(ValidationException.class).hasMessage("expected payloadType to be non-null, got: null");
    }

    @Test
    void withers_returnCopiesCarryingPolicyAndTimeout() {
        JobType<GenerateImage> plain = JobType.of("generate-image", GenerateImage.class);
        RetryPolicy policy = RetryPolicy.fixed(Duration.ofSeconds(1));

        JobType<GenerateImage> configured = plain.withRetryPolicy(policy).withTimeout(Duration.ofMinutes(2));

        assertThat(configured.retryPolicy()).contains(policy);
        assertThat(configured.timeout()).contains(Duration.ofMinutes(2));
        assertThat(plain.retryPolicy()).isEmpty();
        assertThat(plain.timeout()).isEmpty();
        assertThat(configured).isNotEqualTo(plain);
    }

    @Test
    void withers_rejectBadValues() {
        JobType<GenerateImage> type = JobType.of("generate-image", GenerateImage.class);

        assertThatThrownBy(() -> type.withTimeout(Duration.ZERO))
                .isInstanceOf(ValidationException.class).hasMessage("expected timeout to be > 0, got: PT0S");
        assertThatThrownBy(() -> type.withTimeout(null))
                .isInstanceOf(ValidationException.class).hasMessage("expected timeout to be > 0, got: null");
        assertThatThrownBy(() -> type.withRetryPolicy(null))
                .isInstanceOf(ValidationException.class).hasMessage("expected retryPolicy to be non-null, got: null");
        assertThatThrownBy(() -> type.withMaxRetries(-1))
                .isInstanceOf(ValidationException.class).hasMessage("expected maxRetries to be >= 0, got: -1");
    }

    @Test
    void withMaxRetries_setsTheDefaultForItsJobs_andKeepsTheRest() {
        JobType<GenerateImage> plain = JobType.of("generate-image", GenerateImage.class).withTimeout(Duration.ofSeconds(5));

        JobType<GenerateImage> patient = plain.withMaxRetries(10);

        assertThat(plain.maxRetries()).isEqualTo(EnqueueOptions.DEFAULT_MAX_RETRIES);
        assertThat(patient.maxRetries()).isEqualTo(10);
        assertThat(patient.timeout()).contains(Duration.ofSeconds(5));
        assertThat(patient).isNotEqualTo(plain).isEqualTo(plain.withMaxRetries(10));
    }

    @Test
    void equality_isByValue() {
        JobType<GenerateImage> a = JobType.of("generate-image", GenerateImage.class).withTimeout(Duration.ofSeconds(5));
        JobType<GenerateImage> b = JobType.of("generate-image", GenerateImage.class).withTimeout(Duration.ofSeconds(5));

        assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
        assertThat(a).isNotEqualTo(JobType.of("generate-image", GenerateImage.class));
        assertThat(a).isNotEqualTo(JobType.of("generate-image", Object.class).withTimeout(Duration.ofSeconds(5)));
        assertThat(a).hasToString("JobType[generate-image -> " + GenerateImage.class.getName() + "]");
    }
}
