package dev.pgqueue.dashboard;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dashboard's CSS and JavaScript, read from this jar once. Pages link them with their content
 * hash ({@code dashboard.css?v=…}), so a browser may cache them for a day and still never uses a
 * stale copy after an upgrade. Only these names are served: no path reaches the file system.
 */
final class Assets {

    private record Asset(byte[] bytes, String type, String hash) {}

    private static final Map<String, Asset> ASSETS = Map.of(
            "dashboard.css", load("dashboard.css", "text/css; charset=utf-8"),
            "dashboard.js", load("dashboard.js", "text/javascript; charset=utf-8"));

    private Assets() {}

    /** {@code dashboard.css?v=hash}. */
    static String versioned(String name) {
        return name + "?v=" + ASSETS.get(name).hash();
    }

    static DashboardHandler.Response serve(String name, String ifNoneMatch) {
        Asset asset = ASSETS.get(name);
        Map<String, String> headers = new LinkedHashMap<>();
        if (asset == null) {
            headers.put("Content-Type", "text/plain; charset=utf-8");
            return new DashboardHandler.Response(404, headers, "no such asset".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        String etag = "\"" + asset.hash() + "\"";
        headers.put("ETag", etag);
        headers.put("Cache-Control", "public, max-age=86400");
        if (etag.equals(ifNoneMatch)) {
            return new DashboardHandler.Response(304, headers, new byte[0]);
        }
        headers.put("Content-Type", asset.type());
        return new DashboardHandler.Response(200, headers, asset.bytes());
    }

    private static Asset load(String name, String type) {
        try (InputStream in = Assets.class.getResourceAsStream("assets/" + name)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard's asset " + name + " is missing from the jar");
            }
            byte[] bytes = in.readAllBytes();
            String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)).substring(0, 16);
            return new Asset(bytes, type, hash);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
