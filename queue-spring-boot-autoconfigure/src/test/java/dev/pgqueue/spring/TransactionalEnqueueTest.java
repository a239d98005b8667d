package dev.pgqueue.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobQueue;
import dev.pgqueue.JobType;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ContextConfiguration;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionTemplate;

/** Enqueues inside Spring transactions commit and roll back with the caller's own writes. */
@SpringBootTest(classes = {TestApp.class, TransactionalEnqueueTest.Accounts.class, TransactionalEnqueueTest.Welcome.class},
        properties = "pgqueue.worker.poll-interval=200ms")
@ContextConfiguration(initializers = PostgresInitializer.class)
@DirtiesContext
class TransactionalEnqueueTest {

    record WelcomeMail(String account) {}

    static final JobType<WelcomeMail> WELCOME = JobType.of("welcome-mail", WelcomeMail.class);

    /** Accounts welcomed by the handler, with whether their row was visible to it then. */
    static final Map<String, Boolean> welcomed = new ConcurrentHashMap<>();

    @Service
    static class Accounts {
        private final JdbcTemplate jdbc;
        private final JobQueue queue;

        Accounts(JdbcTemplate jdbc, JobQueue queue) {
            this.jdbc = jdbc;
            this.queue = queue;
            jdbc.execute("CREATE TABLE IF NOT EXISTS account (name text PRIMARY KEY)");
        }

        @Transactional
        public UUID open(String name, boolean fail) {
            jdbc.update("INSERT INTO account (name) VALUES (?)", name);
            UUID job = queue.enqueue(WELCOME, new WelcomeMail(name));
            if (fail) {
                throw new IllegalStateException("rolled back on purpose");
            }
            return job;
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Welcome {
        @Bean
        JobHandlerRegistration<WelcomeMail> welcomeMail(JdbcTemplate jdbc) {
            return JobHandlerRegistration.of(WELCOME, (job, context) -> {
                String name = job.payload().account();
                Long rows = jdbc.queryForObject("SELECT count(*) FROM account WHERE name = ?", Long.class, name);
                welcomed.put(name, rows == 1);
                return JobOutcome.done();
            });
        }
    }

    @Autowired Accounts accounts;
    @Autowired JobQueue queue;
    @Autowired JdbcTemplate jdbc;
    @Autowired TransactionTemplate transactions;
    @Autowired TestDatabase db;

    @Test
    void rollback_leavesNeitherTheRowNorTheJob() {
        assertThatThrownBy(() -> accounts.open("rolled-back", true)).hasMessage("rolled back on purpose");

        assertThat(db.queryForLong("SELECT count(*) FROM account WHERE name = 'rolled-back'")).isZero();
        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE payload->>'account' = 'rolled-back'")).isZero();
    }

    @Test
    void commit_runsTheJob_whichSeesTheCommittedRow() {
        UUID job = accounts.open("committed", false);

        await().atMost(Duration.ofSeconds(10)).until(() -> welcomed.containsKey("committed"));
        assertThat(welcomed).containsEntry("committed", true);
        await().atMost(Duration.ofSeconds(10))
                .until(() -> queue.find(job).orElseThrow().status().name().equals("COMPLETED"));
    }

    @Test
    void enqueue_usesTheTransactionsConnection_untilItCommits() {
        UUID job = transactions.execute(status -> {
            jdbc.update("INSERT INTO account (name) VALUES ('together')");
            UUID id = queue.enqueue(WELCOME, new WelcomeMail("together"));
            // On the transaction's connection, the job is there; from any other connection, neither the
            // job nor the row is: the enqueue is part of this transaction, uncommitted.
            assertThat(jdbc.queryForObject("SELECT count(*) FROM job_queue WHERE id = ?", Long.class, id)).isEqualTo(1);
            assertThat(queue.find(id)).isPresent();
            assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE id = ?", id)).isZero();
            assertThat(db.queryForLong("SELECT count(*) FROM account WHERE name = 'together'")).isZero();
            return id;
        });

        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE id = ?", job)).isEqualTo(1);
        assertThat(db.queryForLong("SELECT count(*) FROM account WHERE name = 'together'")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).until(() -> welcomed.containsKey("together"));
        assertThat(welcomed).containsEntry("together", true);
    }

    @Test
    void rollbackOnly_discardsABulkEnqueue() {
        transactions.executeWithoutResult(status -> {
            List<UUID> ids = queue.enqueueAll(WELCOME, List.of(new WelcomeMail("bulk-1"), new WelcomeMail("bulk-2")),
                    EnqueueOptions.defaults());
            assertThat(ids).hasSize(2);
            status.setRollbackOnly();
        });

        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE payload->>'account' LIKE 'bulk-%'")).isZero();
    }

    @Test
    void outsideATransaction_eachEnqueueCommitsAtOnce() {
        UUID job = queue.enqueue(WELCOME, new WelcomeMail("no-transaction"));

        assertThat(db.queryForLong("SELECT count(*) FROM job_queue WHERE id = ?", job)).isEqualTo(1);
    }
}
