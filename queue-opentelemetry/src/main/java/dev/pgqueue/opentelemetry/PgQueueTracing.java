package dev.pgqueue.opentelemetry;

import dev.pgqueue.EnqueueInterceptor;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.Job;
import dev.pgqueue.JobInterceptor;
import dev.pgqueue.JobOutcome;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * OpenTelemetry tracing for pgqueue: a {@link SpanKind#PRODUCER PRODUCER} span around each enqueue,
 * whose context is recorded with the jobs ({@code job_queue.trace_context}), and a
 * {@link SpanKind#CONSUMER CONSUMER} span around each attempt, linked to that context (and, with
 * {@link Builder#parentFromProducer(boolean)}, its child), current while the handler runs so that the
 * handler's own spans nest under it. One object is both interceptors; hand it to the queue and to the
 * worker:
 *
 * <pre>{@code
 * PgQueueTracing tracing = PgQueueTracing.create(openTelemetry);
 * JdbiJobQueue queue = JdbiJobQueue.builder(store).interceptor(tracing).build();
 * Worker worker = Worker.builder(store).interceptor(tracing).handler(...).build();
 * }</pre>
 *
 * <p>Spans follow OpenTelemetry's messaging semantic conventions: named {@code send <queue>} and
 * {@code process <queue>}, with {@code messaging.system} = {@value #MESSAGING_SYSTEM},
 * {@code messaging.operation.type} and {@code messaging.operation.name} ({@code send} /
 * {@code process}), {@code messaging.destination.name} (the queue), {@code messaging.message.id} (the
 * job id; for an enqueue of several jobs {@code messaging.batch.message_count} instead), and pgqueue's
 * own {@code pgqueue.job.type}, {@code pgqueue.job.attempt} and {@code pgqueue.job.outcome}. A handler
 * that throws, or fails its job permanently, leaves the span with status {@link StatusCode#ERROR}, and
 * an exception recorded as a span event with {@code error.type} set to its class.
 *
 * <p>The context is taken and restored with the {@link OpenTelemetry#getPropagators() propagators}
 * of the given {@link OpenTelemetry} (W3C {@code traceparent} and {@code tracestate}, usually). What
 * is stored is bounded ({@link EnqueueInterceptor#MAX_TRACE_CONTEXT_BYTES}): keys the queue does not
 * accept are left out, and when the rest is too big only {@code traceparent} (with {@code tracestate}
 * if it fits) is kept, so tracing never fails an enqueue. Depends on the OpenTelemetry API only; the
 * application brings the SDK. Thread-safe.
 */
public final class PgQueueTracing implements EnqueueInterceptor, JobInterceptor {

    /** The value of {@code messaging.system} on every span: {@value}. */
    public static final String MESSAGING_SYSTEM = "pgqueue";
    /** The instrumentation scope of the tracer: {@value}. */
    public static final String INSTRUMENTATION_NAME = "dev.pgqueue.opentelemetry";

    static final AttributeKey<String> MESSAGING_SYSTEM_KEY = AttributeKey.stringKey("messaging.system");
    static final AttributeKey<String> OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
    static final AttributeKey<String> OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
    static final AttributeKey<String> DESTINATION = AttributeKey.stringKey("messaging.destination.name");
    static final AttributeKey<String> MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
    static final AttributeKey<Long> BATCH_COUNT = AttributeKey.longKey("messaging.batch.message_count");
    static final AttributeKey<String> JOB_TYPE = AttributeKey.stringKey("pgqueue.job.type");
    static final AttributeKey<Long> JOB_ATTEMPT = AttributeKey.longKey("pgqueue.job.attempt");
    static final AttributeKey<String> JOB_OUTCOME = AttributeKey.stringKey("pgqueue.job.outcome");
    static final AttributeKey<Boolean> JOB_DUPLICATE = AttributeKey.booleanKey("pgqueue.job.duplicate");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

    /** The keys the queue accepts (EnqueueInterceptor): others a propagator writes are left out. */
    private static final Pattern KEY = Pattern.compile("[a-z0-9_.*-]{1," + MAX_TRACE_CONTEXT_KEY_LENGTH + "}");

    private static final TextMapGetter<Map<String, String>> GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final boolean parentFromProducer;

    private PgQueueTracing(Builder builder) {
        this.tracer = builder.openTelemetry.getTracer(INSTRUMENTATION_NAME);
        this.propagator = builder.openTelemetry.getPropagators().getTextMapPropagator();
        this.parentFromProducer = builder.parentFromProducer;
    }

    /**
     * Tracing with every option at its default.
     *
     * @param openTelemetry the application's OpenTelemetry (its tracer provider and propagators)
     * @return the tracing interceptors
     */
    public static PgQueueTracing create(OpenTelemetry openTelemetry) {
        return builder(openTelemetry).build();
    }

    /**
     * Starts configuring tracing over {@code openTelemetry}.
     *
     * @param openTelemetry the application's OpenTelemetry (its tracer provider and propagators)
     * @return a builder with every option at its default
     */
    public static Builder builder(OpenTelemetry openTelemetry) {
        return new Builder(openTelemetry);
    }

    /**
     * Runs the enqueue in a {@code send <queue>} PRODUCER span, child of the caller's current span,
     * and records the span's context with the jobs.
     *
     * @param enqueue the jobs about to be inserted
     * @return what the insert returned
     */
    @Override
    public List<EnqueueResult> intercept(Enqueue enqueue) {
        List<NewJobRef> jobs = enqueue.jobs();
        NewJobRef first = jobs.get(0);
        SpanBuilder builder = tracer.spanBuilder("send " + first.queue())
                .setSpanKind(SpanKind.PRODUCER)
                .setAttribute(MESSAGING_SYSTEM_KEY, MESSAGING_SYSTEM)
                .setAttribute(OPERATION_TYPE, "send")
                .setAttribute(OPERATION_NAME, "send")
                .setAttribute(DESTINATION, first.queue())
                .setAttribute(JOB_TYPE, first.type());
        if (jobs.size() == 1) {
            builder.setAttribute(MESSAGE_ID, first.id().toString());
        } else {
            builder.setAttribute(BATCH_COUNT, (long) jobs.size());
        }
        Span span = builder.startSpan();
        try (Scope ignored = span.makeCurrent()) {
            Map<String, String> carrier = new LinkedHashMap<>();
            propagator.inject(Context.current(), carrier, (map, key, value) -> map.put(key, value));
            List<EnqueueResult> results = enqueue.proceed(bounded(carrier));
            if (results.size() == 1) {
                EnqueueResult result = results.get(0);
                span.setAttribute(MESSAGE_ID, result.jobId().toString());
                if (result.duplicate()) {
                    span.setAttribute(JOB_DUPLICATE, true);
                }
            }
            return results;
        } catch (RuntimeException | Error e) {
            failed(span, e);
            throw e;
        } finally {
            span.end();
        }
    }

    /**
     * Runs the attempt in a {@code process <queue>} CONSUMER span, linked to the context recorded at
     * enqueue (and its child, with {@link Builder#parentFromProducer(boolean)}), current while the
     * handler runs.
     *
     * @param invocation the attempt
     * @return what the handler returned
     * @throws Exception what the handler threw
     */
    @Override
    public JobOutcome intercept(Invocation invocation) throws Exception {
        Job<?> job = invocation.job();
        Context producer = propagator.extract(Context.root(), invocation.traceContext(), GETTER);
        SpanContext producerSpan = Span.fromContext(producer).getSpanContext();
        Context parent = parentFromProducer && producerSpan.isValid() ? producer : Context.root();
        SpanBuilder builder = tracer.spanBuilder("process " + job.queue())
                .setParent(parent)
                .setSpanKind(SpanKind.CONSUMER)
                .setAttribute(MESSAGING_SYSTEM_KEY, MESSAGING_SYSTEM)
                .setAttribute(OPERATION_TYPE, "process")
                .setAttribute(OPERATION_NAME, "process")
                .setAttribute(DESTINATION, job.queue())
                .setAttribute(MESSAGE_ID, job.id().toString())
                .setAttribute(JOB_TYPE, job.type())
                .setAttribute(JOB_ATTEMPT, (long) job.attempt());
        if (producerSpan.isValid()) {
            builder.addLink(producerSpan);
        }
        Span span = builder.startSpan();
        try (Scope ignored = parent.with(span).makeCurrent()) {
            JobOutcome outcome = invocation.proceed();
            span.setAttribute(JOB_OUTCOME, outcomeName(outcome));
            if (outcome instanceof JobOutcome.FailPermanently fail) {
                span.setStatus(StatusCode.ERROR, Objects.requireNonNullElse(fail.reason(), "failed permanently"));
            }
            return outcome;
        } catch (Throwable t) {
            span.setAttribute(JOB_OUTCOME, "error");
            failed(span, t);
            throw t;
        } finally {
            span.end();
        }
    }

    private static void failed(Span span, Throwable t) {
        span.recordException(t);
        span.setAttribute(ERROR_TYPE, t.getClass().getName());
        span.setStatus(StatusCode.ERROR, String.valueOf(t.getMessage()));
    }

    private static String outcomeName(JobOutcome outcome) {
        if (outcome instanceof JobOutcome.Done) {
            return "done";
        } else if (outcome instanceof JobOutcome.Snooze) {
            return "snooze";
        } else if (outcome instanceof JobOutcome.FailPermanently) {
            return "fail";
        } else if (outcome instanceof JobOutcome.Cancel) {
            return "cancel";
        }
        return "unknown";
    }

    /**
     * What the propagator wrote, cut to what the queue stores: keys it accepts, printable ASCII values,
     * within its size limit; if the whole does not fit, {@code traceparent} and, if it fits beside it,
     * {@code tracestate}.
     */
    static Map<String, String> bounded(Map<String, String> carrier) {
        Map<String, String> kept = new LinkedHashMap<>();
        int bytes = 0;
        for (Map.Entry<String, String> entry : carrier.entrySet()) {
            if (KEY.matcher(entry.getKey()).matches() && printableAscii(entry.getValue())) {
                kept.put(entry.getKey(), entry.getValue());
                bytes += entry.getKey().length() + entry.getValue().length();
            }
        }
        if (bytes <= MAX_TRACE_CONTEXT_BYTES) {
            return kept;
        }
        Map<String, String> essential = new LinkedHashMap<>();
        int size = 0;
        for (String key : List.of("traceparent", "tracestate")) {
            String value = kept.get(key);
            if (value != null && size + key.length() + value.length() <= MAX_TRACE_CONTEXT_BYTES) {
                essential.put(key, value);
                size += key.length() + value.length();
            }
        }
        return essential;
    }

    private static boolean printableAscii(String value) {
        if (value == null) {
            return false;
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                return false;
            }
        }
        return true;
    }

    /** Options for {@link PgQueueTracing}; all have defaults. Not thread-safe. */
    public static final class Builder {
        private final OpenTelemetry openTelemetry;
        private boolean parentFromProducer;

        private Builder(OpenTelemetry openTelemetry) {
            this.openTelemetry = Objects.requireNonNull(openTelemetry, "openTelemetry");
        }

        /**
         * Whether each attempt's span is a child of the span that enqueued the job, so that the request
         * and the jobs it enqueued form one trace, rather than the root of a trace of its own that
         * links to it. Default false, as the messaging conventions suggest: a job may run hours after
         * its request, or many times, and the link connects the two either way.
         *
         * @param parentFromProducer true to continue the producer's trace
         * @return this builder
         */
        public Builder parentFromProducer(boolean parentFromProducer) {
            this.parentFromProducer = parentFromProducer;
            return this;
        }

        /** {@return the tracing interceptors} */
        public PgQueueTracing build() {
            return new PgQueueTracing(this);
        }
    }
}
