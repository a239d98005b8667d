package dev.pgqueue.internal;

import dev.pgqueue.Job;
import dev.pgqueue.JobHandler;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.LeaseLostException;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.spi.JobStore;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.ExtendLeaseParams;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishParams;
import dev.pgqueue.spi.JobStore.LeaseRef;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs one claimed job on the calling thread and records its outcome, through the same
 * {@link RunningJob} and {@link Outcomes} a worker uses, so that a test sees exactly what a worker
 * would record (retry delays, payloads that do not map, results, progress, transactional handlers
 * that record their own outcome). What a worker adds around that, it leaves out: no heartbeat (the
 * claim's lease must outlast the handler), no timeout, no cancellation while running. For the test
 * helpers in {@code dev.pgqueue.testing}.
 */
public final class InlineRunner {

    private final JobStore store;
    private final Map<String, HandlerRegistration<?>> handlers;
    private final RetryPolicy defaultPolicy;
    private final Clock clock;
    private final AttemptHost host;

    /** @param clock "now" for the store, or null for the database's clock */
    public InlineRunner(JobStore store, Map<String, HandlerRegistration<?>> handlers, PayloadCodec codec,
            RetryPolicy defaultPolicy, Clock clock, Duration leaseDuration) {
        this.store = store;
        this.handlers = Map.copyOf(handlers);
        this.defaultPolicy = defaultPolicy;
        this.clock = clock;
        this.host = new AttemptHost() {
            @Override
            public PayloadCodec codec() {
                return codec;
            }

            @Override
            public Instant now() {
                return InlineRunner.this.now();
            }

            @Override
            public void extendLease(RunningJob run) {
                List<JobStore.LeaseStatus> statuses = store.jobExtendLeaseMany(new ExtendLeaseParams(
                        List.of(new LeaseRef(run.jobId(), run.leaseToken())), leaseDuration, now()));
                if (statuses.stream().anyMatch(status -> !status.held())) {
                    throw new LeaseLostException(run.claimed().type(), run.jobId());
                }
            }
        };
    }

    /** The job types this runner has handlers for. */
    public Set<String> types() {
        return handlers.keySet();
    }

    /**
     * Runs {@code claimed}'s handler on this thread and records the outcome (unless the handler
     * recorded it in its own transaction).
     *
     * @return false if the outcome was rejected because the lease had been lost meanwhile
     * @throws IllegalArgumentException if no handler is registered for the job's type
     */
    @SuppressWarnings("unchecked")
    public boolean run(ClaimedJob claimed) {
        HandlerRegistration<?> registration = handlers.get(claimed.type());
        if (registration == null) {
            throw new IllegalArgumentException("no handler for job type " + claimed.type());
        }
        RunningJob run = new RunningJob(claimed, registration, host);
        Finish finish;
        run.begin(Thread.currentThread());
        try {
            if (run.payloadError() != null) {
                finish = Outcomes.payloadError(run, defaultPolicy);
            } else {
                JobOutcome outcome = null;
                Throwable error = null;
                try {
                    outcome = ((JobHandler<Object>) registration.handler()).handle((Job<Object>) run.job(), run);
                } catch (Throwable t) {
                    error = t;
                }
                finish = Outcomes.decide(run, outcome, error, defaultPolicy);
            }
        } finally {
            run.end();
            Thread.interrupted();
        }
        if (run.recordedByHandler() != null) {
            return true;
        }
        if (finish == null) {
            return false;
        }
        return !store.jobFinishMany(new FinishParams(List.of(finish), now())).isEmpty();
    }

    private Instant now() {
        return clock == null ? null : clock.instant();
    }
}
