package dev.pgqueue.dashboard;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgqueue.Health;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.AttemptRecord;
import dev.pgqueue.admin.FailureGroup;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobCount;
import dev.pgqueue.admin.JobDetail;
import dev.pgqueue.admin.JobFilter;
import dev.pgqueue.admin.JobPage;
import dev.pgqueue.admin.Page;
import dev.pgqueue.admin.QueueStats;
import dev.pgqueue.admin.RecurringInfo;
import dev.pgqueue.admin.TableStats;
import dev.pgqueue.admin.WorkerInfo;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The dashboard's pages as HTML. Each page has a live part ({@code <div id="live">}) that its script
 * re-fetches every refresh interval ({@link DashboardHandler#FRAGMENT_HEADER}); forms stay outside it,
 * so a refresh never loses what someone is typing. Every value goes through {@link Html#text}.
 */
final class Pages {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int DEFAULT_LIMIT = 50;
    private static final int MAX_LIST_LIMIT = 500;
    /**
     * The jobs list counts its matches up to this many and shows more as "10,000+": an exact count of
     * a million matches reads a million rows at every refresh. A bulk action's confirmation counts
     * exactly.
     */
    static final long LIST_COUNT_LIMIT = 10_000;
    private static final List<String[]> NAV = List.of(
            new String[] {"/", "Overview"}, new String[] {"/jobs", "Jobs"}, new String[] {"/failures", "Failures"},
            new String[] {"/recurring", "Recurring"}, new String[] {"/workers", "Workers"}, new String[] {"/tables", "Table health"});

    private final JobAdmin admin;
    private final boolean hidePayloads;
    private final Map<String, Supplier<Health>> probes;
    private final Duration refresh;
    private final Throughput throughput;
    private final Snapshots snapshots;

    Pages(JobAdmin admin, boolean hidePayloads, Map<String, Supplier<Health>> probes, Duration refresh, Throughput throughput) {
        this.admin = admin;
        this.hidePayloads = hidePayloads;
        this.probes = probes;
        this.refresh = refresh;
        this.throughput = throughput;
        this.snapshots = new Snapshots(refresh);
    }

    /** The shared reads of the overview and the lists; cleared after every action. */
    Snapshots snapshots() {
        return snapshots;
    }

    /**
     * What a page needs to know of its request.
     *
     * @param actionsOff why actions are off for this request, or null if it may act
     * @param newCookie  a CSRF cookie to set (the request had none), or null
     */
    record View(Exchange ex, Params query, String csrfToken, String newCookie, String actionsOff, boolean fragment,
            Flash.Message flash) {
        boolean canAct() {
            return actionsOff == null;
        }

        String base() {
            return ex.mountPath();
        }

        /** This page's path and query below the mount, without the flash key: where its actions return. */
        String self() {
            String q = query.encode("done");
            return ex.path() + (q.isEmpty() ? "" : "?" + q);
        }
    }

    // ---- overview ---------------------------------------------------------------------------------

    DashboardHandler.Response overview(View v) {
        Html h = new Html();
        List<QueueStats> stats = snapshots.<List<QueueStats>>get("queueStats", admin::queueStats).stream().sorted(Comparator.comparing(QueueStats::queue)).toList();
        h.raw("<table class=\"grid\" id=\"queues\"><thead><tr><th>Queue</th><th>State</th>");
        for (JobStatus s : JobStatus.values()) {
            h.raw("<th class=\"num\">").text(s == JobStatus.PROCESSING ? "running" : s.sqlValue()).raw("</th>");
        }
        h.raw("<th class=\"num\">Oldest pending</th><th class=\"num\">Done 1/5/15 min</th><th class=\"num\">Failed 15 min</th>"
                + "<th>Last hour</th><th></th></tr></thead><tbody>");
        if (stats.isEmpty()) {
            h.raw("<tr><td colspan=\"14\" class=\"empty\">No queue has jobs yet.</td></tr>");
        }
        for (QueueStats q : stats) {
            h.raw("<tr").attr("data-queue", q.queue()).raw("><td>").link(v.base() + "/jobs?queue=" + Html.url(q.queue()), q.queue())
                    .raw("</td><td>").raw(q.paused() ? "<span class=\"badge paused\">paused</span>" : "<span class=\"badge active\">active</span>")
                    .raw("</td>");
            for (JobStatus s : JobStatus.values()) {
                JobCount n = q.counts().getOrDefault(s, JobCount.exact(0));
                h.raw("<td class=\"num\"").attr("data-status", s.sqlValue()).attr("data-accuracy", n.accuracy().jsonName());
                if (!n.isExact()) {
                    h.attr("title", Format.accuracyNote(n));
                }
                h.raw(">");
                if (n.value() == 0 && n.isExact()) {
                    h.raw("<span class=\"zero\">0</span>");
                } else {
                    h.link(v.base() + "/jobs?queue=" + Html.url(q.queue()) + "&status=" + s.sqlValue(), Format.count(n));
                }
                h.raw("</td>");
            }
            h.raw("<td class=\"num\">").text(q.oldestPendingAge().isZero() ? "–" : Format.duration(q.oldestPendingAge()))
                    .raw("</td><td class=\"num\">").text(q.completedLast1m() + " / " + q.completedLast5m() + " / " + q.completedLast15m())
                    .raw("</td><td class=\"num\">").text(q.failedLast15m()).raw("</td><td>");
            Throughput.Series series = snapshots.peek("throughput " + q.queue(), () -> throughput.series(q.queue(), Instant.now()));
            if (series == null) {
                h.raw("<span class=\"note\">counting…</span>");
            } else {
                Throughput.svg(h, series);
            }
            h.raw("</td><td>");
            if (v.canAct()) {
                Params fields = new Params().add("queue", q.queue());
                if (q.paused()) {
                    actionForm(h, v, "resume", fields, "Resume", "btn");
                } else {
                    actionForm(h, v, "pause", fields, "Pause", "btn");
                }
            }
            h.raw("</td></tr>");
        }
        h.raw("</tbody></table>");
        h.raw("<p class=\"legend\"><svg width=\"10\" height=\"10\"><rect class=\"ok\" width=\"10\" height=\"10\"/></svg> completed "
                + "<svg width=\"10\" height=\"10\"><rect class=\"bad\" width=\"10\" height=\"10\"/></svg> failed, per 5 minutes</p>");
        section(h, "Workers", () -> {
            List<WorkerInfo> workers = snapshots.get("workers", admin::workers);
            Html s = new Html();
            s.raw("<p>").link(v.base() + "/workers", Format.count(workers.size()) + (workers.size() == 1 ? " live worker" : " live workers"))
                    .text(", running " + workers.stream().mapToInt(WorkerInfo::running).sum() + " jobs.").raw("</p>");
            return s;
        });
        return page(v, "/", "Overview", "", h.toString(), "");
    }

    // ---- jobs -------------------------------------------------------------------------------------

    DashboardHandler.Response jobs(View v) {
        JobFilter filter = Filters.parse(v.query());
        Page page = page(v.query());
        Html form = new Html();
        filterForm(form, v, filter);
        Html h = new Html();
        Params filterParams = Filters.params(filter);
        String key = filterParams.encode();
        JobCount count = snapshots.get("count " + key, () -> admin.countUpTo(filter, LIST_COUNT_LIMIT));
        JobPage result = snapshots.get("find " + key + " " + page, () -> admin.find(filter, page));
        h.raw("<div class=\"summary\"><span id=\"match-count\"").attr("data-accuracy", count.accuracy().jsonName());
        if (!count.isExact()) {
            h.attr("title", Format.accuracyNote(count));
        }
        h.raw(">").text(Format.count(count)).raw("</span> ")
                .text(count.value() == 1 && count.isExact() ? "job matches" : "jobs match").text(" " + Filters.describe(filter) + ".");
        if (v.canAct() && count.value() > 0) {
            h.raw(" <span class=\"bulk\">Bulk: ");
            for (String action : List.of("retry", "cancel", "run-now", "delete")) {
                Params p = new Params().add("action", action);
                filterParams.asMap().forEach((k, vals) -> vals.forEach(val -> p.add(k, val)));
                h.raw("<a class=\"btn\"").attr("href", v.base() + "/confirm?" + p.encode())
                        .attr("data-bulk", action).raw(">").text(label(action) + " all matching…").raw("</a> ");
            }
            h.raw("</span>");
        }
        h.raw("</div>");
        jobTable(h, v, result.jobs());
        h.raw("<nav class=\"pager\">");
        if (page.cursor() != null) {
            h.link(v.base() + "/jobs?" + v.query().encode("cursor", "done"), "« First page").raw(" ");
        }
        if (result.nextCursor() != null) {
            Params next = Params.parse(v.query().encode("cursor", "done")).add("cursor", result.nextCursor());
            h.raw("<a id=\"next-page\"").attr("href", v.base() + "/jobs?" + next.encode()).raw(">Next page »</a>");
        }
        h.raw("</nav>");
        return page(v, "/jobs", "Jobs", form.toString(), h.toString(), "");
    }

    private static Page page(Params q) {
        int limit = DEFAULT_LIMIT;
        String l = q.first("limit");
        if (l != null) {
            try {
                limit = Integer.parseInt(l);
            } catch (NumberFormatException e) {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIST_LIMIT) {
                throw new Params.BadRequest("expected limit to be 1 to " + MAX_LIST_LIMIT + ", got: " + Params.cut(l, 20));
            }
        }
        String order = q.first("order");
        Page.Order o;
        if (order == null || order.equals("newest")) {
            o = Page.Order.NEWEST_FIRST;
        } else if (order.equals("oldest")) {
            o = Page.Order.OLDEST_FIRST;
        } else {
            throw new Params.BadRequest("expected order to be newest or oldest, got: " + Params.cut(order, 20));
        }
        String cursor = q.first("cursor");
        if (cursor != null && cursor.length() > 500) {
            throw new Params.BadRequest("expected cursor to be a cursor from a previous page");
        }
        return new Page(limit, o, cursor);
    }

    private void filterForm(Html h, View v, JobFilter f) {
        h.raw("<form method=\"get\" class=\"filters\" id=\"filters\"").attr("action", v.base() + "/jobs").raw(">");
        h.raw("<fieldset class=\"statuses\"><legend>Status</legend>");
        for (JobStatus s : JobStatus.values()) {
            h.raw("<label><input type=\"checkbox\" name=\"status\"").attr("value", s.sqlValue())
                    .raw(f.statuses().contains(s) ? " checked" : "").raw("> ").text(s.sqlValue()).raw("</label>");
        }
        h.raw("</fieldset>");
        input(h, "queue", "Queue", String.join(",", f.queues()).isEmpty() ? null : f.queues().iterator().next(), "text");
        input(h, "type", "Type", f.types().isEmpty() ? null : f.types().iterator().next(), "text");
        input(h, "error", "Error contains", f.errorContains(), "text");
        input(h, "dedupe", "Dedupe key prefix", f.dedupeKeyPrefix(), "text");
        input(h, "user", "User id", f.userId(), "text");
        input(h, "created_after", "Created after (UTC)", v.query().first("created_after"), "text");
        input(h, "created_before", "Created before (UTC)", v.query().first("created_before"), "text");
        h.raw("<label>Order <select name=\"order\"><option value=\"newest\">newest first</option><option value=\"oldest\"")
                .raw("oldest".equals(v.query().first("order")) ? " selected" : "").raw(">oldest first</option></select></label>");
        h.raw("<button type=\"submit\" class=\"btn primary\" id=\"apply-filter\">Filter</button> ")
                .link(v.base() + "/jobs", "Clear");
        h.raw("</form>");
    }

    private static void input(Html h, String name, String label, Object value, String type) {
        h.raw("<label>").text(label).raw(" <input").attr("type", type).attr("name", name).attr("id", "f-" + name)
                .attr("value", value == null ? "" : value).raw("></label>");
    }

    private void jobTable(Html h, View v, List<JobSnapshot> jobs) {
        h.raw("<table class=\"grid\" id=\"jobs\"><thead><tr><th>Id</th><th>Type</th><th>Queue</th><th>Status</th>"
                + "<th class=\"num\">Attempt</th><th class=\"num\">Priority</th><th>Created</th><th>Run at</th><th>Finished</th>"
                + "<th>Error</th></tr></thead><tbody>");
        if (jobs.isEmpty()) {
            h.raw("<tr><td colspan=\"10\" class=\"empty\">No jobs.</td></tr>");
        }
        for (JobSnapshot j : jobs) {
            h.raw("<tr class=\"job\"").attr("data-id", j.id()).raw("><td class=\"mono\">")
                    .link(v.base() + "/jobs/" + j.id(), Format.shortId(j.id())).raw("</td><td>").text(j.type())
                    .raw("</td><td>").text(j.queue()).raw("</td><td>");
            status(h, j.status());
            h.raw("</td><td class=\"num\">").text(j.attempt() + " / " + (j.maxRetries() + 1)).raw("</td><td class=\"num\">")
                    .text(j.priority()).raw("</td><td>").text(Format.time(j.createdAt())).raw("</td><td>")
                    .text(Format.time(j.runAt())).raw("</td><td>").text(Format.time(j.completedAt())).raw("</td><td class=\"error\">")
                    .text(j.errorMessage() == null ? "" : Params.cut(firstLine(j.errorMessage()), 120)).raw("</td></tr>");
        }
        h.raw("</tbody></table>");
    }

    // ---- one job ----------------------------------------------------------------------------------

    DashboardHandler.Response job(View v, UUID id) {
        JobDetail d = admin.job(id).orElse(null);
        if (d == null) {
            return error(v.ex(), 404, "No such job", "there is no job with id " + id + " (it may have been pruned or deleted)");
        }
        JobSnapshot j = d.job();
        Html h = new Html();
        h.raw("<p class=\"jobhead\">");
        status(h, j.status());
        h.raw(" <span class=\"type\">").text(j.type()).raw("</span> <span class=\"mono\">").text(j.id()).raw("</span></p>");
        if (v.canAct()) {
            h.raw("<div class=\"actions\">");
            Params ids = new Params().add("id", j.id().toString());
            if (j.status() == JobStatus.FAILED || j.status() == JobStatus.CANCELLED) {
                actionForm(h, v, "retry", ids, "Retry", "btn primary");
            }
            if (j.status() == JobStatus.PENDING) {
                actionForm(h, v, "run-now", ids, "Run now", "btn");
            }
            if (j.status() == JobStatus.WAITING || j.status() == JobStatus.PENDING || j.status() == JobStatus.PROCESSING) {
                actionForm(h, v, "cancel", ids, "Cancel", "btn");
            }
            if (j.status() != JobStatus.PROCESSING) {
                actionForm(h, v, "delete", ids, "Delete", "btn danger");
            }
            h.raw("</div>");
        }
        Html w = new Html();
        if (!d.dependsOn().isEmpty() || !d.dependents().isEmpty()) {
            WorkflowGraph graph = WorkflowGraph.around(admin, d);
            w.raw("<div class=\"workflow\"><h2>Workflow</h2>");
            List<JobSnapshot> failed = graph.failed();
            if (v.canAct() && !failed.isEmpty()) {
                Params ids = new Params();
                failed.forEach(f -> ids.add("id", f.id().toString()));
                w.raw("<p>");
                actionForm(w, v, "retry", ids, "Retry the workflow from its failed " + (failed.size() == 1 ? "job" : failed.size() + " jobs"),
                        "btn primary", "retry-workflow");
                w.raw(" Its cancelled dependents run again once it completes.</p>");
            }
            w.raw("<div class=\"graphbox\">");
            graph.svg(w, j.id(), v.base() + "/jobs/");
            w.raw("</div>");
            if (graph.truncated) {
                w.raw("<p class=\"note\">").text("Showing the first " + WorkflowGraph.MAX_NODES + " jobs of the workflow.").raw("</p>");
            }
            w.raw("</div>");
        }
        h.raw("<div class=\"cols\"><table class=\"fields\">");
        field(h, "Queue", j.queue());
        field(h, "Priority", j.priority());
        field(h, "Attempt", j.attempt() + " (failed attempts " + j.retryCount() + " of " + j.maxRetries() + " retries)");
        field(h, "Created", Format.time(j.createdAt()));
        field(h, "Run at", Format.time(j.runAt()));
        field(h, "Started", Format.time(j.processedAt()));
        field(h, "Finished", Format.time(j.completedAt()));
        field(h, "User id", j.userId());
        field(h, "Dedupe key", j.dedupeKey());
        String traceparent = d.traceContext().get("traceparent");
        field(h, "Trace id", traceparent == null ? null : traceId(traceparent));
        h.raw("</table>").raw(w.toString()).raw("</div>");
        if (j.progress() != null) {
            h.raw("<h2>Progress</h2><p><progress max=\"100\"").attr("value", j.progress().percent()).raw("></progress> ")
                    .text(j.progress().percent() + " %" + (j.progress().message() == null ? "" : " · " + j.progress().message()))
                    .text(" (" + Format.time(j.progress().reportedAt()) + ")").raw("</p>");
        }
        if (j.errorMessage() != null) {
            h.raw("<h2>Error</h2><pre class=\"error\" id=\"error\">").text(j.errorMessage()).raw("</pre>");
        }
        h.raw("<h2>Payload</h2>");
        json(h, "payload", j.payloadJson());
        if (j.resultJson() != null) {
            h.raw("<h2>Result</h2>");
            json(h, "result", j.resultJson());
        }
        h.raw("<h2>Attempts</h2><table class=\"grid\" id=\"attempts\"><thead><tr><th class=\"num\">Attempt</th><th>At</th>"
                + "<th>What</th><th>Worker</th><th>Message</th></tr></thead><tbody>");
        if (d.attempts().isEmpty()) {
            h.raw("<tr><td colspan=\"5\" class=\"empty\">No failed attempts or operator actions.</td></tr>");
        }
        for (AttemptRecord a : d.attempts()) {
            h.raw("<tr><td class=\"num\">").text(a.attempt()).raw("</td><td>").text(Format.time(a.at())).raw("</td><td>")
                    .text(a.kind()).raw("</td><td>").text(a.worker()).raw("</td><td><pre>").text(a.message()).raw("</pre></td></tr>");
        }
        h.raw("</tbody></table>");
        Html after = new Html();
        if (v.canAct() && !hidePayloads && (j.status() == JobStatus.FAILED || j.status() == JobStatus.CANCELLED)) {
            after.raw("<h2>Edit the payload and replay</h2><form method=\"post\" class=\"replay\" id=\"replay\"")
                    .attr("action", v.base() + "/actions/replay").raw(">");
            hidden(after, Csrf.FIELD, v.csrfToken());
            hidden(after, "id", j.id());
            hidden(after, "return", "/jobs/" + j.id());
            after.raw("<textarea name=\"payload\" id=\"replay-payload\" rows=\"10\" spellcheck=\"false\">").text(pretty(j.payloadJson()))
                    .raw("</textarea><label>Reason <input type=\"text\" name=\"reason\" id=\"replay-reason\"></label>"
                            + "<button type=\"submit\" class=\"btn primary\" id=\"replay-submit\">Replay with this payload</button></form>");
        }
        return page(v, "/jobs", "Job " + Format.shortId(j.id()), "", h.toString(), after.toString());
    }

    private static String traceId(String traceparent) {
        String[] parts = traceparent.split("-");
        return parts.length >= 3 ? parts[1] : traceparent;
    }

    private void json(Html h, String id, String json) {
        if (hidePayloads) {
            h.raw("<p class=\"hidden-payload\"").attr("id", id).raw(">hidden (this dashboard hides payloads and results)</p>");
            return;
        }
        h.raw("<pre class=\"json\"").attr("id", id).raw(">").text(pretty(json)).raw("</pre>");
    }

    private static String pretty(String json) {
        if (json == null) {
            return "";
        }
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(JSON.readTree(json));
        } catch (Exception e) {
            return json;
        }
    }

    private static void field(Html h, String name, Object value) {
        h.raw("<tr><th>").text(name).raw("</th><td>").text(value == null ? "–" : value).raw("</td></tr>");
    }

    // ---- failures ---------------------------------------------------------------------------------

    DashboardHandler.Response failures(View v) {
        JobFilter filter = Filters.parse(v.query());
        List<FailureGroup> groups = snapshots.get("failures " + Filters.params(filter).encode(), () -> admin.failureGroups(filter, 100));
        Html h = new Html();
        h.raw("<table class=\"grid\" id=\"groups\"><thead><tr><th>Queue</th><th>Type</th><th>Error</th><th class=\"num\">Jobs</th>"
                + "<th>First failed</th><th>Last failed</th><th></th></tr></thead><tbody>");
        if (groups.isEmpty()) {
            h.raw("<tr><td colspan=\"7\" class=\"empty\">No failed jobs.</td></tr>");
        }
        for (FailureGroup g : groups) {
            Params p = Filters.params(g.filter());
            h.raw("<tr class=\"group\"").attr("data-type", g.type()).raw("><td>").text(g.queue()).raw("</td><td>").text(g.type())
                    .raw("</td><td class=\"error\"><pre>").text(Params.cut(g.error() == null ? "" : g.error(), 400)).raw("</pre></td><td class=\"num\">")
                    .link(v.base() + "/jobs?" + p.encode(), Format.count(g.count())).raw("</td><td>").text(Format.time(g.firstFailed()))
                    .raw("</td><td>").text(Format.time(g.lastFailed())).raw("</td><td class=\"actions\">");
            if (v.canAct()) {
                confirmLink(h, v, "retry", g.filter(), "Retry group…");
                confirmLink(h, v, "delete", g.filter(), "Delete group…");
                JobFilter retrying = g.filter().toBuilder().statuses(JobStatus.WAITING, JobStatus.PENDING).build();
                confirmLink(h, v, "cancel", retrying, "Cancel pending retries…");
            }
            h.raw("</td></tr>");
        }
        h.raw("</tbody></table>");
        return page(v, "/failures", "Failures", "<p class=\"note\">Failed jobs grouped by type and error, largest group first."
                + " Cancel stops the jobs of the same type and error that still wait for a retry.</p>", h.toString(), "");
    }

    private static void confirmLink(Html h, View v, String action, JobFilter filter, String label) {
        Params p = new Params().add("action", action);
        Filters.params(filter).asMap().forEach((k, vals) -> vals.forEach(val -> p.add(k, val)));
        h.raw("<a class=\"btn\"").attr("href", v.base() + "/confirm?" + p.encode()).attr("data-action", action).raw(">")
                .text(label).raw("</a> ");
    }

    // ---- confirmation of a bulk action ------------------------------------------------------------

    DashboardHandler.Response confirm(View v) {
        String action = v.query().first("action");
        Set<JobStatus> changes = action == null ? null : DashboardHandler.ACTIONS.get(action);
        if (changes == null) {
            throw new Params.BadRequest("expected action to be one of retry, cancel, delete, run-now, got: "
                    + Params.cut(String.valueOf(action), 40));
        }
        JobFilter filter = Filters.parse(v.query());
        JobFilter target = Filters.narrow(filter, changes);
        long n = target == null ? 0 : admin.count(target);
        Params filterParams = Filters.params(filter);
        Html h = new Html();
        h.raw("<p class=\"confirm\" id=\"confirm-text\">").text(label(action) + " " + Format.count(n) + (n == 1 ? " job" : " jobs"))
                .text(" matching " + Filters.describe(filter) + "?").raw("</p><p class=\"note\">")
                .text("Only " + changes.stream().map(JobStatus::sqlValue).sorted().collect(Collectors.joining(", "))
                        + " jobs change; the number may move a little if jobs change state meanwhile.").raw("</p>");
        if (!v.canAct()) {
            h.raw("<p class=\"error\">").text("This dashboard refuses actions (" + v.actionsOff() + ").").raw("</p>");
        } else if (n > 0) {
            Params fields = Params.parse(filterParams.encode()).add("expected", Long.toString(n));
            h.raw("<p>");
            actionForm(h, v, action, fields, label(action) + " " + Format.count(n) + (n == 1 ? " job" : " jobs"),
                    action.equals("delete") ? "btn danger" : "btn primary", "confirm-submit",
                    "/jobs" + (filterParams.asMap().isEmpty() ? "" : "?" + filterParams.encode()));
            h.raw(" ").link(v.base() + "/jobs?" + filterParams.encode(), "Back").raw("</p>");
        }
        return page(v, "/jobs", "Confirm: " + label(action).toLowerCase(java.util.Locale.ROOT), "", h.toString(), "");
    }

    // ---- recurring, workers, tables ---------------------------------------------------------------

    DashboardHandler.Response recurring(View v) {
        Instant now = Instant.now();
        Html h = new Html();
        List<RecurringInfo> schedules = admin.recurring();
        h.raw("<table class=\"grid\" id=\"schedules\"><thead><tr><th>Name</th><th>Type</th><th>Queue</th><th>Schedule</th>"
                + "<th>Last tick</th><th>Next tick</th></tr></thead><tbody>");
        if (schedules.isEmpty()) {
            h.raw("<tr><td colspan=\"6\" class=\"empty\">No recurring schedules (none of the live workers runs one).</td></tr>");
        }
        for (RecurringInfo r : schedules) {
            h.raw("<tr><td>").text(r.name()).raw("</td><td>").text(r.type()).raw("</td><td>").text(r.queue()).raw("</td><td class=\"mono\">")
                    .text(r.schedule()).raw("</td><td>").text(Format.time(r.lastTick()) + " (" + Format.relative(r.lastTick(), now) + ")")
                    .raw("</td><td>").text(r.nextTick() == null ? "no live worker runs it" : Format.time(r.nextTick())
                            + " (" + Format.relative(r.nextTick(), now) + ")").raw("</td></tr>");
        }
        h.raw("</tbody></table>");
        return page(v, "/recurring", "Recurring schedules", "", h.toString(), "");
    }

    DashboardHandler.Response workers(View v) {
        Instant now = Instant.now();
        Html h = new Html();
        List<WorkerInfo> workers = admin.workers();
        h.raw("<table class=\"grid\" id=\"workers\"><thead><tr><th>Worker</th><th>Host</th><th class=\"num\">Pid</th><th>Queues</th>"
                + "<th class=\"num\">Running</th><th>Last heartbeat</th><th>Started</th><th>Version</th></tr></thead><tbody>");
        if (workers.isEmpty()) {
            h.raw("<tr><td colspan=\"8\" class=\"empty\">No live workers.</td></tr>");
        }
        for (WorkerInfo w : workers) {
            h.raw("<tr><td class=\"mono\">").text(w.id()).raw("</td><td>").text(w.host()).raw("</td><td class=\"num\">").text(w.pid())
                    .raw("</td><td>").text(w.queues().entrySet().stream().sorted(Map.Entry.comparingByKey())
                            .map(e -> e.getKey() + " × " + e.getValue()).collect(Collectors.joining(", ")))
                    .raw("</td><td class=\"num\">").text(w.running()).raw("</td><td>").text(Format.relative(w.lastHeartbeat(), now))
                    .raw("</td><td>").text(Format.time(w.startedAt())).raw("</td><td>").text(w.version()).raw("</td></tr>");
        }
        h.raw("</tbody></table>");
        if (!probes.isEmpty()) {
            h.raw("<h2>Health of the workers in this process</h2><table class=\"grid\" id=\"health\"><thead><tr><th>Worker</th>"
                    + "<th>Status</th><th>Reasons</th><th>Last claim</th><th>Database</th><th>Listening</th>"
                    + "<th class=\"num\">Past timeout</th></tr></thead><tbody>");
            probes.forEach((name, probe) -> {
                h.raw("<tr><td>").text(name).raw("</td>");
                try {
                    Health health = probe.get();
                    h.raw("<td>").raw("<span class=\"badge health-" + health.status().name().toLowerCase(java.util.Locale.ROOT) + "\">")
                            .text(health.status()).raw("</span></td><td>").text(String.join(" ", health.reasons())).raw("</td><td>")
                            .text(Format.relative(health.lastClaim(), now)).raw("</td><td>")
                            .text(health.databaseReachable() ? "reachable" : "unreachable").raw("</td><td>")
                            .text(health.listening() ? "yes" : "no").raw("</td><td class=\"num\">").text(health.jobsPastTimeout()).raw("</td>");
                } catch (RuntimeException e) {
                    h.raw("<td colspan=\"6\" class=\"error\">").text("probe failed: " + e).raw("</td>");
                }
                h.raw("</tr>");
            });
            h.raw("</tbody></table>");
        }
        return page(v, "/workers", "Workers", "", h.toString(), "");
    }

    DashboardHandler.Response tables(View v) {
        Instant now = Instant.now();
        TableStats t = admin.tableStats();
        Html h = new Html();
        long total = t.liveRows() + t.deadRows();
        double deadShare = total == 0 ? 0 : (double) t.deadRows() / total;
        h.raw("<table class=\"fields\" id=\"table-stats\">");
        field(h, "Live rows (estimate)", Format.count(t.liveRows()));
        field(h, "Dead rows", Format.count(t.deadRows()) + String.format(java.util.Locale.ROOT, " (%.1f %% of all row versions)", deadShare * 100));
        field(h, "Inserted since vacuum", Format.count(t.insertedSinceVacuum()));
        field(h, "Last vacuum", t.lastVacuum() == null ? "never" : Format.time(t.lastVacuum()) + " (" + Format.relative(t.lastVacuum(), now) + ")");
        field(h, "Oldest snapshot held by", t.oldestTransaction() == null ? "none" : t.oldestTransaction());
        field(h, "Held for", t.oldestTransactionAge() == null ? "–" : Format.duration(t.oldestTransactionAge()));
        h.raw("</table>");
        if (t.oldestTransactionAge() != null && t.oldestTransactionAge().compareTo(Duration.ofMinutes(5)) > 0) {
            h.raw("<p class=\"warn\">").text("A snapshot held for " + Format.duration(t.oldestTransactionAge())
                    + " keeps vacuum from removing dead rows (the xmin horizon).").raw("</p>");
        }
        return page(v, "/tables", "Table health", "<p class=\"note\">The job table as the worker's table-health check sees it;"
                + " see docs/retention-and-table-health.md.</p>", h.toString(), "");
    }

    // ---- pieces -----------------------------------------------------------------------------------

    private static void section(Html h, String title, Supplier<Html> body) {
        h.raw("<h2>").text(title).raw("</h2>");
        try {
            h.raw(body.get().toString());
        } catch (RuntimeException e) {
            h.raw("<p class=\"error\">").text("unavailable: " + e.getMessage()).raw("</p>");
        }
    }

    private static void status(Html h, JobStatus s) {
        h.raw("<span class=\"badge st-" + s.sqlValue() + "\">").text(s.sqlValue()).raw("</span>");
    }

    private static void hidden(Html h, String name, Object value) {
        h.raw("<input type=\"hidden\"").attr("name", name).attr("value", value).raw(">");
    }

    private static void actionForm(Html h, View v, String action, Params fields, String label, String cls) {
        actionForm(h, v, action, fields, label, cls, null, v.self());
    }

    private static void actionForm(Html h, View v, String action, Params fields, String label, String cls, String id) {
        actionForm(h, v, action, fields, label, cls, id, v.self());
    }

    private static void actionForm(Html h, View v, String action, Params fields, String label, String cls, String id, String back) {
        h.raw("<form method=\"post\" class=\"inline\"").attr("action", v.base() + "/actions/" + action).raw(">");
        hidden(h, Csrf.FIELD, v.csrfToken());
        fields.asMap().forEach((k, vals) -> vals.forEach(val -> hidden(h, k, val)));
        hidden(h, "return", back);
        h.raw("<button type=\"submit\"").attr("class", cls).attr("data-action", action);
        if (id != null) {
            h.attr("id", id);
        }
        h.raw(">").text(label).raw("</button></form>");
    }

    static String label(String action) {
        return switch (action) {
            case "retry" -> "Retry";
            case "cancel" -> "Cancel";
            case "delete" -> "Delete";
            case "run-now" -> "Run now";
            default -> action;
        };
    }

    static String pastTense(String action) {
        return switch (action) {
            case "retry" -> "Retried";
            case "cancel" -> "Cancelled";
            case "delete" -> "Deleted";
            case "run-now" -> "Made due now:";
            default -> action;
        };
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    DashboardHandler.Response error(Exchange ex, int status, String title, String message) {
        String base = ex.mountPath();
        Html h = new Html();
        h.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").text("pgqueue · " + title)
                .raw("</title><link rel=\"stylesheet\"").attr("href", base + "/assets/" + Assets.versioned("dashboard.css"))
                .raw("></head><body><main><h1>").text(title).raw("</h1><p class=\"error\" id=\"problem\">").text(message)
                .raw("</p><p>").link(base + "/", "Back to the overview").raw("</p></main></body></html>");
        return DashboardHandler.Response.html(status, h.toString());
    }

    private DashboardHandler.Response page(View v, String nav, String title, String before, String live, String after) {
        if (v.fragment()) {
            return DashboardHandler.Response.html(200, live);
        }
        String base = v.base();
        Html h = new Html();
        h.raw("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"pgqueue-csrf\"")
                .attr("content", v.csrfToken()).raw("><title>").text("pgqueue · " + title)
                .raw("</title><link rel=\"stylesheet\"").attr("href", base + "/assets/" + Assets.versioned("dashboard.css"))
                .raw("><script defer").attr("src", base + "/assets/" + Assets.versioned("dashboard.js")).raw("></script></head><body>");
        h.raw("<header><a class=\"brand\"").attr("href", base + "/").raw(">pgqueue</a><nav>");
        for (String[] item : NAV) {
            h.raw("<a").attr("href", base + item[0]).raw(item[0].equals(nav) ? " class=\"active\"" : "").raw(">").text(item[1]).raw("</a>");
        }
        h.raw("</nav><span class=\"mode\" id=\"mode\">").text(v.canAct() ? "actions on" : v.actionsOff())
                .raw("</span><span class=\"live-state\" id=\"live-state\"></span></header><main>");
        h.raw("<h1>").text(title).raw("</h1>");
        if (v.flash() != null) {
            h.raw("<p id=\"flash\"").attr("class", v.flash().error() ? "flash error" : "flash").raw(">").text(v.flash().text()).raw("</p>");
        }
        h.raw(before);
        h.raw("<div id=\"live\"").attr("data-refresh", refresh.toMillis()).raw(">").raw(live).raw("</div>");
        h.raw(after);
        h.raw("</main></body></html>");
        return DashboardHandler.Response.html(200, h.toString());
    }
}
