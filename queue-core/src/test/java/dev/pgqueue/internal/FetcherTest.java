package dev.pgqueue.internal;

import static dev.pgqueue.internal.RuntimeFakes.HOST;
import static dev.pgqueue.internal.RuntimeFakes.claimed;
import static dev.pgqueue.internal.RuntimeFakes.registration;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.internal.RuntimeFakes.ManualExecutor;
import dev.pgqueue.internal.RuntimeFakes.RecordingHints;
import dev.pgqueue.internal.RuntimeFakes.RecordingListener;
import dev.pgqueue.internal.RuntimeFakes.RecordingStore;
import dev.pgqueue.internal.RuntimeFakes.StubStore;
import dev.pgqueue.spi.JobStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The claim loop alone, on its own thread: a store stub that hands out as many jobs as it holds, and
 * a dispatcher whose executor runs nothing, so that every claimed job keeps its slot.
 */
class FetcherTest {

    /** Holds {@code available} due jobs of queue "a"; records each claim. */
    static final class ClaimStore extends StubStore {
        final AtomicInteger available;
        final List<ClaimParams> claims = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger nextDueAsked = new AtomicInteger();

        ClaimStore(int available) {
            this.available = new AtomicInteger(available);
        }

        @Override
        public List<ClaimedJob> jobClaim(ClaimParams params) {
            claims.add(params);
            List<ClaimedJob> jobs = new ArrayList<>();
            while (jobs.size() < params.limit() && available.get() > 0) {
                available.decrementAndGet();
                jobs.add(claimed(params.queue()).build());
            }
            return jobs;
        }

        @Override
        public Optional<Duration> jobNextDue(NextDueParams params) {
            nextDueAsked.incrementAndGet();
            return Optional.empty();
        }

        List<Integer> limits() {
            synchronized (claims) {
                return claims.stream().map(ClaimParams::limit).toList();
            }
        }
    }

    private final Events events = new Events(new RecordingListener(), false);
    private final Leases leases = new Leases(events);
    private final Dispatcher dispatcher = new Dispatcher(Map.of("a", 3), Duration.ZERO, 100,
            Map.of(RuntimeFakes.TASK.name(), registration((job, context) -> JobOutcome.done())), java.util.List.of(), HOST,
            RetryPolicy.noBackoff(), false, new ManualExecutor(), null, leases, events,
            new Completer(new RecordingStore(), () -> null, leases, events, new RecordingHints(), "worker-1"),
            new RecordingHints());
    private Fetcher fetcher;
    private Thread thread;

    private void start(ClaimStore store, int batchSize) {
        fetcher = new Fetcher(store, () -> null, Set.of("a"), Set.of(RuntimeFakes.TASK.name()), batchSize,
                Duration.ofSeconds(30), Duration.ofHours(1), "worker-1", dispatcher, new Vitals());
        thread = new Thread(fetcher, "fetcher-under-test");
        thread.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        fetcher.stop();
        thread.join(5_000);
        assertThat(thread.isAlive()).isFalse();
    }

    @Test
    void claimsWhatTheQueueCanTake_asThisWorker_thenSleepsUntilToldOfMoreWork() {
        ClaimStore store = new ClaimStore(2);
        start(store, 10);

        await().until(() -> store.nextDueAsked.get() == 1); // the claim came back short: when is the next one due?
        assertThat(store.claims).hasSize(1);
        JobStore.ClaimParams first = store.claims.get(0);
        assertThat(first.queue()).isEqualTo("a");
        assertThat(first.limit()).as("the queue's free slots").isEqualTo(3);
        assertThat(first.workerId()).isEqualTo("worker-1");
        assertThat(first.leaseDuration()).isEqualTo(Duration.ofSeconds(30));
        assertThat(first.types()).containsExactly("task");
        assertThat(leases.all()).hasSize(2);

        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10))
                .until(() -> store.claims.size() == 1); // nothing new: no claim until the poll interval
        store.available.set(5);
        fetcher.jobsAvailable("a");

        await().until(() -> store.claims.size() == 2);
        assertThat(store.limits()).containsExactly(3, 1);
        assertThat(dispatcher.claimable("a")).isZero();
    }

    @Test
    void aFullClaim_isFollowedAtOnceByAnother_untilTheQueueIsFull() {
        ClaimStore store = new ClaimStore(100);
        start(store, 2);

        await().until(() -> store.claims.size() == 2);
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(10)).until(() -> store.claims.size() == 2);

        assertThat(store.limits()).as("batch size, then the one slot left").containsExactly(2, 1);
        assertThat(store.nextDueAsked).as("full claims: more work is waiting, no need to ask").hasValue(0);
        fetcher.jobsAvailable("a");
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(10))
                .until(() -> store.claims.size() == 2); // a full queue is not claimed for, whatever the hint
    }
}
