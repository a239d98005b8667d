package dev.pgqueue.consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The BOM as users get it (the flattened POM that install and deploy publish): every published
 * module of the reactor, pgqueue's modules only, and no parent whose pins would come along.
 */
class QueueBomTest {

    private static final Path ROOT = Path.of("..");
    private static final Path PUBLISHED_BOM = ROOT.resolve("queue-bom/target/.flattened-pom.xml");

    @Test
    void theBomListsEveryPublishedModule_andNothingButPgqueuesModules() throws IOException {
        String bom = Files.readString(PUBLISHED_BOM);

        assertTrue(!bom.contains("<parent>"), "no parent in the published BOM");
        assertTrue(!bom.contains("<properties>"), "no properties in the published BOM");
        List<String> groups = all(bom, "<groupId>([^<]+)</groupId>");
        assertTrue(groups.stream().allMatch("dev.pgqueue"::equals), "only dev.pgqueue artifacts: " + groups);
        List<String> listed = all(bom.substring(bom.indexOf("<dependencyManagement>")), "<artifactId>([^<]+)</artifactId>");

        List<String> missing = publishedModules().stream().filter(module -> !listed.contains(module)).toList();
        assertEquals(List.of(), missing, "published modules missing from queue-bom/pom.xml");
    }

    @Test
    void theBomsVersionsAreItsOwn() throws IOException {
        String bom = Files.readString(PUBLISHED_BOM);
        String version = all(bom, "<version>([^<]+)</version>").get(0);

        for (String managed : all(bom.substring(bom.indexOf("<dependencyManagement>")), "<version>([^<]+)</version>")) {
            assertTrue(managed.equals(version) || managed.equals("${project.version}"), "managed version " + managed);
        }
    }

    /** The reactor's modules, less the BOM and those marked pgqueue.unpublished or without the parent. */
    private static List<String> publishedModules() throws IOException {
        List<String> modules = all(Files.readString(ROOT.resolve("pom.xml")), "<module>([^<]+)</module>");
        List<String> published = new ArrayList<>();
        for (String module : modules) {
            String pom = Files.readString(ROOT.resolve(module).resolve("pom.xml"));
            boolean unpublished = pom.contains("<pgqueue.unpublished>true</pgqueue.unpublished>")
                    || !pom.contains("<artifactId>pgqueue-parent</artifactId>");
            if (!unpublished && !module.equals("queue-bom")) {
                published.add(module);
            }
        }
        assertTrue(published.containsAll(List.of("queue-core", "queue-jdbi", "queue-testing", "queue-test-postgres")),
                "found the published modules: " + published);
        return published;
    }

    private static List<String> all(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

}
