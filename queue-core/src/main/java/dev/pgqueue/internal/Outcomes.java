package dev.pgqueue.internal;

import dev.pgqueue.JobOutcome;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.spi.JobStore.Finish;
import dev.pgqueue.spi.JobStore.FinishKind;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;

/**
 * Turns how a handler ended (an outcome, a throwable, or a stop the worker asked for) into what the
 * store records. The one place that decides between complete, retry, fail, snooze, cancel and
 * hand-back.
 */
final class Outcomes {

    private static final int STACK_FRAMES = 25;

    private Outcomes() {}

    /**
     * @return what to record, or null when nothing may be recorded (the lease is lost)
     */
    static Finish decide(RunningJob run, JobOutcome outcome, Throwable error, RetryPolicy defaultPolicy) {
        if (run.isLeaseLost()) {
            return null;
        }
        if (error != null) {
            RunningJob.StopReason stop = run.stopReason();
            if (stop == RunningJob.StopReason.SHUTDOWN) {
                return run.finish(FinishKind.RELEASE, null, Duration.ZERO);
            }
            if (stop == RunningJob.StopReason.CANCELLED) {
                return run.finish(FinishKind.CANCEL, "cancelled by a producer while running", Duration.ZERO);
            }
            String message = stop == RunningJob.StopReason.TIMED_OUT
                    ? "timed out after " + run.registration().type().timeout().orElseThrow()
                            + " and was interrupted: " + describe(error)
                    : describe(error);
            return retry(run, message, defaultPolicy);
        }
        if (outcome == null) {
            return retry(run, "handler returned null; return JobOutcome.done() when the job is done", defaultPolicy);
        }
        return finish(run, outcome);
    }

    static Finish finish(RunningJob run, JobOutcome outcome) {
        if (outcome instanceof JobOutcome.Done) {
            return run.finish(FinishKind.COMPLETE, null, Duration.ZERO);
        }
        if (outcome instanceof JobOutcome.Snooze snooze) {
            return run.finish(FinishKind.SNOOZE, null, snooze.delay());
        }
        if (outcome instanceof JobOutcome.FailPermanently fail) {
            return run.finish(FinishKind.FAIL, truncate(fail.reason()), Duration.ZERO);
        }
        JobOutcome.Cancel cancel = (JobOutcome.Cancel) outcome;
        return run.finish(FinishKind.CANCEL, truncate(cancel.reason()), Duration.ZERO);
    }

    static Finish retry(RunningJob run, String message, RetryPolicy defaultPolicy) {
        RetryPolicy policy = run.registration().type().retryPolicy().orElse(defaultPolicy);
        Duration delay = RetryPolicies.delay(policy, run.claimed().retryCount() + 1);
        return run.finish(FinishKind.RETRY, truncate(message), delay);
    }

    /** The exception's class and message, its causes, and the top of its stack trace. */
    static String describe(Throwable error) {
        StringBuilder text = new StringBuilder(headline(error));
        for (Throwable cause = error.getCause(); cause != null && cause != cause.getCause(); cause = cause.getCause()) {
            text.append("\nCaused by: ").append(headline(cause));
        }
        StackTraceElement[] frames = error.getStackTrace();
        for (int i = 0; i < Math.min(frames.length, STACK_FRAMES); i++) {
            text.append("\n\tat ").append(frames[i]);
        }
        if (frames.length > STACK_FRAMES) {
            text.append("\n\t... ").append(frames.length - STACK_FRAMES).append(" more");
        }
        return text.toString();
    }

    private static String headline(Throwable t) {
        return t.getMessage() == null ? t.getClass().getName() : t.getClass().getName() + ": " + t.getMessage();
    }

    static String truncate(String message) {
        if (message == null || message.length() <= Worker.MAX_ERROR_MESSAGE_LENGTH) {
            return message;
        }
        String marker = "… [truncated, " + message.length() + " chars in all]";
        int cut = Worker.MAX_ERROR_MESSAGE_LENGTH - marker.length();
        if (Character.isHighSurrogate(message.charAt(cut - 1))) {
            cut--; // never keep half a surrogate pair: UTF-8 would store it as '?'
        }
        return message.substring(0, cut) + marker;
    }

    /** For tests and logs: the full stack trace as text. */
    static String stackTrace(Throwable error) {
        StringWriter out = new StringWriter();
        error.printStackTrace(new PrintWriter(out));
        return out.toString();
    }
}
