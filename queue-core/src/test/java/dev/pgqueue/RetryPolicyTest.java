package dev.pgqueue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.internal.RetryPolicies;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RetryPolicyTest {

    private static final int SAMPLES = 2_000;

    private static List<Duration> sample(RetryPolicy policy, int retry) {
        List<Duration> delays = new ArrayList<>(SAMPLES);
        for (int i = 0; i < SAMPLES; i++) {
            delays.add(policy.delayBeforeRetry(retry));
        }
        return delays;
    }

    @Nested
    class Exponential {

        private final Duration base = Duration.ofSeconds(2);
        private final Duration cap = Duration.ofMinutes(5);
        private final RetryPolicy policy = RetryPolicy.exponential(base, cap);

        @ParameterizedTest
        @ValueSource(ints = {1, 2, 3, 5, 8, 9, 10, 20})
        void exponential_spreadsRetryNOverZeroToBaseTimesTwoToTheNMinusOneCapped(int retry) {
            Duration ceiling = base.multipliedBy(1L << (retry - 1));
            if (ceiling.compareTo(cap) > 0) {
                ceiling = cap;
            }

            List<Duration> delays = sample(policy, retry);

            Duration max = Collections.max(delays);
            Duration min = Collections.min(delays);
            assertThat(min).isGreaterThanOrEqualTo(Duration.ZERO);
            assertThat(max).isLessThanOrEqualTo(ceiling);
            // Full jitter: uniformly spread over the whole range, not bunched at the top or the bottom.
            assertThat(max).isGreaterThan(ceiling.multipliedBy(9).dividedBy(10));
            assertThat(min).isLessThan(ceiling.dividedBy(10));
            assertThat(delays.stream().distinct().count()).isGreaterThan(SAMPLES / 2);
            Duration mean = delays.stream().reduce(Duration.ZERO, Duration::plus).dividedBy(SAMPLES);
            assertThat(mean).isBetween(ceiling.multipliedBy(4).dividedBy(10), ceiling.multipliedBy(6).dividedBy(10));
        }

        @Test
        void exponential_staysWithinTheCapForAnyRetryNumber() {
            for (int retry : new int[] {62, 63, 64, 1_000, Integer.MAX_VALUE}) {
                assertThat(sample(policy, retry)).allSatisfy(delay -> assertThat(delay).isBetween(Duration.ZERO, cap));
            }
        }

        @Test
        void exponential_treatsRetryZeroOrLessAsTheFirst() {
            assertThat(sample(policy, 0)).allSatisfy(delay -> assertThat(delay).isBetween(Duration.ZERO, base));
            assertThat(sample(policy, -3)).allSatisfy(delay -> assertThat(delay).isBetween(Duration.ZERO, base));
        }

        @Test
        void exponential_withABaseAboveTheCapNeverExceedsTheCap() {
            RetryPolicy inverted = RetryPolicy.exponential(Duration.ofHours(2), Duration.ofMinutes(1));

            assertThat(sample(inverted, 1)).allSatisfy(delay -> assertThat(delay).isBetween(Duration.ZERO, Duration.ofMinutes(1)));
        }

        @Test
        void default_isExponentialFromTwoSecondsCappedAtOneHour() {
            assertThat(RetryPolicy.DEFAULT).isEqualTo(RetryPolicy.exponential(Duration.ofSeconds(2), Duration.ofHours(1)));
            assertThat(sample(RetryPolicy.DEFAULT, 1)).allSatisfy(d -> assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(2)));
            assertThat(sample(RetryPolicy.DEFAULT, 30)).allSatisfy(d -> assertThat(d).isBetween(Duration.ZERO, Duration.ofHours(1)));
        }
    }

    @Nested
    class Fixed {

        @Test
        void fixed_waitsTheSameDelayForEveryRetry() {
            RetryPolicy policy = RetryPolicy.fixed(Duration.ofSeconds(45));

            for (int retry = 1; retry <= 20; retry++) {
                assertThat(policy.delayBeforeRetry(retry)).isEqualTo(Duration.ofSeconds(45));
            }
        }

        @Test
        void noBackoff_retriesAtOnce() {
            for (int retry = 1; retry <= 20; retry++) {
                assertThat(RetryPolicy.noBackoff().delayBeforeRetry(retry)).isZero();
            }
            assertThat(RetryPolicy.noBackoff()).isEqualTo(RetryPolicy.fixed(Duration.ZERO));
        }
    }

    @Nested
    class InvalidArguments {

        @Test
        void exponential_rejectsABaseOrCapThatIsNotPositive() {
            assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ZERO, Duration.ofMinutes(1)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected base to be > 0, got: PT0S");
            assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ofSeconds(-1), Duration.ofMinutes(1)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected base to be > 0, got: PT-1S");
            assertThatThrownBy(() -> RetryPolicy.exponential(null, Duration.ofMinutes(1)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected base to be > 0, got: null");
            assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ofSeconds(1), Duration.ZERO))
                    .isInstanceOf(ValidationException.class).hasMessage("expected cap to be > 0, got: PT0S");
            assertThatThrownBy(() -> RetryPolicy.exponential(Duration.ofSeconds(1), null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected cap to be > 0, got: null");
        }

        @Test
        void fixed_rejectsANegativeOrMissingDelay() {
            assertThatThrownBy(() -> RetryPolicy.fixed(Duration.ofMillis(-1)))
                    .isInstanceOf(ValidationException.class).hasMessage("expected delay to be between PT0S and PT8760000H, got: PT-0.001S");
            assertThatThrownBy(() -> RetryPolicy.fixed(null))
                    .isInstanceOf(ValidationException.class).hasMessage("expected delay to be between PT0S and PT8760000H, got: null");
        }
    }

    @Nested
    class MisbehavingPolicies {

        @Test
        void delay_returnsWhatAWellBehavedPolicySays() {
            assertThat(RetryPolicies.delay(RetryPolicy.fixed(Duration.ofSeconds(7)), 3)).isEqualTo(Duration.ofSeconds(7));
            assertThat(RetryPolicies.delay(retry -> Duration.ofMinutes(retry), 4)).isEqualTo(Duration.ofMinutes(4));
        }

        @Test
        void delay_fallsBackToTheDefaultWhenAPolicyThrowsOrAnswersNonsense() {
            RetryPolicy throwing = retry -> {
                throw new IllegalStateException("broken policy");
            };
            RetryPolicy negative = retry -> Duration.ofDays(-1);
            RetryPolicy nothing = retry -> null;

            for (RetryPolicy policy : List.of(throwing, negative, nothing)) {
                // The default's range for the first retry: [0, 2 s].
                assertThat(RetryPolicies.delay(policy, 1)).isBetween(Duration.ZERO, Duration.ofSeconds(2));
                assertThat(RetryPolicies.delay(policy, 12)).isBetween(Duration.ZERO, Duration.ofHours(1));
            }
        }
    }
}
