package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/** Simple stand-ins for what a worker part is built with, so that each part can be tested alone. */
final class RuntimeFakes {

    private RuntimeFakes() {}

    /** A job's payload. */
    record Task(String name) {}

    static final JobType<Task> TASK = JobType.of("task", Task.class);

    /** A claimed job of {@link #TASK} in {@code queue}, on its first attempt. */
    static ClaimedJobBuilder claimed(String queue) {
        return new ClaimedJobBuilder(queue);
    }

    static final class ClaimedJobBuilder {
        private final String queue;
        private int priority;

        ClaimedJobBuilder(String queue) {
            this.queue = queue;
        }

        ClaimedJobBuilder priority(int priority) {
            this.priority = priority;
            return this;
        }

        JobStore.ClaimedJob build() {
            Instant t = Instant.parse("2030-01-01T00:00:00Z");
            return new JobStore.ClaimedJob(UUID.randomUUID(), TASK.name(), queue, "{\"name\":\"x\"}", 1, 0, 3, priority,
                    t, t, null, UUID.randomUUID(), t.plusSeconds(30), t, java.util.Map.of());
        }
    }

    static HandlerRegistration<Task> registration(JobHandler<Task> handler) {
        return new HandlerRegistration<>(TASK, handler);
    }

    /** Decodes with the default mapper; "now" is the database's; a lease cannot be extended here. */
    static final AttemptHost HOST = new AttemptHost() {
        private final PayloadCodec codec = new PayloadCodec(PayloadCodec.defaultMapper());

        @Override
        public PayloadCodec codec() {
            return codec;
        }

        @Override
        public Instant now() {
            return null;
        }

        @Override
        public void extendLease(RunningJob run) {
            throw new UnsupportedOperationException("no heartbeat in this test");
        }
    };

    static RunningJob running(JobStore.ClaimedJob claimed) {
        return new RunningJob(claimed, registration((job, context) -> dev.pgqueue.JobOutcome.done()), HOST);
    }

    /** Keeps the tasks it is given; the test runs them on its own thread. */
    static final class ManualExecutor extends AbstractExecutorService {
        final List<Runnable> tasks = new ArrayList<>();

        @Override public void execute(Runnable task) { tasks.add(task); }
        @Override public void shutdown() {}
        @Override public List<Runnable> shutdownNow() { return List.of(); }
        @Override public boolean isShutdown() { return false; }
        @Override public boolean isTerminated() { return false; }
        @Override public boolean awaitTermination(long timeout, TimeUnit unit) { return true; }

        void runNext() {
            tasks.remove(0).run();
        }
    }

    /** What the parts told the fetcher. */
    static final class RecordingHints implements ClaimHints {
        final List<String> hints = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void slotFreed() {
            hints.add("slot freed");
        }

        @Override
        public void jobDueIn(String queue, Duration delay) {
            hints.add(queue + " due in " + delay);
        }
    }

    /** What the application's listener was told, one line per event. */
    static final class RecordingListener implements WorkerListener {
        final List<String> events = Collections.synchronizedList(new ArrayList<>());

        @Override
        public void jobStarted(Job<?> job) {
            events.add("started " + job.id());
        }

        @Override
        public void jobCompleted(Job<?> job, Duration runTime) {
            events.add("completed " + job.id());
        }

        @Override
        public void jobRetried(Job<?> job, String error, Duration delay) {
            events.add("retried " + job.id() + " in " + delay + ": " + error);
        }

        @Override
        public void jobFailed(Job<?> job, String error) {
            events.add("failed " + job.id() + ": " + error);
        }

        @Override
        public void leaseLost(Job<?> job) {
            events.add("lease lost " + job.id());
        }
    }

    /** Every operation unsupported: a test overrides the few its part uses. */
    abstract static class StubStore implements JobStore {
        @Override public List<dev.pgqueue.EnqueueResult> jobInsertMany(InsertParams p) { throw unused(); }
        @Override public List<ClaimedJob> jobClaim(ClaimParams p) { throw unused(); }
        @Override public List<FinishedJob> jobFinishMany(FinishParams p) { throw unused(); }
        @Override public List<LeaseStatus> jobExtendLeaseMany(ExtendLeaseParams p) { throw unused(); }
        @Override public List<RescuedJob> jobRescue(RescueParams p) { throw unused(); }
        @Override public CancelResult jobCancel(CancelParams p) { throw unused(); }
        @Override public int jobPrune(PruneParams p) { throw unused(); }
        @Override public Optional<JobSnapshot> jobGet(UUID id) { throw unused(); }
        @Override public List<JobSnapshot> jobDependencies(UUID id) { throw unused(); }
        @Override public List<JobSnapshot> jobList(ListParams p) { throw unused(); }
        @Override public Optional<ClaimedJob> jobClaimById(ClaimByIdParams p) { throw unused(); }
        @Override public void policyPutMany(PolicyParams p) { throw unused(); }
        @Override public List<QueuePolicy> policyList() { throw unused(); }
        @Override public List<UUID> jobProgressMany(ProgressParams p) { throw unused(); }
        @Override public Optional<String> jobLatestDedupeKey(LatestDedupeKeyParams p) { throw unused(); }
        @Override public Optional<Duration> jobNextDue(NextDueParams p) { throw unused(); }
        @Override public Subscription subscribe(StoreListener l) { throw unused(); }

        private static UnsupportedOperationException unused() {
            return new UnsupportedOperationException("not used by the part under test");
        }
    }

    /**
     * Records every jobFinishMany call; by default answers each outcome the way the database would
     * for a held lease (complete → completed, retry/snooze/release → pending, fail → failed).
     */
    static class RecordingStore extends StubStore {
        final List<List<Finish>> calls = Collections.synchronizedList(new ArrayList<>());

        @Override
        public List<FinishedJob> jobFinishMany(FinishParams params) {
            calls.add(List.copyOf(params.finishes()));
            List<FinishedJob> finished = new ArrayList<>();
            for (Finish finish : params.finishes()) {
                FinishedJob row = answer(finish);
                if (row != null) {
                    finished.add(row);
                }
            }
            return finished;
        }

        /** The row after {@code finish}, or null when this worker no longer holds the lease. */
        FinishedJob answer(Finish finish) {
            JobStatus status = switch (finish.kind()) {
                case COMPLETE -> JobStatus.COMPLETED;
                case FAIL -> JobStatus.FAILED;
                case CANCEL -> JobStatus.CANCELLED;
                case RETRY, SNOOZE, RELEASE -> JobStatus.PENDING;
            };
            return new FinishedJob(finish.id(), status, finish.kind() == FinishKind.RETRY ? 1 : 0);
        }

        List<FinishKind> kindsOf(UUID jobId) {
            synchronized (calls) {
                return calls.stream().flatMap(List::stream).filter(f -> f.id().equals(jobId)).map(Finish::kind).toList();
            }
        }
    }
}
