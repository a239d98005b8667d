package dev.pgqueue.dashboard;

import dev.pgqueue.Health;
import dev.pgqueue.JobStatus;
import dev.pgqueue.ValidationException;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobFilter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every request of a {@link Dashboard}, whichever server hosts it: routes it, applies the
 * security checks (host, origin, CSRF token, read-only, authorizer) and runs the action or renders
 * the page ({@link Pages}).
 */
final class DashboardHandler {

    private static final Logger log = LoggerFactory.getLogger(DashboardHandler.class);

    /** Largest form: a payload edit. */
    static final int MAX_BODY = 1 << 20;
    /** Header with which a page's script asks for its live part only. */
    static final String FRAGMENT_HEADER = "X-Pgqueue-Fragment";

    /** The jobs each action changes, so that a confirmation counts exactly those. */
    static final Map<String, Set<JobStatus>> ACTIONS = Map.of(
            "retry", EnumSet.of(JobStatus.FAILED, JobStatus.CANCELLED),
            "cancel", EnumSet.of(JobStatus.WAITING, JobStatus.PENDING, JobStatus.PROCESSING),
            "delete", EnumSet.complementOf(EnumSet.of(JobStatus.PROCESSING)),
            "run-now", EnumSet.of(JobStatus.PENDING));

    private final JobAdmin admin;
    private final Authorizer authorizer;
    private final boolean readOnly;
    private final Csrf csrf = new Csrf();
    private final Flash flash = new Flash();
    private final Pages pages;

    DashboardHandler(JobAdmin admin, Authorizer authorizer, boolean readOnly, boolean hidePayloads,
            Map<String, Supplier<Health>> probes, Duration refresh) {
        this.admin = admin;
        this.authorizer = authorizer;
        this.readOnly = readOnly;
        this.pages = new Pages(admin, hidePayloads, probes, refresh, new Throughput(admin));
    }

    /** A response to send. */
    record Response(int status, Map<String, String> headers, byte[] body) {
        static Response html(int status, String html) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Content-Type", "text/html; charset=utf-8");
            headers.put("Cache-Control", "no-store");
            return new Response(status, headers, html.getBytes(StandardCharsets.UTF_8));
        }

