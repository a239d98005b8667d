package dev.pgqueue.internal;

import static dev.pgqueue.internal.RuntimeFakes.claimed;
import static dev.pgqueue.internal.RuntimeFakes.running;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgqueue.Job;
import dev.pgqueue.JobStatus;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.spi.JobStore.FinishKind;
import dev.pgqueue.spi.JobStore.FinishedJob;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The per-job events go to the listeners that override them, however they do (directly, through a
 * superclass, as an anonymous class); a listener of failures only is not called for them. (The MDC
 * around those calls needs an SLF4J binding: {@code JobLoggingTest} in queue-jdbi checks it.)
 */
class EventsTest {

    private final List<String> heard = Collections.synchronizedList(new ArrayList<>());

    /** Overrides the per-job events and says which job the MDC names. */
    class Counting implements WorkerListener {
        @Override
        public void jobStarted(Job<?> job) {
            heard.add("started " + job.id());
        }

        @Override
        public void jobCompleted(Job<?> job, Duration runTime) {
            heard.add("completed " + job.id());
        }
    }

    /** Inherits the overrides. */
    class Inheriting extends Counting {}

    /** Listens to failures only. */
    class FailuresOnly implements WorkerListener {
        @Override
        public void jobFailed(Job<?> job, String error) {
            heard.add("failed " + job.id());
        }
    }

    @Test
    void perJobEvents_reachTheListenersThatOverrideThem_andOnlyThose() {
        Events events = new Events(List.of(new FailuresOnly(), new Inheriting(), new WorkerListener() {
            @Override
            public void jobCompleted(Job<?> job, Duration runTime) {
                heard.add("anonymous completed " + job.id());
            }
        }), false);
        RunningJob run = running(claimed("default").build());
        run.end();

        events.started(run.job());
        events.recorded(run, FinishKind.COMPLETE, new FinishedJob(run.jobId(), JobStatus.COMPLETED, 0), null);
        events.recorded(run, FinishKind.FAIL, new FinishedJob(run.jobId(), JobStatus.FAILED, 1), null);

        assertThat(heard).containsExactly(
                "started " + run.jobId(),
                "completed " + run.jobId(),
                "anonymous completed " + run.jobId(),
                "failed " + run.jobId());
    }
}
