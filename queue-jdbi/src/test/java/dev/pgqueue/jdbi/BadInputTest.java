package dev.pgqueue.jdbi;

import static dev.pgqueue.jdbi.Payloads.GENERATE_IMAGE;
import static dev.pgqueue.jdbi.Payloads.GENERATE_PACK;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pgqueue.EnqueueOptions;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.PgQueueException;
import dev.pgqueue.StoreException;
import dev.pgqueue.ValidationException;
import dev.pgqueue.jdbi.Payloads.GenerateImage;
import dev.pgqueue.jdbi.Payloads.GeneratePack;
import dev.pgqueue.testing.postgres.PostgresTest;
import dev.pgqueue.testing.postgres.TestDatabase;
import dev.pgqueue.testing.TestClock;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bad input is rejected at the API edge with a typed exception whose message says which field, what
 * is allowed and what was given ({@code expected <field> to be <rule>, got: <value>}), and the table
 * is exactly as it was afterwards.
 */
@PostgresTest
class BadInputTest {

    private static final String JOB_TYPE_RULE =
            "1-128 characters of letters, digits and _ . : / -, starting with a letter or digit";
    private static final String QUEUE_RULE = "1-63 characters of letters, digits, _ and -, starting with a letter or _";
    private static final String SCHEMA_RULE =
            "a lower-case SQL identifier: 1-63 characters of a-z, 0-9 and _, starting with a letter or _";

    private final TestDatabase db;
    private final Jdbi jdbi;
    private final JdbiJobStore store;
    private final JdbiJobQueue queue;
    private final JobRows rows;

    BadInputTest(TestDatabase db) {
        this.db = db;
        this.jdbi = Jdbi.create(db.dataSource());
        this.store = JdbiJobStore.builder(jdbi).schema(db.schema()).build();
        this.queue = JdbiJobQueue.builder(store).clock(TestClock.at(Instant.parse("2031-03-14T09:26:53.589793Z"))).build();
        this.rows = new JobRows(db);
    }

    @BeforeEach
    void someJobsAlreadyQueued() {
        rows.deleteAll();
        queue.enqueueAll(GENERATE_IMAGE, List.of(image(1), image(2), image(3)), EnqueueOptions.defaults());
    }

    private static GenerateImage image(int n) {
        return new GenerateImage("img-" + n, n);
    }

    private static GeneratePack pack(List<String> imageIds, Map<String, String> options) {
        return new GeneratePack("project-1", imageIds, options);
    }

    /** Runs {@code call}, expects {@code type} with every message part, and that job_queue is unchanged. */
    private <T extends Throwable> T assertRejected(ThrowingCallable call, Class<T> type, String... messageParts) {
        List<Map<String, Object>> before = rows.all();
        assertThat(before).as("jobs queued before").hasSize(3);

        Throwable thrown = catchThrowable(call);

        assertThat(thrown).isInstanceOf(type).hasMessageContainingAll(messageParts);
        assertThat(rows.all()).as("job_queue unchanged, every row and column").isEqualTo(before);
        return type.cast(thrown);
    }

    private ValidationException assertInvalid(ThrowingCallable call, String field, String rule, String given) {
        ValidationException e = assertRejected(call, ValidationException.class, "expected " + field + " to be ");
        assertThat(e).hasMessage("expected " + field + " to be " + rule + ", got: " + given);
        assertThat(e.field()).isEqualTo(field);
        return e;
    }

    @Nested
    class JobTypeName {

        @ParameterizedTest
        @ValueSource(strings = {"", " ", "   ", "generate image", "generate-image;drop table job_queue",
                "-leading-dash", "_leading_underscore", "générer", "quote'd", "tab\tbed", "new\nline"})
        void jobType_rejectsAnIllegalName(String name) {
            assertInvalid(() -> JobType.of(name, GenerateImage.class), "job type name", JOB_TYPE_RULE,
                    '"' + name + '"');
        }

