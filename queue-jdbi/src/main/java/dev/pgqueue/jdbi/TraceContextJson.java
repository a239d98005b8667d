package dev.pgqueue.jdbi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code trace_context} column (V8) as Java sees it: a map of strings, stored as a JSON object, or
 * NULL when empty, so that jobs without a context cost the insert and the claim nothing but a null.
 * Its own plain mapper: a context is strings only, whatever the application's payload mapper does.
 */
final class TraceContextJson {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    private TraceContextJson() {}

    /** The column's value for {@code context}: null when it is empty. */
    static String write(Map<String, String> context) {
        if (context.isEmpty()) {
            return null;
        }
        try {
            return MAPPER.writeValueAsString(context);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings cannot fail to be written as JSON", e);
        }
    }

    /**
     * The context in the column's text, empty for NULL. Lenient, since SQL writers may store what the
     * Java API would not: members that are not strings are left out, and text that is not a JSON
     * object reads as no context, so that one odd row can never fail a claim of many.
     */
    static Map<String, String> read(String json) {
        if (json == null) {
            return Map.of();
        }
        JsonNode node;
        try {
            node = MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            return Map.of();
        }
        if (node == null || !node.isObject()) {
            return Map.of();
        }
        Map<String, String> context = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            if (field.getValue().isTextual()) {
                context.put(field.getKey(), field.getValue().textValue());
            }
        }
        return Map.copyOf(context);
    }
}
