package dev.pgqueue.spring;

import dev.pgqueue.JobHandler;
import dev.pgqueue.JobType;
import dev.pgqueue.Worker;
import java.util.Objects;

/**
 * A handler for the worker, declared as a bean: the one way to register a handler with the
 * auto-configured {@link Worker}. Every bean of this type in the context is registered with
 * {@link Worker.Builder#handler(JobType, JobHandler)}; the worker itself is configured only when at
 * least one exists.
 *
 * <pre>{@code
 * @Bean
 * JobHandlerRegistration<SendWelcomeMail> welcomeMail(MailSender mail) {
 *     return JobHandlerRegistration.of(Jobs.SEND_WELCOME_MAIL, (job, context) -> {
 *         mail.send(job.payload().email());
 *         return JobOutcome.done();
 *     });
 * }
 * }</pre>
 *
 * <p>A bean pairs the handler with its {@link JobType}, rather than an annotation on a method naming
 * a type: the job type is a value (a stable name, a payload class, a retry policy, a timeout) that
 * producers share as a constant, and an annotation can carry neither it nor a handler built by code
 * (a transactional handler from {@link dev.pgqueue.jdbi.JdbiJobStore#transactional}, say). Two
 * registrations for one job type fail the start, naming the type.
 *
 * @param <P> the payload type
 */
public final class JobHandlerRegistration<P> {

    private final JobType<P> type;
    private final JobHandler<P> handler;

    private JobHandlerRegistration(JobType<P> type, JobHandler<P> handler) {
        this.type = type;
        this.handler = handler;
    }

    /**
     * Pairs {@code handler} with the job type it runs.
     *
     * @param <P> the payload type
     * @param type the job type; not null
     * @param handler runs the type's jobs; not null, thread-safe
     * @return the registration, to return from a {@code @Bean} method
     * @throws NullPointerException if either is null
     */
    public static <P> JobHandlerRegistration<P> of(JobType<P> type, JobHandler<P> handler) {
        return new JobHandlerRegistration<>(Objects.requireNonNull(type, "type"),
                Objects.requireNonNull(handler, "handler"));
    }

    /** {@return the job type whose jobs the handler runs} */
    public JobType<P> type() {
        return type;
    }

    /** {@return the handler} */
    public JobHandler<P> handler() {
        return handler;
    }

    void registerWith(Worker.Builder builder) {
        builder.handler(type, handler);
    }

    @Override
    public String toString() {
        return "JobHandlerRegistration[" + type.name() + "]";
    }
}