        @Test
        void jobType_rejectsANameOverTheLengthLimit() {
            String longest = "a".repeat(128);
            assertThat(JobType.of(longest, GenerateImage.class).name()).isEqualTo(longest);

            assertInvalid(() -> JobType.of("a".repeat(129), GenerateImage.class), "job type name", JOB_TYPE_RULE,
                    '"' + "a".repeat(80) + "… (129 chars)\"");
        }

        @Test
        void jobType_rejectsNulls() {
            assertInvalid(() -> JobType.of(null, GenerateImage.class), "job type name", JOB_TYPE_RULE, "null");
            assertInvalid(() -> JobType.of("generate-image", null), "payloadType", "non-null", "null");
        }
    }

    @Nested
    class QueueName {

        @ParameterizedTest
        @ValueSource(strings = {"x; drop table job_queue", "x'; drop table job_queue; --", "quo\"ted", "my queue", "",
                "1st", "images.high", "-dash"})
        void queue_rejectsANameThatIsNotAnIdentifier(String name) {
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9), EnqueueOptions.defaults().queue(name)),
                    "queue", QUEUE_RULE, '"' + name + '"');
        }

        @Test
        void queue_rejectsANameOverTheLengthLimit() {
            assertThat(EnqueueOptions.defaults().queue("q".repeat(63)).queue()).hasSize(63);

            assertInvalid(() -> EnqueueOptions.defaults().queue("q".repeat(64)), "queue", QUEUE_RULE,
                    '"' + "q".repeat(64) + '"');
        }
    }

    @Nested
    class SchemaName {

        @ParameterizedTest
        @ValueSource(strings = {"x; drop table job_queue", "quo\"ted", "my schema", "Jobs", "JOBS", "public.jobs", "",
                "1jobs", "jobs-v2"})
        void schema_rejectsANameThatIsNotALowerCaseIdentifier(String name) {
            assertInvalid(() -> JdbiJobStore.builder(jdbi).schema(name), "schema", SCHEMA_RULE, '"' + name + '"');
            assertInvalid(() -> SchemaMigrator.of(jdbi, name), "schema", SCHEMA_RULE, '"' + name + '"');
        }

        @Test
        void schema_rejectsNull() {
            assertInvalid(() -> JdbiJobStore.builder(jdbi).schema(null), "schema", SCHEMA_RULE, "null");
        }
    }

    @Nested
    class Options {

        @Test
        void maxRetries_rejectsNegativeNumbers() {
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9), EnqueueOptions.defaults().maxRetries(-1)),
                    "maxRetries", ">= 0", "-1");
        }

        @Test
        void delay_rejectsNegativeDurations() {
            assertInvalid(() -> EnqueueOptions.defaults().delay(Duration.ofSeconds(-1)), "delay", "between PT0S and PT8760000H", "PT-1S");
        }

        @Test
        void runAt_rejectsNull() {
            assertInvalid(() -> EnqueueOptions.defaults().runAt(null), "runAt", "non-null", "null");
        }

        @Test
        void delay_beyondWhatPostgresCanStoreIsRejectedUpFront() {
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9),
                            EnqueueOptions.defaults().delay(Duration.ofDays(365L * 1_000_000))),
                    "delay", "between PT0S and PT8760000H", "PT8760000000H");
        }

        @Test
        void runAt_beyondWhatPostgresCanStoreIsRejectedUpFront() {
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9),
                            EnqueueOptions.defaults().runAt(Instant.parse("+300000-01-01T00:00:00Z"))),
                    "runAt", "between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z", "+300000-01-01T00:00:00Z");
        }
    }

    @Nested
    class Payload {

        /** Jackson finds nothing to write in a plain Object. */
        private static final JobType<Object> OPAQUE = JobType.of("opaque-thing", Object.class);

        static final class Exploding {
            public String getName() {
                throw new IllegalStateException("getter exploded");
            }
        }

        @Test
        void payload_thatJacksonCannotWriteIsAPayloadExceptionNamingTheJobType() {
            PayloadException e = assertRejected(() -> queue.enqueue(OPAQUE, new Object()), PayloadException.class,
                    "cannot write the payload of job type opaque-thing as JSON");
            assertThat(e).hasCauseInstanceOf(JsonProcessingException.class);

            JobType<Exploding> exploding = JobType.of("exploding", Exploding.class);
            assertRejected(() -> queue.enqueue(exploding, new Exploding()), PayloadException.class,
                    "cannot write the payload of job type exploding as JSON", "getter exploded");
        }

        @Test
        @SuppressWarnings({"unchecked", "rawtypes"})
        void payload_ofTheWrongClassIsRejected() {
            JobType raw = GENERATE_IMAGE;

            assertInvalid(() -> queue.enqueue(raw, "not an image"), "payload",
                    "an instance of " + GenerateImage.class.getName() + " for job type generate-image",
                    "\"java.lang.String\"");
            assertInvalid(() -> queue.enqueue(raw, pack(List.of(), Map.of())), "payload",
                    "an instance of " + GenerateImage.class.getName() + " for job type generate-image",
                    '"' + GeneratePack.class.getName() + '"');
        }

        @Test
        void payload_withANulCharacterIsRejectedNamingItsPath() {
            String rule = "a string without \\u0000 (PostgreSQL's jsonb cannot store it)";

            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, new GenerateImage("img\u0000", 1)),
                    "payload.imageId", rule, "\"img\\u0000\"");
            assertInvalid(() -> queue.enqueue(GENERATE_PACK, pack(List.of("a", "b", "\u0000c"), Map.of())),
                    "payload.imageIds[2]", rule, "\"\\u0000c\"");
            assertInvalid(() -> queue.enqueue(GENERATE_PACK, pack(List.of(), Map.of("style", "studio\u0000"))),
                    "payload.options.style", rule, "\"studio\\u0000\"");
            assertRejected(() -> queue.enqueue(GENERATE_PACK, pack(List.of(), Map.of("st\u0000yle", "studio"))),
                    ValidationException.class, "expected payload.options key to be a string without \\u0000",
                    "got: \"st\\u0000yle\"");
        }

        @Test
        void payload_withTheTextBackslashU0000IsStoredAsItIs() {
            UUID id = queue.enqueue(GENERATE_IMAGE, new GenerateImage("not a nul: \\u0000", 1));

            assertThat(db.queryForList("select payload->>'imageId' as image from job_queue where id = ?", id))
                    .containsExactly(Map.of("image", "not a nul: \\u0000"));
        }
    }

    @Nested
    class Nulls {

        @Test
        void enqueue_rejectsNullArguments() {
            assertInvalid(() -> queue.enqueue(null, image(1)), "type", "non-null", "null");
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, null), "payload", "non-null", "null");
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(1), null), "options", "non-null", "null");
            assertInvalid(() -> queue.in((Handle) null), "handle", "non-null", "null");
            assertInvalid(() -> queue.in((Connection) null), "connection", "non-null",
                    "null");
        }

        @Test
        void enqueueAll_rejectsNullArguments() {
            assertInvalid(() -> queue.enqueueAll(null, List.of(image(1)), EnqueueOptions.defaults()), "type",
                    "non-null", "null");
            assertInvalid(() -> queue.enqueueAll(GENERATE_IMAGE, null, EnqueueOptions.defaults()), "payloads",
                    "non-null", "null");
            assertInvalid(() -> queue.enqueueAll(GENERATE_IMAGE, List.of(image(1)), null), "options", "non-null",
                    "null");
            assertInvalid(() -> queue.enqueueAll(GENERATE_IMAGE, Arrays.asList(image(1), image(2), null, image(4)),
                    EnqueueOptions.defaults()), "payloads[2]", "non-null", "null");
        }

        @Test
        void queueAndStore_rejectNullCollaborators() {
            assertInvalid(() -> JdbiJobStore.builder(null), "jdbi", "non-null", "null");
            assertInvalid(() -> JdbiJobQueue.builder(null), "store", "non-null", "null");
            assertInvalid(() -> JdbiJobQueue.builder(store).clock(null), "clock", "non-null", "null");
        }
    }

    @Nested
    class AllOrNothing {

        @Test
        void enqueueAll_withABadThirdPayloadInsertsNothing() {
            List<GeneratePack> payloads = new ArrayList<>();
            payloads.add(pack(List.of("a"), Map.of()));
            payloads.add(pack(List.of("b"), Map.of()));
            payloads.add(pack(List.of("c\u0000"), Map.of()));
            payloads.add(pack(List.of("d"), Map.of()));

            assertInvalid(() -> queue.enqueueAll(GENERATE_PACK, payloads, EnqueueOptions.defaults()),
                    "payload.imageIds[0]", "a string without \\u0000 (PostgreSQL's jsonb cannot store it)",
                    "\"c\\u0000\"");
        }

        @Test
        @SuppressWarnings({"unchecked", "rawtypes"})
        void enqueueAll_withAThirdPayloadOfTheWrongClassInsertsNothing() {
            List raw = new ArrayList<>(List.of(image(1), image(2), "three", image(4)));

            assertRejected(() -> queue.enqueueAll(GENERATE_IMAGE, raw, EnqueueOptions.defaults()),
                    ValidationException.class, "expected payload to be an instance of", "got: \"java.lang.String\"");
        }

        @Test
        void enqueue_inATransactionRejectsBadInputBeforeWritingAndLeavesTheTransactionUsable() {
            UUID good = jdbi.inTransaction(handle -> {
                assertThatThrownBy(() -> queue.in(handle).enqueue(GENERATE_IMAGE, new GenerateImage("\u0000", 1)))
                        .isInstanceOf(ValidationException.class);
                assertThatThrownBy(() -> queue.in(handle).enqueue(GENERATE_IMAGE, image(1),
                        EnqueueOptions.defaults().maxRetries(-5))).isInstanceOf(PgQueueException.class);
                return queue.in(handle).enqueue(GENERATE_IMAGE, image(5));
            });

            assertThat(rows.exists(good)).isTrue();
            assertThat(rows.count()).isEqualTo(4);
        }
    }

    /** Workflows: dependencies that cannot be, rejected with nothing written (not even a flag on a dependency). */
    @Nested
    class Workflows {

        private List<Map<String, Object>> dependencies() {
            return db.queryForList("SELECT * FROM job_queue_dependency ORDER BY job_id, depends_on");
        }

        @Test
        void enqueue_dependingOnAJobThatDoesNotExist_isRejected() {
            UUID existing = (UUID) rows.all().get(0).get("id");
            UUID missing = UUID.fromString("00000000-0000-7000-8000-000000000001");

            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9), EnqueueOptions.defaults().dependsOn(existing, missing)),
                    "dependsOn", "ids of existing jobs", "[" + missing + "] (no such job)");
            assertThat(dependencies()).isEmpty();
        }

        @Test
        void enqueue_dependingOnAJobThatDoesNotExist_inACallersTransaction_leavesItUsable() {
            UUID missing = UUID.fromString("00000000-0000-7000-8000-000000000002");
            UUID existing = (UUID) rows.all().get(0).get("id");

            UUID good = jdbi.inTransaction(handle -> {
                assertThatThrownBy(() -> queue.in(handle).enqueue(GENERATE_IMAGE, image(9),
                        EnqueueOptions.defaults().dependsOn(existing, missing))).isInstanceOf(ValidationException.class);
                return queue.in(handle).enqueue(GENERATE_IMAGE, image(5));
            });

            assertThat(rows.exists(good)).isTrue();
            assertThat(rows.row(existing).get("has_dependents")).as("no flag left on the existing dependency").isNull();
        }

        @Test
        void enqueueBatch_whoseCallbackDependsOnAJobThatDoesNotExist_writesNoneOfTheBatch() {
            UUID missing = UUID.fromString("00000000-0000-7000-8000-000000000003");

            assertInvalid(() -> queue.enqueueBatch(GENERATE_IMAGE, List.of(image(7), image(8)), EnqueueOptions.defaults(),
                            GENERATE_PACK, pack(List.of("7", "8"), Map.of()), EnqueueOptions.defaults().dependsOn(missing)),
                    "dependsOn", "ids of existing jobs", "[" + missing + "] (no such job)");
            assertThat(dependencies()).isEmpty();
        }

        @Test
        void dependsOn_withARepeatedOrNullId_isRejected() {
            UUID id = UUID.fromString("00000000-0000-7000-8000-000000000004");

            assertInvalid(() -> EnqueueOptions.defaults().dependsOn(id, id), "dependsOn", "distinct job ids",
                    "[" + id + ", " + id + "]");
            assertInvalid(() -> EnqueueOptions.defaults().dependsOn(id, null), "dependsOn", "job ids, none null",
                    "[" + id + ", null]");
        }

        @Test
        void onDependencyFailure_withoutDependencies_isRejected() {
            assertInvalid(() -> queue.enqueue(GENERATE_IMAGE, image(9),
                            EnqueueOptions.defaults().onDependencyFailure(EnqueueOptions.DependencyFailure.RUN)),
                    "options.dependsOn", "set when options.onDependencyFailure is", "[]");
        }

        @Test
        void enqueueBatch_withADedupeKey_isRejected() {
            assertInvalid(() -> queue.enqueueBatch(GENERATE_IMAGE, List.of(image(7)), EnqueueOptions.defaults().dedupeKey("k"),
                            GENERATE_PACK, pack(List.of("7"), Map.of()), EnqueueOptions.defaults()),
                    "options.dedupeKey", "unset for enqueueBatch (a batch's jobs are not unique)", "\"k\"");
            assertInvalid(() -> queue.enqueueBatch(GENERATE_IMAGE, List.of(image(7)), EnqueueOptions.defaults(),
                            GENERATE_PACK, pack(List.of("7"), Map.of()), EnqueueOptions.defaults().dedupeKey("k")),
                    "callbackOptions.dedupeKey", "unset for enqueueBatch (a batch's callback is not unique)", "\"k\"");
        }

        @Test
        void partitionKey_emptyOrTooLong_isRejected() {
            assertInvalid(() -> EnqueueOptions.defaults().partitionKey(""), "partitionKey",
                    "1-255 characters without \\u0000", "\"\"");
            assertInvalid(() -> EnqueueOptions.defaults().partitionKey("x".repeat(256)), "partitionKey",
                    "1-255 characters without \\u0000", "\"" + "x".repeat(80) + "… (256 chars)\"");
        }

        @Test
        void sqlProducers_dependingOnAJobThatDoesNotExist_areRejected() {
            UUID missing = UUID.fromString("00000000-0000-7000-8000-000000000005");

            assertRejected(() -> db.queryForList("SELECT job_queue_enqueue_after(ARRAY[?]::uuid[], 'generate-image')", missing),
                    Exception.class, "expected depends_on to be ids of existing jobs, got: {" + missing + "} (no such job)");
            assertRejected(() -> db.queryForList("SELECT job_queue_enqueue_after(ARRAY[?, ?]::uuid[], 'generate-image')",
                            missing, missing),
                    Exception.class, "expected depends_on to be distinct job ids, got: {" + missing + "," + missing + "}");
            assertRejected(() -> db.execute("INSERT INTO job_queue (job_type, status) VALUES ('generate-image', 'waiting')"),
                    Exception.class, "job_queue_dependencies_check");
            assertThat(dependencies()).isEmpty();
        }
    }
}
