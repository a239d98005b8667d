package dev.pgqueue.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobType;
import dev.pgqueue.PayloadException;
import dev.pgqueue.PayloadMapper;
import dev.pgqueue.ValidationException;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Maps payloads to JSON on the way in and back to the job type's class on the way out, with error
 * messages that name the job and say what was wrong.
 */
public final class PayloadCodec {

    /** Shared: an ObjectMapper is thread-safe once configured, and costly to create. */
    private static final ObjectMapper DEFAULT_MAPPER = PayloadMapper.create();

    private final ObjectMapper mapper;
    /**
     * A reader per payload class, made once: {@code mapper.readValue(json, Class)} looks the class's
     * type and root deserializer up again on every call.
     */
    private final Map<Class<?>, ObjectReader> readers = new ConcurrentHashMap<>();

    /** @param mapper the application's mapper (a store's), or null for {@link #defaultMapper()} */
    public PayloadCodec(ObjectMapper mapper) {
        this.mapper = mapper != null ? mapper : DEFAULT_MAPPER;
    }

    /**
     * Builds what mapping {@code type}'s payloads takes (Jackson's serializer and deserializer for its
     * class, found by introspection the first time and cached in the mapper), so that a worker's first
     * jobs do not wait for it: in a fresh JVM that took hundreds of milliseconds, and every handler
     * thread decoding the same class waited for the first. A class Jackson cannot map is left for the
     * first job to report.
     */
    public void warm(JobType<?> type) {
        try {
            reader(type.payloadType());
            mapper.writerFor(type.payloadType());
            mapper.readTree("{\"warm\": [1, 2.5, \"x\", true, null]}");
        } catch (JsonProcessingException | RuntimeException e) {
            // reported by the first job of this type, with that job's name
        }
    }

    private ObjectReader reader(Class<?> payloadType) {
        ObjectReader reader = readers.get(payloadType);
        if (reader == null) {
            reader = mapper.readerFor(payloadType); // fetches the root deserializer now (EAGER_DESERIALIZER_FETCH)
            readers.putIfAbsent(payloadType, reader);
        }
        return reader;
    }

    /**
     * The shared instance of {@link PayloadMapper#create()}, for stores that are not given a mapper.
     * Never to be reconfigured.
     */
    public static ObjectMapper defaultMapper() {
        return DEFAULT_MAPPER;
    }

    /**
     * @throws ValidationException if the payload is null, of the wrong class, or holds a string with
     *     {@code \u0000} (which PostgreSQL's jsonb cannot store)
     * @throws PayloadException if Jackson cannot serialize it
     */
    public String encode(JobType<?> type, Object payload) {
        Check.notNull("payload", payload);
        if (!type.payloadType().isInstance(payload)) {
            throw new ValidationException(
                    "payload", "an instance of " + type.payloadType().getName() + " for job type " + type.name(),
                    payload.getClass().getName());
        }
        String json;
        try {
            json = mapper.writeValueAsString(payload);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new PayloadException(
                    "cannot write the payload of job type " + type.name() + " as JSON: " + e.getMessage(), e);
        }
        if (json.contains("\\u0000")) {
            rejectNulCharacters(mapper.valueToTree(payload), "payload");
        }
        int broken = unpairedSurrogate(json);
        if (broken >= 0) {
            // UTF-8 cannot encode half a surrogate pair: the driver would silently store '?' instead.
            throw new ValidationException("payload of job type " + type.name(),
                    "valid Unicode (a string holds half a surrogate pair, U+" + Integer.toHexString(json.charAt(broken)).toUpperCase()
                            + ", which UTF-8 cannot store)",
                    json.substring(Math.max(0, broken - 40), broken));
        }
        return json;
    }

    /** The number of bytes {@code text} takes as UTF-8 (an unpaired surrogate counts as one '?'). */
    public static long utf8Length(String text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** The index of the first char of {@code text} that is half a surrogate pair, or -1. */
    static int unpairedSurrogate(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * A handler's result as JSON.
     *
     * @throws PayloadException if Jackson cannot write it, or it holds a string with {@code \u0000}
     *     (which PostgreSQL's jsonb cannot store)
     */
    public String encodeResult(String jobName, Object result) {
        String json;
        try {
            json = mapper.writeValueAsString(result);
        } catch (JsonProcessingException | RuntimeException e) {
            throw new PayloadException("cannot write the result of job " + jobName + " (a "
                    + result.getClass().getName() + ") as JSON: " + e.getMessage(), e);
        }
        if (json.contains("\\u0000")) {
            try {
                rejectNulCharacters(mapper.valueToTree(result), "result");
            } catch (ValidationException e) {
                throw new PayloadException("cannot store the result of job " + jobName + ": " + e.getMessage(), e);
            }
        }
        return json;
    }

    /**
     * A completed job's result mapped to {@code resultType}.
     *
     * @throws PayloadException if it does not map
     */
    public <R> R decodeResult(JobSnapshot job, Class<R> resultType) {
        try {
            return mapper.readValue(job.resultJson(), resultType);
        } catch (JsonProcessingException | RuntimeException e) {
            String reason = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw new PayloadException("result of job " + job.type() + "/" + job.id() + " does not map to "
                    + resultType.getSimpleName() + ": " + reason + "; result was: " + abbreviate(job.resultJson()), e);
        }
    }

    /**
     * @throws PayloadException if the JSON does not map to the job type's payload class
     */
    public <P> P decode(JobType<P> type, UUID jobId, String json) {
        try {
            P payload = reader(type.payloadType()).readValue(json);
            if (payload == null) {
                throw new IllegalArgumentException("the payload is JSON null");
            }
            return payload;
        } catch (JsonProcessingException | RuntimeException e) {
            String reason = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
            throw new PayloadException(
                    "payload of job " + type.name() + "/" + jobId + " does not map to "
                            + type.payloadType().getSimpleName() + ": " + reason + "; payload was: " + abbreviate(json),
                    e);
        }
    }

    private static void rejectNulCharacters(JsonNode node, String path) {
        if (node.isTextual() && node.textValue().indexOf('\u0000') >= 0) {
            throw new ValidationException(path, "a string without \\u0000 (PostgreSQL's jsonb cannot store it)",
                    node.textValue());
        }
        if (node.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                if (field.getKey().indexOf('\u0000') >= 0) {
                    throw new ValidationException(path + " key", "a string without \\u0000", field.getKey());
                }
                rejectNulCharacters(field.getValue(), path + "." + field.getKey());
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                rejectNulCharacters(node.get(i), path + "[" + i + "]");
            }
        }
    }

    private static String abbreviate(String json) {
        return json.length() <= 200 ? json : json.substring(0, 200) + "… (" + json.length() + " chars)";
    }
}
