package io.cairn.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Back-off grows exponentially to its cap with bounded jitter; attempts, time and Retry-After bound the retries. */
class RetryPolicyTest {
    private final RetryPolicy policy = RetryPolicy.builder()
            .initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(1)).maxAttempts(5).maxElapsed(Duration.ofSeconds(10)).build();

    @Test
    void backoffDoublesUpToTheCapAndJitterStaysInTheUpperHalf() {
        long[] expected = {100, 200, 400, 800, 1000, 1000, 1000};
        for (int retry = 1; retry <= expected.length; retry++) {
            long full = expected[retry - 1];
            assertThat(policy.backoff(retry, 0.0).toMillis()).as("retry %d, lowest", retry).isEqualTo(full / 2);
            assertThat(policy.backoff(retry, 0.999999).toMillis()).as("retry %d, highest", retry).isBetween(full - 1, full);
        }
        assertThat(policy.backoff(1_000, 0.5).toMillis()).isEqualTo(750);
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 1_000; i++) {
            int retry = 1 + random.nextInt(20);
            Duration d = policy.backoff(retry, random.nextDouble());
            assertThat(d).isPositive().isLessThanOrEqualTo(policy.maxBackoff());
        }
    }

    @Test
    void attemptsAndElapsedTimeBoundTheRetries() {
        assertThat(policy.nextDelay(1, 0, null, 0.5)).isNotNull();
        assertThat(policy.nextDelay(4, 0, null, 0.5)).isNotNull();
        assertThat(policy.nextDelay(5, 0, null, 0.5)).as("the fifth attempt was the last").isNull();
        assertThat(policy.nextDelay(1, Duration.ofMillis(9_950).toNanos(), null, 0.5)).as("the wait would pass maxElapsed").isNull();
        assertThat(RetryPolicy.none().nextDelay(1, 0, null, 0.5)).isNull();
        assertThat(RetryPolicy.none().retryWrites()).isFalse();
    }

    @Test
    void retryAfterLengthensTheWaitButNeverShortensIt() {
        assertThat(policy.nextDelay(1, 0, Duration.ofSeconds(1), 0.5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(policy.nextDelay(4, 0, Duration.ZERO, 0.0)).isEqualTo(Duration.ofMillis(400));
        assertThat(policy.nextDelay(1, Duration.ofMillis(9_500).toNanos(), Duration.ofSeconds(1), 0.5)).isNull();
    }

    @Test
    void nonsenseSettingsAreRefused() {
        assertThatThrownBy(() -> RetryPolicy.builder().maxAttempts(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RetryPolicy.builder().initialBackoff(Duration.ofSeconds(3)).maxBackoff(Duration.ofSeconds(1)).build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> policy.backoff(0, 0.5)).isInstanceOf(IllegalArgumentException.class);
    }
}
