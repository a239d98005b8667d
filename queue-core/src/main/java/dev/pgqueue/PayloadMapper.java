package dev.pgqueue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.Module;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.pgqueue.internal.Check;

/**
 * Makes the Jackson {@link ObjectMapper} that maps payloads and results to and from JSON. Set the
 * mapper once, on the store ({@code JdbiJobStore.builder(jdbi).objectMapper(...)}); the queues,
 * workers and testers over that store use it. Start from this factory rather than from a bare
 * {@code ObjectMapper}, and add the modules your payloads need:
 *
 * <pre>{@code
 * JdbiJobStore store = JdbiJobStore.builder(jdbi)
 *         .objectMapper(PayloadMapper.create(new Jdk8Module()))
 *         .build();
 * }</pre>
 *
 * <p>The default mapping:
 * <ul>
 *   <li>{@code java.time} types ({@code Instant}, {@code Duration}, {@code LocalDate}, …) work, written
 *       as ISO-8601 strings ({@link JavaTimeModule}).</li>
 *   <li>Unknown properties are ignored, so that a newer producer may add a field before every worker
 *       knows it (a rolling deploy).</li>
 *   <li>Otherwise strict about shape: a missing creator property (a record component, say), a null
 *       for a primitive, or trailing tokens do not map. A payload that does not map fails its attempt,
 *       which is retried (see {@link JobType#withPermanentPayloadFailures()}).</li>
 * </ul>
 */
public final class PayloadMapper {

    private PayloadMapper() {}

    /**
     * A new mapper with pgqueue's defaults (see above) and {@code modules} registered after them, so
     * that a module of yours may replace a default one's serializers. Configure it further as you
     * like before handing it to the store; do not change it afterwards.
     *
     * @param modules Jackson modules to register on top of the defaults (a JavaTimeModule, say)
     * @return a new mapper
     * @throws ValidationException if a module is null
     */
    public static ObjectMapper create(Module... modules) {
        Check.notNull("modules", modules);
        ObjectMapper mapper = new ObjectMapper()
                .registerModule(new JavaTimeModule())
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
                .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        for (int i = 0; i < modules.length; i++) {
            mapper.registerModule(Check.notNull("modules[" + i + "]", modules[i]));
        }
        return mapper;
    }
}
