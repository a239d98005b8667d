package dev.pgqueue.spring;

import dev.pgqueue.Batch;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.jdbi.JdbiJobQueue;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The auto-configured {@link JobQueue}: inside a Spring-managed transaction ({@code @Transactional},
 * {@code TransactionTemplate}) every operation runs on that transaction's connection, so that a job
 * exists if and only if the caller's own writes commit; outside one, each call commits on its own.
 *
 * <pre>{@code
 * @Transactional
 * public void signUp(String email) {
 *     long id = users.insert(email);                                     // the caller's write
 *     queue.enqueue(Jobs.SEND_WELCOME_MAIL, new SendWelcomeMail(id));   // same connection, same commit
 * }
 * }</pre>
 *
 * <p>The connection is the one Spring's transaction manager bound for {@code dataSource}, taken with
 * {@link DataSourceUtils#getConnection(DataSource)} and handed back with
 * {@link DataSourceUtils#releaseConnection}; the operation itself is {@link JdbiJobQueue#in(Connection)}'s,
 * which neither commits nor closes it. This works with every transaction manager that binds a
 * connection of that data source to the thread: {@code DataSourceTransactionManager} /
 * {@code JdbcTransactionManager} (Spring Boot's for JDBC), and {@code JpaTransactionManager} with
 * Hibernate, which binds its JDBC connection the same way. A read-only transaction refuses the insert, as PostgreSQL refuses any write in one.
 *
 * <p>Workers of other processes are woken by the insert trigger's NOTIFY when the transaction commits,
 * and so is a worker in this process; with notifications off, a job enqueued in a transaction is found
 * by the next poll. Thread-safe.
 */
public final class TransactionAwareJobQueue implements JobQueue {

    private final JdbiJobQueue queue;
    private final DataSource dataSource;

    /**
     * A queue that joins Spring's transactions on {@code dataSource}.
     *
     * @param queue the queue to run operations with; its store must use {@code dataSource}
     * @param dataSource the data source whose transactions enqueues join (the application's)
     */
    public TransactionAwareJobQueue(JdbiJobQueue queue, DataSource dataSource) {
        this.queue = Objects.requireNonNull(queue, "queue");
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload) {
        return run(q -> q.enqueue(type, payload));
    }

    @Override
    public <P> UUID enqueue(JobType<P> type, P payload, EnqueueOptions options) {
        return run(q -> q.enqueue(type, payload, options));
    }

    @Override
    public <P> EnqueueResult enqueueUnique(JobType<P> type, P payload, EnqueueOptions options) {
        return run(q -> q.enqueueUnique(type, payload, options));
    }

    @Override
    public <P> List<UUID> enqueueAll(JobType<P> type, List<? extends P> payloads, EnqueueOptions options) {
        return run(q -> q.enqueueAll(type, payloads, options));
    }

    @Override
    public <P> Map<String, EnqueueResult> enqueueAllUnique(
            JobType<P> type, Map<String, ? extends P> payloadsByDedupeKey, EnqueueOptions options) {
        return run(q -> q.enqueueAllUnique(type, payloadsByDedupeKey, options));
    }

    @Override
    public <P, C> Batch enqueueBatch(JobType<P> type, List<? extends P> payloads, EnqueueOptions options,
            JobType<C> callbackType, C callbackPayload, EnqueueOptions callbackOptions) {
        return run(q -> q.enqueueBatch(type, payloads, options, callbackType, callbackPayload, callbackOptions));
    }

    @Override
    public List<JobSnapshot> dependencies(UUID jobId) {
        return run(q -> q.dependencies(jobId));
    }

    @Override
    public boolean cancel(UUID jobId) {
        return run(q -> q.cancel(jobId));
    }

    @Override
    public Optional<JobSnapshot> find(UUID jobId) {
        return run(q -> q.find(jobId));
    }

    @Override
    public <R> Optional<R> result(UUID jobId, Class<R> resultType) {
        return run(q -> q.result(jobId, resultType));
    }

    /**
     * Runs {@code operation} on the transaction's connection when a Spring transaction is active on
     * this thread, else on the queue itself (a connection of its own, committed per call).
     */
    private <T> T run(Function<JobQueue, T> operation) {
        if (!TransactionSynchronizationManager.isActualTransactionActive()) {
            return operation.apply(queue);
        }
        Connection connection = DataSourceUtils.getConnection(dataSource);
        try {
            return operation.apply(queue.in(connection));
        } finally {
            DataSourceUtils.releaseConnection(connection, dataSource);
        }
    }

    @Override
    public String toString() {
        return "TransactionAwareJobQueue[" + queue + "]";
    }
}
