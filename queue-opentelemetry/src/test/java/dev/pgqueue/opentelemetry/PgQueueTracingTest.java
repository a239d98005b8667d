package dev.pgqueue.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobOutcome;
import dev.pgqueue.JobStatus;
import dev.pgqueue.JobType;
import dev.pgqueue.RetryPolicy;
import dev.pgqueue.Worker;
import dev.pgqueue.jdbi.JdbiJobQueue;
import dev.pgqueue.jdbi.JdbiJobStore;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import io.opentelemetry.api.baggage.Baggage;
import io.opentelemetry.api.baggage.propagation.W3CBaggagePropagator;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.EventData;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Tracing end to end: a real queue and worker on PostgreSQL, spans exported to the SDK's in-memory
 * exporter.
 */
@PostgresTest
class PgQueueTracingTest {

    record Render(String imageId) {}

    private static final JobType<Render> RENDER = JobType.of("render-image", Render.class);

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
    private final SdkTracerProvider tracerProvider = SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    private final OpenTelemetrySdk openTelemetry = OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(TextMapPropagator.composite(
                    W3CTraceContextPropagator.getInstance(), W3CBaggagePropagator.getInstance())))
            .build();
    private final Tracer appTracer = openTelemetry.getTracer("the-application");
    private final List<Worker> workers = new CopyOnWriteArrayList<>();

    PgQueueTracingTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
    }

    @BeforeEach
    void emptyTable() {
        db.execute("DELETE FROM job_queue");
    }

    @AfterEach
    void close() {
        workers.forEach(Worker::close);
        openTelemetry.close();
    }

    private void startWorker(PgQueueTracing tracing, JobType<Render> type, dev.pgqueue.JobHandler<Render> handler) {
        Worker worker = Worker.builder(store)
                .handler(type, handler)
                .interceptor(tracing)
                .pollInterval(Duration.ofMillis(100))
                .build();
        workers.add(worker);
        worker.start();
    }

    private JobStatus status(UUID id) {
        return store.jobGet(id).map(job -> job.status()).orElseThrow();
    }

    private List<SpanData> spansNamed(String name) {
        return exporter.getFinishedSpanItems().stream().filter(span -> span.getName().equals(name)).toList();
    }

    private SpanData onlySpan(String name) {
        List<SpanData> spans = spansNamed(name);
        assertThat(spans).as("spans named %s among %s", name, exporter.getFinishedSpanItems()).hasSize(1);
        return spans.get(0);
    }

    @Test
    void oneTrace_fromAnHttpRequest_throughEnqueueInItsTransaction_toTheHandler() {
        PgQueueTracing tracing = PgQueueTracing.builder(openTelemetry).parentFromProducer(true).build();
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
        List<String> seenByHandler = new CopyOnWriteArrayList<>();
        startWorker(tracing, RENDER, (job, context) -> {
            seenByHandler.add(Span.current().getSpanContext().getSpanId());
            Span child = appTracer.spanBuilder("render").startSpan();
            child.end();
            return JobOutcome.done();
        });

        Span request = appTracer.spanBuilder("POST /projects/{id}/render").setSpanKind(SpanKind.SERVER).startSpan();
        UUID id;
        try (Scope ignored = request.makeCurrent()) {
            id = jdbi.inTransaction(handle -> {
                handle.execute("CREATE TABLE IF NOT EXISTS projects (id int PRIMARY KEY, status text)");
                handle.execute("INSERT INTO projects VALUES (1, 'rendering') ON CONFLICT (id) DO NOTHING");
                return queue.in(handle).enqueue(RENDER, new Render("img-1"));
            });
        } finally {
            request.end();
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.COMPLETED);
        await().atMost(Duration.ofSeconds(5)).until(() -> spansNamed("render").size() == 1);

        SpanData server = onlySpan("POST /projects/{id}/render");
        SpanData send = onlySpan("send default");
        SpanData process = onlySpan("process default");
        SpanData render = onlySpan("render");
        assertThat(List.of(send, process, render)).allSatisfy(span ->
                assertThat(span.getTraceId()).isEqualTo(server.getTraceId()));
        assertThat(send.getParentSpanId()).isEqualTo(server.getSpanId());
        assertThat(send.getKind()).isEqualTo(SpanKind.PRODUCER);
        assertThat(process.getParentSpanId()).isEqualTo(send.getSpanId());
        assertThat(process.getKind()).isEqualTo(SpanKind.CONSUMER);
        assertThat(process.getLinks()).singleElement()
                .satisfies(link -> assertThat(link.getSpanContext().getSpanId()).isEqualTo(send.getSpanId()));
        assertThat(render.getParentSpanId()).isEqualTo(process.getSpanId());
        assertThat(seenByHandler).containsExactly(process.getSpanId());

        assertThat(send.getAttributes().asMap()).containsAllEntriesOf(Map.of(
                PgQueueTracing.MESSAGING_SYSTEM_KEY, "pgqueue",
                PgQueueTracing.OPERATION_TYPE, "send",
                PgQueueTracing.OPERATION_NAME, "send",
                PgQueueTracing.DESTINATION, "default",
                PgQueueTracing.MESSAGE_ID, id.toString(),
                PgQueueTracing.JOB_TYPE, "render-image"));
        assertThat(process.getAttributes().asMap()).containsAllEntriesOf(Map.of(
                PgQueueTracing.MESSAGING_SYSTEM_KEY, "pgqueue",
                PgQueueTracing.OPERATION_TYPE, "process",
                PgQueueTracing.OPERATION_NAME, "process",
                PgQueueTracing.DESTINATION, "default",
                PgQueueTracing.MESSAGE_ID, id.toString(),
                PgQueueTracing.JOB_TYPE, "render-image",
                PgQueueTracing.JOB_ATTEMPT, 1L,
                PgQueueTracing.JOB_OUTCOME, "done"));
        assertThat(process.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);

        String stored = jdbi.withHandle(h -> h.createQuery("SELECT trace_context ->> 'traceparent' FROM job_queue WHERE id = :id")
                .bind("id", id).mapTo(String.class).one());
        assertThat(stored).startsWith("00-" + send.getTraceId() + "-" + send.getSpanId() + "-");
    }

    @Test
    void byDefault_eachAttemptStartsItsOwnTrace_linkedToTheEnqueue() {
        PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
        startWorker(tracing, RENDER, (job, context) -> JobOutcome.done());

        UUID id = queue.enqueue(RENDER, new Render("img-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.COMPLETED);
        await().atMost(Duration.ofSeconds(5)).until(() -> spansNamed("process default").size() == 1);

        SpanData send = onlySpan("send default");
        SpanData process = onlySpan("process default");
        assertThat(process.getTraceId()).isNotEqualTo(send.getTraceId());
        assertThat(process.getParentSpanContext().isValid()).isFalse();
        assertThat(process.getLinks()).singleElement().satisfies(link -> {
            assertThat(link.getSpanContext().getTraceId()).isEqualTo(send.getTraceId());
            assertThat(link.getSpanContext().getSpanId()).isEqualTo(send.getSpanId());
        });
    }

    @Test
    void failedAttempts_recordTheException_andErrorStatus_oneSpanPerAttempt() {
        PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
        JobType<Render> flaky = RENDER.withMaxRetries(1).withRetryPolicy(RetryPolicy.noBackoff());
        startWorker(tracing, flaky, (job, context) -> {
            throw new IllegalStateException("renderer out of memory on attempt " + job.attempt());
        });

        UUID id = queue.enqueue(flaky, new Render("img-1"), EnqueueOptions.defaults().queue("default"));
        await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.FAILED);
        await().atMost(Duration.ofSeconds(5)).until(() -> spansNamed("process default").size() == 2);

        List<SpanData> attempts = spansNamed("process default");
        assertThat(attempts).extracting(span -> span.getAttributes().get(PgQueueTracing.JOB_ATTEMPT))
                .containsExactlyInAnyOrder(1L, 2L);
        assertThat(attempts).allSatisfy(span -> {
            assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
            assertThat(span.getStatus().getDescription()).startsWith("renderer out of memory on attempt");
            assertThat(span.getAttributes().get(PgQueueTracing.ERROR_TYPE)).isEqualTo(IllegalStateException.class.getName());
            assertThat(span.getAttributes().get(PgQueueTracing.JOB_OUTCOME)).isEqualTo("error");
            assertThat(span.getEvents()).extracting(EventData::getName).contains("exception");
        });
    }

    @Test
    void failPermanently_setsErrorStatus_withTheReason() {
        PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
        startWorker(tracing, RENDER, (job, context) -> JobOutcome.failPermanently("image deleted"));

        UUID id = queue.enqueue(RENDER, new Render("img-1"));
        await().atMost(Duration.ofSeconds(10)).until(() -> status(id) == JobStatus.FAILED);
        await().atMost(Duration.ofSeconds(5)).until(() -> spansNamed("process default").size() == 1);

        SpanData process = onlySpan("process default");
        assertThat(process.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        assertThat(process.getStatus().getDescription()).isEqualTo("image deleted");
        assertThat(process.getAttributes().get(PgQueueTracing.JOB_OUTCOME)).isEqualTo("fail");
    }

    @Test
    void enqueueOfMany_isOneSendSpan_withTheBatchCount_andEveryJobCarriesItsContext() {
        PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();

        List<UUID> ids = queue.enqueueAll(RENDER, List.of(new Render("a"), new Render("b"), new Render("c")),
                EnqueueOptions.defaults().queue("images"));

        SpanData send = onlySpan("send images");
        assertThat(send.getAttributes().get(PgQueueTracing.BATCH_COUNT)).isEqualTo(3L);
        assertThat(send.getAttributes().get(PgQueueTracing.MESSAGE_ID)).isNull();
        long carrying = jdbi.withHandle(h -> h.createQuery(
                "SELECT count(*) FROM job_queue WHERE trace_context ->> 'traceparent' LIKE :tp")
                .bind("tp", "00-" + send.getTraceId() + "-" + send.getSpanId() + "-%").mapTo(Long.class).one());
        assertThat(carrying).isEqualTo(ids.size());
    }

    @Test
    void bigBaggage_isLeftOut_soTheEnqueueStillSucceeds_withTheTraceparent() {
        PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
        JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
        Baggage baggage = Baggage.builder().put("big", "x".repeat(2_000)).build();

        UUID id;
        try (Scope ignored = Context.current().with(baggage).makeCurrent()) {
            id = queue.enqueue(RENDER, new Render("img-1"));
        }

        Map<String, String> stored = jdbi.withHandle(h -> h.createQuery(
                "SELECT jsonb_object_keys(trace_context) AS k, trace_context ->> jsonb_object_keys(trace_context) AS v "
                        + "FROM job_queue WHERE id = :id")
                .bind("id", id).setMapKeyColumn("k").setMapValueColumn("v")
                .collectInto(new org.jdbi.v3.core.generic.GenericType<Map<String, String>>() {}));
        assertThat(stored).containsOnlyKeys("traceparent");
    }

    @Test
    void bounded_keepsWhatFits_andTheTraceparentFirst() {
        assertThat(PgQueueTracing.bounded(Map.of("traceparent", "tp", "baggage", "k=v")))
                .isEqualTo(Map.of("traceparent", "tp", "baggage", "k=v"));
        assertThat(PgQueueTracing.bounded(Map.of("traceparent", "tp", "Upper", "v", "tracestate", "caf\u00e9")))
                .isEqualTo(Map.of("traceparent", "tp"));
        assertThat(PgQueueTracing.bounded(Map.of("traceparent", "tp", "tracestate", "s",
                "baggage", "b".repeat(EnqueueInterceptor.MAX_TRACE_CONTEXT_BYTES))))
                .isEqualTo(Map.of("traceparent", "tp", "tracestate", "s"));
    }
}
