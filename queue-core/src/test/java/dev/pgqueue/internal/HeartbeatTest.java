package dev.pgqueue.internal;

import static dev.pgqueue.internal.RuntimeFakes.claimed;
import static dev.pgqueue.internal.RuntimeFakes.running;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgqueue.LeaseLostException;
import dev.pgqueue.StoreException;
import dev.pgqueue.internal.RuntimeFakes.RecordingListener;
import dev.pgqueue.internal.RuntimeFakes.StubStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The heartbeat alone: a store stub that answers each lease as the test says, and the leases it keeps. */
class HeartbeatTest {

    /** What the store says of each lease: held, held with a cancellation request, or lost (absent: row busy). */
    enum Lease { HELD, CANCEL_REQUESTED, LOST }

    static final class LeaseStore extends StubStore {
        final Map<UUID, Lease> leases = new HashMap<>();
        final List<List<UUID>> calls = new ArrayList<>();
        final List<Duration> durations = new ArrayList<>();
        boolean away;

        @Override
        public List<LeaseStatus> jobExtendLeaseMany(ExtendLeaseParams params) {
            if (away) {
                throw new StoreException("connection refused", null, true);
            }
            calls.add(params.leases().stream().map(LeaseRef::id).toList());
            durations.add(params.leaseDuration());
            List<LeaseStatus> statuses = new ArrayList<>();
            for (LeaseRef ref : params.leases()) {
                Lease lease = leases.get(ref.id());
                if (lease != null) {
                    statuses.add(new LeaseStatus(ref.id(), lease != Lease.LOST, Instant.now().plusSeconds(30),
                            lease == Lease.CANCEL_REQUESTED));
                }
            }
            return statuses;
        }
    }

    private final RecordingListener listener = new RecordingListener();
    private final Leases leases = new Leases(new Events(listener, false));
    private final LeaseStore store = new LeaseStore();
    private final Heartbeat heartbeat =
            new Heartbeat(store, () -> null, Duration.ofSeconds(30), Duration.ofSeconds(10), leases, "worker-1");

    /** A held job whose handler is running (on a thread that never starts: a stop only interrupts it). */
    private RunningJob runningJob(Lease lease) {
        RunningJob run = running(claimed("a").build());
        leases.hold(run);
        run.begin(new Thread(() -> {}));
        if (lease != null) {
            store.leases.put(run.jobId(), lease);
        }
        return run;
    }

    @Nested
    class Beat {

        @Test
        void extendsEveryHeldLease_inOneStatement_forTheLeaseDuration() {
            RunningJob first = runningJob(Lease.HELD);
            RunningJob second = runningJob(Lease.HELD);

            heartbeat.beat();

            assertThat(store.calls).hasSize(1);
            assertThat(store.calls.get(0)).containsExactlyInAnyOrder(first.jobId(), second.jobId());
            assertThat(store.durations).containsExactly(Duration.ofSeconds(30));
            assertThat(first.shouldStop()).isFalse();
            assertThat(second.shouldStop()).isFalse();
            assertThat(heartbeat.healthy()).isTrue();
        }

        @Test
        void aLeaseTheStoreSaysIsLost_stopsItsHandler_andIsReportedOnce() {
            RunningJob lost = runningJob(Lease.LOST);
            RunningJob busy = runningJob(null); // no answer: its row was busy; next beat

            heartbeat.beat();
            heartbeat.beat();

            assertThat(lost.isLeaseLost()).isTrue();
            assertThat(lost.shouldStop()).isTrue();
            assertThat(busy.shouldStop()).isFalse();
            assertThat(listener.events).containsExactly("lease lost " + lost.jobId());
            assertThat(store.calls.get(1)).as("a lost lease is no longer extended").containsExactly(busy.jobId());
        }

        @Test
        void aJobWhoseHandlersTransactionIsCommittingItsOutcome_isNotALostLease() {
            // A transactional handler between its COMMIT and its return: the row already shows the
            // outcome, so the store no longer counts the lease as held. Seen 1-3 times a W5R run.
            RunningJob committing = runningJob(Lease.LOST);
            committing.committing();
            RunningJob lost = runningJob(Lease.LOST);

            heartbeat.beat();

            assertThat(committing.isLeaseLost()).isFalse();
            assertThat(committing.shouldStop()).isFalse();
            assertThat(lost.isLeaseLost()).isTrue();
            assertThat(listener.events).containsExactly("lease lost " + lost.jobId());
        }

        @Test
        void aCancellationRequestOnAHeldLease_stopsTheHandler() {
            RunningJob cancelled = runningJob(Lease.CANCEL_REQUESTED);

            heartbeat.beat();

            assertThat(cancelled.isCancellationRequested()).isTrue();
            assertThat(cancelled.stopReason()).isEqualTo(RunningJob.StopReason.CANCELLED);
            assertThat(cancelled.isLeaseLost()).isFalse();
        }

        @Test
        void whileTheStoreIsAway_isUnhealthy_untilABeatGetsThrough() {
            RunningJob run = runningJob(Lease.HELD);
            store.away = true;

            heartbeat.beat();
            assertThat(heartbeat.healthy()).isFalse();
            assertThat(run.shouldStop()).as("a failed beat loses nothing by itself").isFalse();

            store.away = false;
            heartbeat.beat();
            assertThat(heartbeat.healthy()).isTrue();
        }
    }

    @Nested
    class ExtendNow {

        @Test
        void throwsWhenTheLeaseIsLost_andExtendsOnlyThatJob() {
            RunningJob held = runningJob(Lease.HELD);
            RunningJob lost = runningJob(Lease.LOST);

            heartbeat.extendNow(held);
            assertThatThrownBy(() -> heartbeat.extendNow(lost)).isInstanceOf(LeaseLostException.class);

            assertThat(store.calls).containsExactly(List.of(held.jobId()), List.of(lost.jobId()));
            assertThat(lost.isLeaseLost()).isTrue();
        }
    }
}
