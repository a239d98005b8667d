package dev.pgqueue.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.ValidationException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class PayloadCodecTest {

    record Stamped(java.time.Instant at, java.time.Duration every) {}

    record GenerateImage(String imageId, int size) {}

    record GeneratePack(String projectId, List<String> imageIds, Map<String, String> options) {}

    private static final JobType<GenerateImage> GENERATE_IMAGE = JobType.of("generate-image", GenerateImage.class);
    private static final JobType<GeneratePack> GENERATE_PACK = JobType.of("generate-complete-pack", GeneratePack.class);

    private final PayloadCodec codec = new PayloadCodec(null);
    private final UUID jobId = UUID.fromString("01890a5d-ac96-774b-bcce-b302099a8057");

    @Nested
    class Encode {

        @Test
        void encode_writesThePayloadAsJson() {
            assertThat(codec.encode(GENERATE_IMAGE, new GenerateImage("img-1", 512)))
                    .isEqualTo("{\"imageId\":\"img-1\",\"size\":512}");
        }

        @Test
        void encode_usesTheApplicationsMapper() {
            ObjectMapper snake = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

            assertThat(new PayloadCodec(snake).encode(GENERATE_IMAGE, new GenerateImage("img-1", 1)))
                    .isEqualTo("{\"image_id\":\"img-1\",\"size\":1}");
        }

        @Test
        void encode_rejectsANulCharacterNamingItsPath() {
            assertThatThrownBy(() -> codec.encode(GENERATE_PACK,
                    new GeneratePack("p", List.of("ok", "bad\u0000"), Map.of())))
                    .isInstanceOf(ValidationException.class)
                    .hasMessage("expected payload.imageIds[1] to be a string without \\u0000 (PostgreSQL's jsonb cannot"
                            + " store it), got: \"bad\\u0000\"");
        }

        @Test
        void encode_keepsTheTextBackslashU0000() {
            assertThat(codec.encode(GENERATE_IMAGE, new GenerateImage("\\u0000", 1)))
                    .isEqualTo("{\"imageId\":\"\\\\u0000\",\"size\":1}");
        }

        @Test
        void encode_reportsWhatJacksonCannotWrite() {
            JobType<Object> opaque = JobType.of("opaque", Object.class);

            assertThatThrownBy(() -> codec.encode(opaque, new Object()))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageStartingWith("cannot write the payload of job type opaque as JSON: ");
        }
    }

    @Nested
    class Decode {

        @Test
        void decode_readsThePayloadBack() {
            GeneratePack pack = new GeneratePack("p-1", List.of("a", "b"), Map.of("style", "studio"));

            assertThat(codec.decode(GENERATE_PACK, jobId, codec.encode(GENERATE_PACK, pack))).isEqualTo(pack);
            assertThat(codec.decode(GENERATE_IMAGE, jobId, "{\"size\": 3, \"imageId\": \"x\"}"))
                    .isEqualTo(new GenerateImage("x", 3));
        }

        @Test
        void decode_rejectsJsonEncodedAsAString() {
            String json = "\"{\\\"imageId\\\": \\\"x\\\", \\\"size\\\": 3}\"";

            assertDecodeFails(json, "payload was: " + json);
        }

        @Test
        void decode_rejectsAScalar() {
            assertDecodeFails("42", "payload was: 42");
        }

        @Test
        void decode_rejectsJsonNull() {
            assertDecodeFails("null", "the payload is JSON null", "payload was: null");
        }

        @Test
        void decode_rejectsAMissingField() {
            assertDecodeFails("{\"imageId\": \"x\"}", "size");
        }

        @Test
        void decode_rejectsANullForAPrimitive() {
            assertDecodeFails("{\"imageId\": \"x\", \"size\": null}", "size");
        }

        @Test
        void decode_ignoresAnExtraField_forPayloadEvolution() {
            assertThat(codec.decode(GENERATE_IMAGE, jobId, "{\"imageId\": \"x\", \"size\": 1, \"colour\": \"red\"}"))
                    .isEqualTo(new GenerateImage("x", 1));
        }

        @Test
        void javaTime_roundTripsAsIsoStrings_withNoConfiguration() {
            JobType<Stamped> type = JobType.of("stamped", Stamped.class);
            Stamped stamped = new Stamped(java.time.Instant.parse("2030-01-01T00:00:00.5Z"), java.time.Duration.ofSeconds(90));

            String json = codec.encode(type, stamped);

            assertThat(json).isEqualTo("{\"at\":\"2030-01-01T00:00:00.500Z\",\"every\":\"PT1M30S\"}");
            assertThat(codec.decode(type, jobId, json)).isEqualTo(stamped);
        }

        @Test
        void decode_rejectsMalformedAndTrailingJson() {
            assertDecodeFails("{\"imageId\": ", "payload was: {\"imageId\": ");
            assertDecodeFails("{\"imageId\": \"x\", \"size\": 1} {}", "payload was:");
        }

        @Test
        void decode_abbreviatesALongPayloadInTheMessage() {
            String json = "{\"imageId\": \"" + "x".repeat(500) + "\", \"colour\": 1}";

            assertThatThrownBy(() -> codec.decode(GENERATE_IMAGE, jobId, json))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageEndingWith("payload was: " + json.substring(0, 200) + "… (" + json.length() + " chars)");
        }

        private void assertDecodeFails(String json, String... details) {
            assertThatThrownBy(() -> codec.decode(GENERATE_IMAGE, jobId, json))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageStartingWith("payload of job generate-image/" + jobId + " does not map to GenerateImage: ")
                    .hasMessageContainingAll(details)
                    .hasCauseInstanceOf(Exception.class);
        }
    }

    /** Jackson cannot make one: no default constructor, no creator. */
    static final class NoCreator {
        NoCreator(int size) {}
    }

    @Nested
    class Warm {

        @Test
        void warm_thenDecodeAndEncode_workAsBefore() {
            PayloadCodec warmed = new PayloadCodec(new ObjectMapper());
            warmed.warm(GENERATE_IMAGE);

            assertThat(warmed.decode(GENERATE_IMAGE, jobId, "{\"imageId\": \"img-1\", \"size\": 512}"))
                    .isEqualTo(new GenerateImage("img-1", 512));
            assertThat(warmed.encode(GENERATE_IMAGE, new GenerateImage("img-1", 512)))
                    .isEqualTo("{\"imageId\":\"img-1\",\"size\":512}");
        }

        @Test
        void warm_ofAClassJacksonCannotMap_leavesTheErrorToTheFirstJob() {
            JobType<NoCreator> type = JobType.of("no-creator", NoCreator.class);

            codec.warm(type);

            assertThatThrownBy(() -> codec.decode(type, jobId, "{\"size\": 1}"))
                    .isInstanceOf(PayloadException.class)
                    .hasMessageStartingWith("payload of job no-creator/" + jobId + " does not map to NoCreator: ");
        }
    }
}