        static Response redirect(String location) {
            Map<String, String> headers = new LinkedHashMap<>();
            headers.put("Location", location);
            headers.put("Cache-Control", "no-store");
            return new Response(303, headers, new byte[0]);
        }
    }

    /**
     * Answers {@code ex}.
     *
     * @param allowedHosts the {@code host[:port]} values a request must name in {@code Host} (the
     *                     stand-alone server's DNS-rebinding check), or null to leave that to the host
     */
    void handle(Exchange ex, Set<String> allowedHosts) throws IOException {
        long start = System.nanoTime();
        Response response;
        try {
            response = route(ex, allowedHosts);
        } catch (Params.BadRequest e) {
            response = pages.error(ex, 400, "Bad request", e.getMessage());
        } catch (Exchange.BodyTooLargeException e) {
            response = pages.error(ex, 413, "Request too large", e.getMessage());
        } catch (UnsupportedOperationException e) {
            response = pages.error(ex, 501, "Not available", "this admin API does not offer it: " + e.getMessage());
        } catch (RuntimeException e) {
            log.warn("dashboard request {} {} failed", ex.method(), ex.path(), e);
            response = pages.error(ex, 500, "The dashboard could not answer", e.toString());
        }
        Map<String, String> headers = new LinkedHashMap<>(response.headers());
        headers.putIfAbsent("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self';"
                + " img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
        headers.put("X-Content-Type-Options", "nosniff");
        headers.put("X-Frame-Options", "DENY");
        headers.put("Referrer-Policy", "same-origin");
        headers.put("Server-Timing", String.format(Locale.ROOT, "app;dur=%.1f", (System.nanoTime() - start) / 1e6));
        ex.send(response.status(), headers, response.body());
    }

    private Response route(Exchange ex, Set<String> allowedHosts) throws IOException {
        String path = ex.path();
        if (path == null) {
            return pages.error(ex, 404, "Not found", "nothing here");
        }
        if (allowedHosts != null) {
            String host = ex.header("Host");
            if (host == null || !allowedHosts.contains(host.strip().toLowerCase(Locale.ROOT))) {
                return pages.error(ex, 421, "Misdirected request", "this server does not serve the host "
                        + (host == null ? "(none)" : Params.cut(host, 100)));
            }
        }
        if (path.isEmpty()) {
            return Response.redirect(ex.mountPath() + "/");
        }
        String method = ex.method();
        if (path.startsWith("/assets/") && (method.equals("GET") || method.equals("HEAD"))) {
            return Assets.serve(path.substring("/assets/".length()), ex.header("If-None-Match"));
        }
        if (method.equals("POST") && path.startsWith("/actions/")) {
            return action(ex, path.substring("/actions/".length()));
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            Response r = pages.error(ex, 405, "Method not allowed", "expected GET, HEAD or (for actions) POST, got: "
                    + Params.cut(method, 20));
            r.headers().put("Allow", "GET, HEAD, POST");
            return r;
        }
        Pages.View view = view(ex);
        Response page = switch (path) {
            case "/" -> pages.overview(view);
            case "/jobs" -> pages.jobs(view);
            case "/failures" -> pages.failures(view);
            case "/recurring" -> pages.recurring(view);
            case "/workers" -> pages.workers(view);
            case "/tables" -> pages.tables(view);
            case "/confirm" -> pages.confirm(view);
            default -> path.startsWith("/jobs/") ? pages.job(view, uuid(path.substring("/jobs/".length())))
                    : pages.error(ex, 404, "Not found", "no page at " + Params.cut(path, 100));
        };
        if (view.newCookie() != null) {
            page.headers().put("Set-Cookie", Csrf.COOKIE + "=" + view.newCookie() + "; Path=" + ex.mountPath() + "/"
                    + "; HttpOnly; SameSite=Strict" + (ex.secure() ? "; Secure" : ""));
        }
        return page;
    }

    private Pages.View view(Exchange ex) {
        String cookie = Csrf.cookie(ex.header("Cookie"));
        String fresh = null;
        if (cookie == null || !cookie.matches("[A-Za-z0-9_-]{32}")) {
            cookie = fresh = csrf.newCookie();
        }
        Params query = Params.parse(ex.rawQuery());
        boolean fragment = "live".equals(ex.header(FRAGMENT_HEADER));
        Flash.Message message = fragment ? null : flash.take(query.first("done"));
        return new Pages.View(ex, query, csrf.token(cookie), fresh, actionsOff(ex), fragment, message);
    }

    /** Why this request may not act, or null if it may. */
    private String actionsOff(DashboardRequest request) {
        if (readOnly) {
            return "read-only";
        }
        if (authorizer == null) {
            return "actions off: no authorizer";
        }
        try {
            return authorizer.allowsActions(request) ? null : "actions not allowed for you";
        } catch (RuntimeException e) {
            log.warn("dashboard authorizer failed; refusing actions", e);
            return "actions refused: the authorizer failed";
        }
    }

    private Response action(Exchange ex, String name) throws IOException {
        String crossOrigin = Csrf.crossOrigin(ex.header("Host"), ex.header("Origin"), ex.header("Referer"));
        if (crossOrigin != null) {
            return pages.error(ex, 403, "Forbidden", "cross-site request refused: " + crossOrigin);
        }
        String type = ex.header("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            return pages.error(ex, 415, "Unsupported media type", "expected a form (application/x-www-form-urlencoded), got: "
                    + (type == null ? "none" : Params.cut(type, 80)));
        }
        Params form = Params.parse(new String(ex.body(MAX_BODY), StandardCharsets.UTF_8));
        if (!csrf.valid(Csrf.cookie(ex.header("Cookie")), form.exact(Csrf.FIELD))) {
            return pages.error(ex, 403, "Forbidden", "missing or wrong CSRF token: reload the page and try again");
        }
        String off = actionsOff(ex);
        if (off != null) {
            return pages.error(ex, 403, "Forbidden", "this dashboard refuses actions (" + off + ")");
        }
        String back = returnPath(form.exact("return"));
        String done;
        boolean failed = false;
        try {
            done = perform(name, form);
        } catch (ValidationException e) {
            done = "Refused: " + e.getMessage();
            failed = true;
        } finally {
            pages.snapshots().clear();
        }
        log.info("dashboard action {} by {} from {}: {}", name, ex.principal() == null ? "-" : ex.principal().getName(),
                ex.remoteAddress(), done);
        String key = flash.put(done, failed);
        return Response.redirect(ex.mountPath() + back + (back.contains("?") ? "&" : "?") + "done=" + key);
    }

    private String perform(String name, Params form) {
        switch (name) {
            case "pause", "resume" -> {
                String queue = form.first("queue");
                if (queue == null) {
                    throw new Params.BadRequest("expected a queue to " + name);
                }
                if (name.equals("pause")) {
                    admin.pause(queue);
                    return "Paused queue " + queue + ".";
                }
                admin.resume(queue);
                return "Resumed queue " + queue + ".";
            }
            case "replay" -> {
                UUID id = uuid(form.first("id"));
                String payload = form.exact("payload");
                if (payload == null || payload.isBlank()) {
                    throw new Params.BadRequest("expected a payload (a JSON object) to replay the job with");
                }
                admin.retryWithPayload(id, payload, form.first("reason"));
                return "Replayed job " + id + " with the edited payload.";
            }
            default -> {
                Set<JobStatus> changes = ACTIONS.get(name);
                if (changes == null) {
                    throw new Params.BadRequest("expected an action among pause, resume, replay, "
                            + String.join(", ", ACTIONS.keySet().stream().sorted().toList()) + ", got: " + Params.cut(name, 40));
                }
                JobFilter filter = Filters.parse(form);
                if (filter.ids().isEmpty() && form.first("expected") == null) {
                    throw new Params.BadRequest("expected job ids, or a filter confirmed on the confirmation page");
                }
                JobFilter target = Filters.narrow(filter, changes);
                long n = target == null ? 0 : switch (name) {
                    case "retry" -> admin.retry(target);
                    case "cancel" -> admin.cancel(target);
                    case "delete" -> admin.delete(target);
                    default -> admin.runNow(target);
                };
                return Pages.pastTense(name) + " " + Format.count(n) + (n == 1 ? " job." : " jobs.");
            }
        }
    }

    /** Where an action redirects: a path of this dashboard, never another site. */
    private static String returnPath(String back) {
        if (back == null || !back.startsWith("/") || back.startsWith("//") || back.contains("\\")
                || back.chars().anyMatch(c -> c < 0x20)) {
            return "/";
        }
        return back;
    }

    private static UUID uuid(String v) {
        try {
            return UUID.fromString(v == null ? "" : v);
        } catch (IllegalArgumentException e) {
            throw new Params.BadRequest("expected a job id (a UUID), got: " + Params.cut(String.valueOf(v), 80));
        }
    }
}
