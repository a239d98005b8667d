package dev.pgqueue.internal;

import static dev.pgqueue.internal.RuntimeFakes.claimed;
import static dev.pgqueue.internal.RuntimeFakes.running;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.StoreException;
import dev.pgqueue.internal.RuntimeFakes.RecordingHints;
import dev.pgqueue.internal.RuntimeFakes.RecordingListener;
import dev.pgqueue.internal.RuntimeFakes.RecordingStore;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.FinishedJob;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The completer alone: a recording store, a recording listener and a recording fetcher stand in
 * for the database, the application and the claim loop.
 */
class CompleterTest {

    private final RecordingListener listener = new RecordingListener();
    private final Events events = new Events(listener, false);
    private final Leases leases = new Leases(events);
    private final RecordingHints fetcher = new RecordingHints();

    private Completer completer(RecordingStore store) {
        return new Completer(store, () -> null, leases, events, fetcher, "worker-1");
    }

    /** A job claimed in {@code queue} and held, as the dispatcher leaves it. */
    private RunningJob held(String queue) {
        RunningJob run = running(claimed(queue).build());
        leases.hold(run);
        run.end();
        return run;
    }

    /** Records everything submitted so far on this thread, then returns (as at shutdown). */
    private static void drain(Completer completer) {
        completer.stop(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
        completer.run();
    }

    @Nested
    class Batching {

        @Test
        void outcomesQueuedBeforeAWrite_areRecordedInOneStatement() {
            RecordingStore store = new RecordingStore();
            Completer completer = completer(store);
            List<RunningJob> runs = List.of(held("a"), held("a"), held("b"));
            runs.forEach(run -> completer.submit(run, run.finish(FinishKind.COMPLETE, null, Duration.ZERO)));

            drain(completer);

            assertThat(store.calls).hasSize(1);
            assertThat(store.calls.get(0)).extracting(Finish::id)
                    .containsExactly(runs.get(0).jobId(), runs.get(1).jobId(), runs.get(2).jobId());
            assertThat(leases.all()).as("every lease released once recorded").isEmpty();
            assertThat(listener.events).containsExactly(
                    "completed " + runs.get(0).jobId(), "completed " + runs.get(1).jobId(), "completed " + runs.get(2).jobId());
            assertThat(fetcher.hints).as("nothing went back to a queue").isEmpty();
        }

        @Test
        void outcomesArrivingWhileAWriteIsInFlight_formTheNextBatch() throws Exception {
            CountDownLatch firstWriteStarted = new CountDownLatch(1);
            CountDownLatch releaseFirstWrite = new CountDownLatch(1);
            RecordingStore store = new RecordingStore() {
                @Override
                public List<FinishedJob> jobFinishMany(FinishParams params) {
                    if (firstWriteStarted.getCount() > 0) {
                        firstWriteStarted.countDown();
                        await(releaseFirstWrite);
                    }
                    return super.jobFinishMany(params);
                }
            };
            Completer completer = completer(store);
            Thread thread = new Thread(completer, "completer-under-test");
            thread.start();

            RunningJob first = held("a");
            completer.submit(first, first.finish(FinishKind.COMPLETE, null, Duration.ZERO));
            assertThat(firstWriteStarted.await(5, TimeUnit.SECONDS)).isTrue();
            RunningJob second = held("a");
            RunningJob third = held("a");
            completer.submit(second, second.finish(FinishKind.COMPLETE, null, Duration.ZERO));
            completer.submit(third, third.finish(FinishKind.COMPLETE, null, Duration.ZERO));
            releaseFirstWrite.countDown();
            completer.stop(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
            thread.join(5_000);

            assertThat(thread.isAlive()).isFalse();
            assertThat(store.calls).extracting(call -> call.stream().map(Finish::id).toList())
                    .containsExactly(List.of(first.jobId()), List.of(second.jobId(), third.jobId()));
            assertThat(leases.all()).isEmpty();
        }
    }

    @Nested
    class WakingTheFetcher {

        @Test
        void aRetryRecordedAsPending_tellsTheFetcherWhenItComesDue_aHandedBackJobDoesNot() {
            RecordingStore store = new RecordingStore();
            Completer completer = completer(store);
            RunningJob retried = held("emails");
            RunningJob handedBack = held("reports");
            completer.submit(retried, retried.finish(FinishKind.RETRY, "boom", Duration.ofSeconds(30)));
            completer.submit(handedBack, handedBack.finish(FinishKind.RELEASE, null, Duration.ZERO));

            drain(completer);

            assertThat(fetcher.hints).containsExactly("emails due in PT30S");
            assertThat(listener.events).containsExactly("retried " + retried.jobId() + " in PT30S: boom");
        }
    }

    @Nested
    class LostLeases {

        @Test
        void anOutcomeTheStoreRejects_releasesTheLease_andIsReportedAsALostLeaseOnce() {
            RunningJob lost = held("a");
            RunningJob kept = held("a");
            RecordingStore store = new RecordingStore() {
                @Override
                FinishedJob answer(Finish finish) {
                    return finish.id().equals(lost.jobId()) ? null : super.answer(finish);
                }
            };
            Completer completer = completer(store);
            leases.lost(lost); // the heartbeat had already seen it go: not reported again
            completer.submit(lost, lost.finish(FinishKind.COMPLETE, null, Duration.ZERO));
            completer.submit(kept, kept.finish(FinishKind.COMPLETE, null, Duration.ZERO));

            drain(completer);

            assertThat(leases.all()).isEmpty();
            assertThat(listener.events).containsExactly("lease lost " + lost.jobId(), "completed " + kept.jobId());
        }
    }

    @Nested
    class StatementsTheStoreRejects {

        @Test
        void areRecordedOneJobAtATime_andTheOutcomeThatCannotBeStoredFailsItsJob() {
            RecordingStore store = new RecordingStore() {
                @Override
                public List<FinishedJob> jobFinishMany(FinishParams params) {
                    List<FinishedJob> answer = super.jobFinishMany(params);
                    if (params.finishes().stream().anyMatch(f -> "unstorable".equals(f.resultJson()))) {
                        throw new StoreException("invalid input syntax for type json", null, false);
                    }
                    return answer;
                }
            };
            Completer completer = completer(store);
            RunningJob good = held("a");
            RunningJob bad = held("a");
            RunningJob alsoGood = held("a");
            completer.submit(good, good.finish(FinishKind.COMPLETE, null, Duration.ZERO));
            completer.submit(bad, bad.finish(FinishKind.COMPLETE, null, Duration.ZERO, "unstorable"));
            completer.submit(alsoGood, alsoGood.finish(FinishKind.COMPLETE, null, Duration.ZERO));

            drain(completer);

            assertThat(store.calls).extracting(List::size).containsExactly(3, 1, 1, 1, 1);
            assertThat(store.kindsOf(good.jobId())).containsExactly(FinishKind.COMPLETE, FinishKind.COMPLETE);
            assertThat(store.kindsOf(bad.jobId())).containsExactly(FinishKind.COMPLETE, FinishKind.COMPLETE, FinishKind.FAIL);
            assertThat(store.calls.get(3).get(0).message())
                    .startsWith("pgqueue could not record this job's outcome (COMPLETE): invalid input syntax for type json");
            assertThat(listener.events).containsExactly(
                    "completed " + good.jobId(),
                    "failed " + bad.jobId() + ": " + store.calls.get(3).get(0).message(),
                    "completed " + alsoGood.jobId());
            assertThat(leases.all()).isEmpty();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
