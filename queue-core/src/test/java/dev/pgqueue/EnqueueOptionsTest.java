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

            assertThat(options).isEqualTo(new EnqueueOptions("default", 0, null, Duration.ZERO, 3, null, null, null));
            assertThat(options.queue()).isEqualTo(EnqueueOptions.DEFAULT_QUEUE);
            assertThat(options.priority()).isEqualTo(EnqueueOptions.DEFAULT_PRIORITY);
            assertThat(options.maxRetries()).isEqualTo(EnqueueOptions.DEFAULT_MAX_RETRIES);
        }
    }

    @Nested
    class Withers {

        @Test
        void withers_changeOneValueAndKeepTheRest() {
            UUID user = UUID.randomUUID();

            EnqueueOptions options = EnqueueOptions.defaults().queue("images").priority(-10).maxRetries(0).userId(user)
                    .delay(Duration.ofMinutes(5));

            assertThat(options).isEqualTo(new EnqueueOptions("images", -10, null, Duration.ofMinutes(5), 0, user, null, null));
            assertThat(EnqueueOptions.defaults()).as("unchanged").isEqualTo(
                    new EnqueueOptions("default", 0, null, Duration.ZERO, 3, null, null, null));
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
            assertThat(EnqueueOptions.defaults().maxRetries(0).maxRetries()).isZero();
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
        void constructor_validatesToo() {
            assertThatThrownBy(() -> new EnqueueOptions("bad queue", 0, null, Duration.ZERO, 3, null, null, null))
                    .isInstanceOf(ValidationException.class).hasMessageStartingWith("expected queue to be");
            assertThatThrownBy(() -> new EnqueueOptions("default", 0, null, Duration.ZERO, -2, null, null, null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected maxRetries to be >= 0, got: -2");
        }
    }
}
