package dev.pgqueue.internal;

import static dev.pgqueue.internal.RuntimeFakes.HOST;
import static dev.pgqueue.internal.RuntimeFakes.claimed;
import static dev.pgqueue.internal.RuntimeFakes.registration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.internal.RuntimeFakes.ManualExecutor;
import dev.pgqueue.internal.RuntimeFakes.RecordingHints;
import dev.pgqueue.internal.RuntimeFakes.RecordingListener;
import dev.pgqueue.internal.RuntimeFakes.RecordingStore;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The dispatcher's lanes alone: an executor that runs its tasks only when the test says so, a
 * completer that is not started (the test drains it), and a recording fetcher.
 */
class DispatcherTest {

    private final RecordingListener listener = new RecordingListener();
    private final Events events = new Events(listener, false);
    private final Leases leases = new Leases(events);
    private final RecordingStore store = new RecordingStore();
    private final Completer completer = new Completer(store, () -> null, leases, events, new RecordingHints(), "worker-1");
    private final RecordingHints fetcher = new RecordingHints();
    private final ManualExecutor executor = new ManualExecutor();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final List<Integer> ran = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stopTimer() {
        timer.shutdownNow();
    }

    private Dispatcher dispatcher(Map<String, Integer> concurrency) {
        HandlerRegistration<RuntimeFakes.Task> handler = registration((job, context) -> {
            ran.add(job.priority());
            return JobOutcome.done();
        });
        return new Dispatcher(concurrency, Duration.ZERO, 100, Map.of(RuntimeFakes.TASK.name(), handler), java.util.List.of(), HOST,
                RetryPolicy.noBackoff(), false, executor, timer, leases, events, completer, fetcher);
    }

    private static void drain(Completer completer) {
        completer.stop(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        completer.run();
    }

    @Nested
    class Slots {

        @Test
        void claimable_isEachQueuesFreeSlots_andNothingWhileItsJobsFillThem() {
            Dispatcher dispatcher = dispatcher(Map.of("a", 2, "b", 1));
            assertThat(dispatcher.claimable("a")).isEqualTo(2);
            assertThat(dispatcher.claimable("b")).isEqualTo(1);

            dispatcher.dispatch(List.of(claimed("a").build()));
            assertThat(dispatcher.claimable("a")).isEqualTo(1);
            dispatcher.dispatch(List.of(claimed("a").build(), claimed("b").build()));

            assertThat(dispatcher.claimable("a")).isZero();
            assertThat(dispatcher.claimable("b")).isZero();
            assertThat(dispatcher.runningJobs()).isEqualTo(3);
            assertThat(leases.all()).as("every claimed job is held from claim on").hasSize(3);
        }

        @Test
        void aQueueRunsNoMoreJobsAtOnceThanItsConcurrency_inPriorityOrder() {
            Dispatcher dispatcher = dispatcher(Map.of("a", 2));
            dispatcher.dispatch(List.of(claimed("a").priority(5).build(), claimed("a").priority(1).build(),
                    claimed("a").priority(3).build()));

            assertThat(executor.tasks).as("one runner per slot, not one per job").hasSize(2);
            executor.runNext(); // one runner takes the waiting jobs one after another
            executor.runNext(); // the other finds none left

            assertThat(ran).containsExactly(1, 3, 5);
            assertThat(executor.tasks).isEmpty();
            assertThat(dispatcher.runningJobs()).isZero();
            assertThat(dispatcher.claimable("a")).isEqualTo(2);
        }

        @Test
        void aFreedSlot_wakesTheFetcherOnlyOnceTheQueueIsWorthAClaim() {
            Dispatcher dispatcher = dispatcher(Map.of("a", 2));
            dispatcher.dispatch(List.of(claimed("a").build(), claimed("a").build(), claimed("a").build()));

            executor.runNext(); // runs all three: after the first the queue is still full (3 held, 2 slots)

            assertThat(ran).hasSize(3);
            assertThat(fetcher.hints).containsExactly("slot freed", "slot freed");
        }
    }

    @Nested
    class ClaimAhead {

        private static final long MS = 1_000_000L;

        @Test
        void fastHandlers_getTheClaimAheadTimesWorth_atMostTheBatchSize() {
            // 10 ms of work for 10 slots at 1 ms a job: 100 jobs; at 10 us: capped at the batch size
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, 1 * MS, -1, 500)).isEqualTo(100);
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, 10_000, -1, 500)).isEqualTo(500);
        }

        @Test
        void nothingAhead_whenClaimAheadIsOff_orBeforeAnyJobRan() {
            assertThat(Dispatcher.aheadJobs(0, 10, 1 * MS, 5 * MS, 500)).isZero();
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, -1, 5 * MS, 500)).isZero();
        }

        @Test
        void handlersSlowerThanTheClaimAheadTime_stillKeepFourClaimRoundTripsOfWorkWaiting() {
            // 30 ms a job, 10 slots: the claim-ahead time alone gives 3 jobs; a claim taking 20 ms
            // finishes 6.7 jobs meanwhile, so four round trips' worth is 26: the next claim goes out
            // with 13 left, enough for a claim that takes twice its average
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, 30 * MS, -1, 500)).isEqualTo(3);
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, 30 * MS, 20 * MS, 500)).isEqualTo(26);
            // a fast claim changes nothing: the claim-ahead time's worth is more
            assertThat(Dispatcher.aheadJobs(10 * MS, 10, 30 * MS, 1 * MS, 500)).isEqualTo(3);
        }

        @Test
        void slowHandlers_getNothingAhead_evenFromTheRoundTripFloor() {
            // a job of 2 s on 4 slots, claims of 5 ms: nothing waits behind it
            assertThat(Dispatcher.aheadJobs(10 * MS, 4, 2_000 * MS, 5 * MS, 500)).isZero();
        }
    }

    @Nested
    class WhereJobsGo {

        @Test
        void eachOutcomeGoesToTheCompleter_whichReleasesItsLease() {
            Dispatcher dispatcher = dispatcher(Map.of("a", 1));
            ClaimedJob job = claimed("a").build();
            dispatcher.dispatch(List.of(job));
            executor.runNext();
            assertThat(leases.get(job.id())).as("held until recorded").isNotNull();

            drain(completer);

            assertThat(store.kindsOf(job.id())).containsExactly(FinishKind.COMPLETE);
            assertThat(leases.all()).isEmpty();
            assertThat(listener.events).containsExactly("started " + job.id(), "completed " + job.id());
        }

        @Test
        void jobsClaimedWhileClosing_areHandedBackWithoutRunning() {
            Dispatcher dispatcher = dispatcher(Map.of("a", 1));
            dispatcher.handBackWaiting();
            ClaimedJob late = claimed("a").build();

            dispatcher.dispatch(List.of(late));
            drain(completer);

            assertThat(executor.tasks).isEmpty();
            assertThat(ran).isEmpty();
            assertThat(store.calls).extracting(call -> call.get(0).kind()).containsExactly(FinishKind.RELEASE);
            assertThat(store.calls.get(0)).extracting(Finish::id).containsExactly(late.id());
            assertThat(dispatcher.runningJobs()).isZero();
        }
    }
}
