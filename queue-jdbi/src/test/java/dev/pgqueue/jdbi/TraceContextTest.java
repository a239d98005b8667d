package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.Payloads.GENERATE_IMAGE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.Job;
import dev.pgqueue.JobInterceptor;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.Worker;
import dev.pgqueue.WorkerListener;
import dev.pgqueue.jdbi.Payloads.GenerateImage;
import dev.pgqueue.spi.JobStore.ClaimByIdParams;
import dev.pgqueue.spi.JobStore.ClaimParams;
import dev.pgqueue.spi.JobStore.ClaimedJob;
import dev.pgqueue.spi.JobStore.PolicyParams;
import dev.pgqueue.spi.JobStore.QueuePolicy;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The trace context hooks (V8): what an {@link EnqueueInterceptor} records is stored by every insert
 * path and handed back by every claim, and a worker's {@link JobInterceptor}s run around each attempt
 * with it.
 */
@PostgresTest
class TraceContextTest {

    private static final String TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    private static final Map<String, String> CONTEXT = Map.of("traceparent", TRACEPARENT, "tracestate", "vendor=a1");
    private static final EnqueueInterceptor RECORDING = enqueue -> enqueue.proceed(CONTEXT);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue traced;
    private final JdbiJobQueue plain;
    private final List<Worker> workers = new CopyOnWriteArrayList<>();

    TraceContextTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        // COPY from 20 plain jobs on, so that an enqueueAll of 25 takes that path.
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).copyThreshold(20).build();
        this.traced = JdbiJobQueue.builder(store).interceptor(RECORDING).build();
        this.plain = JdbiJobQueue.create(store);
    }

    @BeforeEach
    void emptyTable() {
        db.execute("DELETE FROM job_queue");
        db.execute("DELETE FROM job_queue_policy");
    }

    @AfterEach
    void closeWorkers() {
        workers.forEach(Worker::close);
    }

    private String storedContext(UUID id) {
        return jdbi.withHandle(h -> h.createQuery("SELECT CAST(trace_context AS text) FROM job_queue WHERE id = :id")
                .bind("id", id).mapTo(String.class).findOne().orElse(null));
    }

    private long jobs() {
        return jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM job_queue").mapTo(Long.class).one());
    }

    private static final String STORED = "{\"tracestate\": \"vendor=a1\", \"traceparent\": \"" + TRACEPARENT + "\"}";

    @Nested
    class Enqueue {

        @Test
        void enqueue_storesTheContextOnEveryInsertPath() {
            UUID one = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            List<UUID> many = traced.enqueueAll(GENERATE_IMAGE, List.of(new GenerateImage("a", 1), new GenerateImage("b", 2)),
                    EnqueueOptions.defaults());
            List<GenerateImage> lots = new ArrayList<>();
            for (int i = 0; i < 25; i++) {
                lots.add(new GenerateImage("copied-" + i, i));
            }
            List<UUID> copied = traced.enqueueAll(GENERATE_IMAGE, lots, EnqueueOptions.defaults());
            UUID unique = traced.enqueueUnique(GENERATE_IMAGE, new GenerateImage("u", 1),
                    EnqueueOptions.defaults().dedupeKey("key-1")).jobId();
            UUID full = traced.enqueue(GENERATE_IMAGE, new GenerateImage("f", 1),
                    EnqueueOptions.defaults().partitionKey("tenant-a"));
            UUID dependent = traced.enqueue(GENERATE_IMAGE, new GenerateImage("d", 1),
                    EnqueueOptions.defaults().dependsOn(one));

            List<UUID> all = new ArrayList<>(List.of(one, unique, full, dependent));
            all.addAll(many);
            all.addAll(copied);
            for (UUID id : all) {
                assertThat(storedContext(id)).as("job %s", id).isEqualTo(STORED);
            }
        }

        @Test
        void enqueue_withoutInterceptor_leavesTheColumnNull() {
            UUID one = plain.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            UUID unique = plain.enqueueUnique(GENERATE_IMAGE, new GenerateImage("u", 1),
                    EnqueueOptions.defaults().dedupeKey("key-2")).jobId();

            assertThat(storedContext(one)).isNull();
            assertThat(storedContext(unique)).isNull();
        }

        @Test
        void enqueue_anEmptyContextStoresNull() {
            JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(enqueue -> enqueue.proceed(Map.of())).build();

            assertThat(storedContext(queue.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1)))).isNull();
        }

        @Test
        void intercept_oncePerCall_seeingEveryJob() {
            List<List<EnqueueInterceptor.NewJobRef>> seen = new CopyOnWriteArrayList<>();
            JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(enqueue -> {
                seen.add(enqueue.jobs());
                return enqueue.proceed(Map.of());
            }).build();

            List<UUID> ids = queue.enqueueAll(GENERATE_IMAGE, List.of(new GenerateImage("a", 1), new GenerateImage("b", 2),
                    new GenerateImage("c", 3)), EnqueueOptions.defaults().queue("images"));

            assertThat(seen).hasSize(1);
            assertThat(seen.get(0)).extracting(EnqueueInterceptor.NewJobRef::id).containsExactlyElementsOf(ids);
            assertThat(seen.get(0)).allSatisfy(ref -> {
                assertThat(ref.type()).isEqualTo(GENERATE_IMAGE.name());
                assertThat(ref.queue()).isEqualTo("images");
            });
        }

        @Test
        void interceptors_nestInOrderAdded_innerKeysWin() {
            List<String> calls = Collections.synchronizedList(new ArrayList<>());
            JdbiJobQueue queue = JdbiJobQueue.builder(store)
                    .interceptor(enqueue -> {
                        calls.add("outer before");
                        List<EnqueueResult> results = enqueue.proceed(Map.of("a", "outer", "b", "outer"));
                        calls.add("outer after");
                        return results;
                    })
                    .interceptor(enqueue -> {
                        calls.add("inner before");
                        List<EnqueueResult> results = enqueue.proceed(Map.of("b", "inner"));
                        calls.add("inner after");
                        return results;
                    })
                    .build();

            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));

            assertThat(calls).containsExactly("outer before", "inner before", "inner after", "outer after");
            assertThat(storedContext(id)).isEqualTo("{\"a\": \"outer\", \"b\": \"inner\"}");
        }

        @Test
        void proceed_inTheCallersTransaction_rollsBackWithIt() {
            AtomicReference<UUID> id = new AtomicReference<>();
            assertThatThrownBy(() -> jdbi.useTransaction(handle -> {
                id.set(traced.in(handle).enqueue(GENERATE_IMAGE, new GenerateImage("one", 1)));
                throw new IllegalStateException("roll back");
            })).isInstanceOf(IllegalStateException.class);
            UUID committed = jdbi.inTransaction(handle -> traced.in(handle).enqueue(GENERATE_IMAGE, new GenerateImage("two", 2)));

            assertThat(storedContext(id.get())).isNull();
            assertThat(jobs()).isEqualTo(1);
            assertThat(storedContext(committed)).isEqualTo(STORED);
        }

        @Test
        void proceed_rejectsAContextOverTheLimit_writingNothing() {
            JdbiJobQueue queue = JdbiJobQueue.builder(store)
                    .interceptor(enqueue -> enqueue.proceed(Map.of("traceparent", "x".repeat(1_020)))).build();

            assertThatThrownBy(() -> queue.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1)))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected trace context to be at most 1024 bytes of keys and values, got: 1031");
            assertThat(jobs()).isZero();
        }

        @Test
        void proceed_rejectsKeysAndValuesOutsideTheAlphabet_writingNothing() {
            assertRejected(Map.of("TraceParent", "x"),
                    "expected trace context key to be 1-64 characters a-z 0-9 _ - . *, got: \"TraceParent\"");
            assertRejected(Map.of("k".repeat(65), "x"), "expected trace context key to be 1-64 characters");
            assertRejected(Map.of("tracestate", "caf\u00e9"),
                    "expected trace context value of tracestate to be printable ASCII (space to ~), got: \"caf\u00e9\"");
            assertRejected(Map.of("tracestate", "a\nb"), "expected trace context value of tracestate to be printable ASCII");
            assertThat(jobs()).isZero();
        }

        private void assertRejected(Map<String, String> context, String message) {
            JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(enqueue -> enqueue.proceed(context)).build();
            assertThatThrownBy(() -> queue.enqueueAll(GENERATE_IMAGE, List.of(new GenerateImage("a", 1)),
                    EnqueueOptions.defaults()))
                    .isInstanceOf(ValidationException.class)
                    .hasMessageStartingWith(message);
        }

        @Test
        void intercept_thatNeverProceeds_failsTheEnqueue_writingNothing() {
            JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(enqueue -> List.of()).build();

            assertThatThrownBy(() -> queue.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("returned without calling proceed(); nothing was enqueued");
            assertThat(jobs()).isZero();
        }

        @Test
        void proceed_twice_isRefused() {
            JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(enqueue -> {
                enqueue.proceed(Map.of());
                return enqueue.proceed(Map.of());
            }).build();

            assertThatThrownBy(() -> queue.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1)))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("proceed() called twice");
        }
    }

    @Nested
    class SqlContract {

        @Test
        void seedInsert_andEnqueueFunction_leaveTheColumnNull() {
            db.execute("INSERT INTO job_queue (job_type, payload, user_id) VALUES ('generate-image', '{}', NULL)");
            db.execute("SELECT job_queue_enqueue('generate-image', '{}')");

            long withoutContext = jdbi.withHandle(h -> h.createQuery("SELECT count(*) FROM job_queue WHERE trace_context IS NULL")
                    .mapTo(Long.class).one());
            assertThat(withoutContext).isEqualTo(2);
        }

        @Test
        void check_rejectsWhatIsNotAnObject_orIsTooBig() {
            assertThatThrownBy(() -> db.execute(
                    "INSERT INTO job_queue (job_type, payload, trace_context) VALUES ('generate-image', '{}', '[1]')"))
                    .hasMessageContaining("job_queue_trace_context_check");
            assertThatThrownBy(() -> db.execute("INSERT INTO job_queue (job_type, payload, trace_context) VALUES "
                    + "('generate-image', '{}', jsonb_build_object('k', repeat('x', 5000)))"))
                    .hasMessageContaining("job_queue_trace_context_check");
            assertThat(jobs()).isZero();
        }
    }

    @Nested
    class AdminDetail {

        @Test
        void job_showsTheStoredContext() {
            UUID tracedJob = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            UUID plainJob = plain.enqueue(GENERATE_IMAGE, new GenerateImage("two", 2));
            JdbiJobAdmin admin = JdbiJobAdmin.create(store);

            assertThat(admin.job(tracedJob).orElseThrow().traceContext()).isEqualTo(CONTEXT);
            assertThat(admin.job(plainJob).orElseThrow().traceContext()).isEmpty();
        }
    }

    @Nested
    class Claim {

        private final UUID token = UUID.randomUUID();

        @Test
        void claim_returnsTheContextAndTheClaimTime() {
            UUID id = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            Instant now = Instant.now().plusSeconds(5).truncatedTo(java.time.temporal.ChronoUnit.MICROS);

            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of(GENERATE_IMAGE.name()), 10,
                    "worker-1", token, Duration.ofSeconds(30), now));

            assertThat(claimed).singleElement().satisfies(job -> {
                assertThat(job.id()).isEqualTo(id);
                assertThat(job.traceContext()).isEqualTo(CONTEXT);
                assertThat(job.claimedAt()).isEqualTo(now);
            });
        }

        @Test
        void claim_ofAJobWithoutContext_returnsAnEmptyOne() {
            plain.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));

            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of(GENERATE_IMAGE.name()), 10,
                    "worker-1", token, Duration.ofSeconds(30), null));

            assertThat(claimed).singleElement().satisfies(job -> assertThat(job.traceContext()).isEmpty());
        }

        @Test
        void fairClaim_returnsTheContext() {
            store.policyPutMany(new PolicyParams(List.of(new QueuePolicy("fair", null, null, null, null, true))));
            UUID id = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1),
                    EnqueueOptions.defaults().queue("fair").partitionKey("tenant-a"));

            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("fair", Set.of(GENERATE_IMAGE.name()), 10,
                    "worker-1", token, Duration.ofSeconds(30), null));

            assertThat(claimed).singleElement().satisfies(job -> {
                assertThat(job.id()).isEqualTo(id);
                assertThat(job.traceContext()).isEqualTo(CONTEXT);
                assertThat(job.claimedAt()).isNotNull();
            });
        }

        @Test
        void claimById_returnsTheContext() {
            UUID id = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));

            Optional<ClaimedJob> claimed = store.jobClaimById(new ClaimByIdParams(id, "tester", token,
                    Duration.ofSeconds(30), null));

            assertThat(claimed).hasValueSatisfying(job -> assertThat(job.traceContext()).isEqualTo(CONTEXT));
        }

        @Test
        void claim_readsWhatSqlWritersStored_leniently() {
            db.execute("INSERT INTO job_queue (job_type, payload, trace_context) VALUES "
                    + "('generate-image', '{}', '{\"traceparent\": \"x\", \"n\": 1, \"o\": {}}')");

            List<ClaimedJob> claimed = store.jobClaim(new ClaimParams("default", Set.of(GENERATE_IMAGE.name()), 10,
                    "worker-1", token, Duration.ofSeconds(30), null));

            assertThat(claimed).singleElement()
                    .satisfies(job -> assertThat(job.traceContext()).isEqualTo(Map.of("traceparent", "x")));
        }
    }

    @Nested
    class WorkerInterceptors {

        private Worker start(Worker.Builder builder) {
            Worker worker = builder.pollInterval(Duration.ofMillis(100)).build();
            workers.add(worker);
            worker.start();
            return worker;
        }

        @Test
        void interceptors_runAroundTheHandler_withTheStoredContext_firstOutermost() throws Exception {
            List<String> calls = new CopyOnWriteArrayList<>();
            Map<String, Object> seen = new java.util.concurrent.ConcurrentHashMap<>();
            JobInterceptor outer = invocation -> {
                calls.add("outer before " + Thread.currentThread().getName());
                seen.put("context", invocation.traceContext());
                seen.put("claimedAt", invocation.claimedAt());
                seen.put("job", invocation.job());
                seen.put("attempt", invocation.context().attempt());
                JobOutcome outcome = invocation.proceed();
                calls.add("outer after");
                return outcome;
            };
            JobInterceptor inner = invocation -> {
                calls.add("inner before");
                JobOutcome outcome = invocation.proceed();
                calls.add("inner after " + outcome.getClass().getSimpleName());
                return outcome;
            };
            UUID id = traced.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            start(Worker.builder(store)
                    .handler(GENERATE_IMAGE, (job, context) -> {
                        calls.add("handler " + Thread.currentThread().getName());
                        return JobOutcome.done();
                    })
                    .interceptor(outer)
                    .interceptor(inner));

            await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.COMPLETED);

            String thread = calls.get(0).substring("outer before ".length());
            assertThat(calls).containsExactly("outer before " + thread, "inner before", "handler " + thread,
                    "inner after Done", "outer after");
            assertThat(seen.get("context")).isEqualTo(CONTEXT);
            assertThat(((Job<?>) seen.get("job")).id()).isEqualTo(id);
            assertThat(seen.get("attempt")).isEqualTo(1);
            Instant processedAt = jdbi.withHandle(h -> h.createQuery("SELECT processed_at FROM job_queue WHERE id = :id")
                    .bind("id", id).mapTo(Instant.class).one());
            assertThat(seen.get("claimedAt")).isEqualTo(processedAt);
        }

        @Test
        void interceptor_thatThrows_failsTheAttempt_withItsMessage() {
            JobType<GenerateImage> once = GENERATE_IMAGE.withMaxRetries(0);
            UUID id = plain.enqueue(once, new GenerateImage("one", 1));
            start(Worker.builder(store)
                    .handler(once, (job, context) -> JobOutcome.done())
                    .interceptor(invocation -> {
                        throw new IllegalStateException("interceptor refused");
                    }));

            await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.FAILED);
            assertThat(errorMessage(id)).contains("interceptor refused");
        }

        @Test
        void payloadThatDoesNotMap_reachesTheInterceptorAsPayloadException_andFailsAsWithout() {
            JobType<GenerateImage> strict = GENERATE_IMAGE.withMaxRetries(0);
            db.execute("INSERT INTO job_queue (job_type, payload, max_retries) VALUES ('generate-image', '{\"size\": \"big\"}', 0)");
            UUID id = jdbi.withHandle(h -> h.createQuery("SELECT id FROM job_queue").mapTo(UUID.class).one());
            List<Throwable> thrown = new CopyOnWriteArrayList<>();
            List<Object> payloads = new CopyOnWriteArrayList<>();
            start(Worker.builder(store)
                    .handler(strict, (job, context) -> JobOutcome.done())
                    .interceptor(invocation -> {
                        payloads.add(String.valueOf(invocation.job().payload()));
                        try {
                            return invocation.proceed();
                        } catch (Exception e) {
                            thrown.add(e);
                            throw e;
                        }
                    }));

            await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.FAILED);
            assertThat(thrown).singleElement().isInstanceOf(PayloadException.class);
            assertThat(payloads).containsExactly("null");
            assertThat(errorMessage(id)).contains("size");
        }

        @Test
        void listeners_addUp_eachHearsEveryEvent() {
            List<String> heard = new CopyOnWriteArrayList<>();
            UUID id = plain.enqueue(GENERATE_IMAGE, new GenerateImage("one", 1));
            start(Worker.builder(store)
                    .handler(GENERATE_IMAGE, (job, context) -> JobOutcome.done())
                    .listener(new WorkerListener() {
                        @Override
                        public void jobCompleted(Job<?> job, Duration runTime) {
                            heard.add("first " + job.id());
                            throw new IllegalStateException("a listener that throws keeps no other from hearing");
                        }
                    })
                    .listener(new WorkerListener() {
                        @Override
                        public void jobCompleted(Job<?> job, Duration runTime) {
                            heard.add("second " + job.id());
                        }
                    }));

            await().atMost(Duration.ofSeconds(10)).until(() -> heard.size() == 2);
            assertThat(heard).containsExactly("first " + id, "second " + id);
        }

        private JobStatus status(UUID id) {
            return store.jobGet(id).map(job -> job.status()).orElse(null);
        }

        private String errorMessage(UUID id) {
            return store.jobGet(id).map(job -> job.errorMessage()).orElse(null);
        }
    }
}
