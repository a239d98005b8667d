package dev.pgqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class EnqueueOptionsTest {

    @Nested
    class Defaults {

        @Test
        void defaults_areTheNamedConstants() {
            EnqueueOptions options = EnqueueOptions.defaults();

            assertThat(options.queue()).isEqualTo(EnqueueOptions.DEFAULT_QUEUE).isEqualTo("default");
            assertThat(options.priority()).isEqualTo(EnqueueOptions.DEFAULT_PRIORITY).isZero();
            assertThat(options.runAt()).isNull();
            assertThat(options.delay()).isZero();
            assertThat(options.userId()).isNull();
            assertThat(options.dedupeKey()).isNull();
            assertThat(options.uniqueness()).isNull();
            assertThat(options.maxRetries()).as("the job type's, unless set").isEmpty();
            assertThat(JobType.of("t", String.class).maxRetries()).isEqualTo(EnqueueOptions.DEFAULT_MAX_RETRIES).isEqualTo(3);
        }
    }

    @Nested
    class Withers {

        @Test
        void withers_changeOneValueAndKeepTheRest() {
            UUID user = UUID.randomUUID();

            EnqueueOptions options = EnqueueOptions.defaults().queue("images").priority(-10).maxRetries(0).userId(user)
                    .delay(Duration.ofMinutes(5));

            assertThat(options.queue()).isEqualTo("images");
            assertThat(options.priority()).isEqualTo(-10);
            assertThat(options.runAt()).isNull();
            assertThat(options.delay()).isEqualTo(Duration.ofMinutes(5));
            assertThat(options.maxRetries()).hasValue(0);
            assertThat(options.userId()).isEqualTo(user);
            assertThat(options.dedupeKey()).isNull();
            assertThat(options.uniqueness()).isNull();
            assertThat(options).isEqualTo(EnqueueOptions.defaults().userId(user).maxRetries(0).priority(-10)
                    .delay(Duration.ofMinutes(5)).queue("images")).isNotEqualTo(EnqueueOptions.defaults());
            assertThat(EnqueueOptions.defaults()).as("unchanged").satisfies(d -> {
                assertThat(d.queue()).isEqualTo("default");
                assertThat(d.priority()).isZero();
                assertThat(d.delay()).isZero();
                assertThat(d.maxRetries()).isEmpty();
                assertThat(d.userId()).isNull();
            });
        }

        @Test
        void runAt_replacesTheDelay_andDelayReplacesRunAt() {
            Instant at = Instant.parse("2030-01-01T00:00:00Z");

            EnqueueOptions due = EnqueueOptions.defaults().delay(Duration.ofHours(1)).runAt(at);
            assertThat(due.runAt()).isEqualTo(at);
            assertThat(due.delay()).isZero();

            EnqueueOptions delayed = due.delay(Duration.ofSeconds(3));
            assertThat(delayed.runAt()).isNull();
            assertThat(delayed.delay()).isEqualTo(Duration.ofSeconds(3));
        }

        @Test
        void userId_canBeCleared() {
            assertThat(EnqueueOptions.defaults().userId(UUID.randomUUID()).userId(null).userId()).isNull();
        }
    }

    @Nested
    class Validation {

        @Test
        void queue_mustBeAnIdentifier() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().queue("x; drop table job_queue"))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected queue to be 1-63 characters of letters, digits, _ and -, starting with a letter"
                            + " or _, got: \"x; drop table job_queue\"")
                    .satisfies(e -> assertThat(((ValidationException) e).field()).isEqualTo("queue"));
            assertThatThrownBy(() -> EnqueueOptions.defaults().queue(null))
                    .isInstanceOf(ValidationException.class).hasMessageEndingWith("got: null");
            assertThat(EnqueueOptions.defaults().queue("Images_high-2").queue()).isEqualTo("Images_high-2");
        }

        @Test
        void maxRetries_mustNotBeNegative() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().maxRetries(-1))
                    .isInstanceOf(ValidationException.class).hasMessage("expected maxRetries to be >= 0, got: -1");
            assertThat(EnqueueOptions.defaults().maxRetries(0).maxRetries()).hasValue(0);
        }

        @Test
        void delay_mustBeWithinWhatTheDatabaseCanStore() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().delay(Duration.ofDays(400_000)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected delay to be between PT0S and PT8760000H, got: PT9600000H");
            assertThatThrownBy(() -> EnqueueOptions.defaults().runAt(java.time.Instant.parse("+10000-01-01T00:00:00Z")))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected runAt to be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, got: ");
        }

        @Test
        void delay_mustNotBeNegativeOrMissing() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().delay(Duration.ofSeconds(-5)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected delay to be between PT0S and PT8760000H, got: PT-5S");
            assertThatThrownBy(() -> EnqueueOptions.defaults().delay(null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected delay to be between PT0S and PT8760000H, got: null");
        }

        @Test
        void runAt_mustNotBeNull() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().runAt(null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected runAt to be non-null, got: null");
        }

        @Test
        void withers_validate() {
            assertThatThrownBy(() -> EnqueueOptions.defaults().queue("bad queue"))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected queue to be");
            assertThatThrownBy(() -> EnqueueOptions.defaults().maxRetries(-2))
                    .isInstanceOf(ValidationException.class).hasMessage("expected maxRetries to be >= 0, got: -2");
        }
    }

    @Nested
    class WorkflowsAndFairness {

        @Test
        void everyWither_keepsTheDependenciesThePolicyAndThePartitionKey() {
            UUID a = UUID.randomUUID();
            UUID b = UUID.randomUUID();
            EnqueueOptions options = EnqueueOptions.defaults().dependsOn(a, b)
                    .onDependencyFailure(EnqueueOptions.DependencyFailure.RUN).partitionKey("tenant-7");

            EnqueueOptions changed = options.queue("q").priority(1).delay(Duration.ofSeconds(1)).runAt(Instant.EPOCH)
                    .maxRetries(1).userId(a).dedupeKey("k").uniqueness(Uniqueness.DEFAULT);

            assertThat(changed.dependsOn()).containsExactly(a, b);
            assertThat(changed.onDependencyFailure()).isEqualTo(EnqueueOptions.DependencyFailure.RUN);
            assertThat(changed.partitionKey()).isEqualTo("tenant-7");
        }

        @Test
        void dependsOn_replacesEarlierDependencies_andKeepsTheirOrder() {
            UUID a = UUID.randomUUID();
            UUID b = UUID.randomUUID();

            EnqueueOptions options = EnqueueOptions.defaults().dependsOn(a).dependsOn(java.util.List.of(b, a));

            assertThat(options.dependsOn()).containsExactly(b, a);
            assertThat(EnqueueOptions.defaults().dependsOn()).isEmpty();
        }

        @Test
        void theDependencyFailurePolicy_defaultsToCancel() {
            assertThat(EnqueueOptions.defaults().onDependencyFailure()).isNull();
            assertThat(EnqueueOptions.defaults().effectiveDependencyFailure()).isEqualTo(EnqueueOptions.DependencyFailure.CANCEL);
        }

        @Test
        void dependsOn_rejectsNullAndRepeatedIds() {
            UUID a = UUID.randomUUID();

            assertThatThrownBy(() -> EnqueueOptions.defaults().dependsOn((UUID[]) null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected dependsOn to be non-null, got: null");
            assertThatThrownBy(() -> EnqueueOptions.defaults().dependsOn(a, a))
                    .isInstanceOf(ValidationException.class).hasMessage("expected dependsOn to be distinct job ids, got: [" + a + ", " + a + "]");
        }

        @Test
        void partitionKey_isOneTo255CharactersWithoutNul() {
            assertThat(EnqueueOptions.defaults().partitionKey("x".repeat(255)).partitionKey()).hasSize(255);
            assertThatThrownBy(() -> EnqueueOptions.defaults().partitionKey("a\u0000b")).isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith("expected partitionKey to be 1-255 characters without \\u0000, got: ");
            assertThatThrownBy(() -> EnqueueOptions.defaults().partitionKey(null)).isInstanceOf(ValidationException.class)
                    .hasMessage("expected partitionKey to be non-null, got: null");
        }
    }
}
