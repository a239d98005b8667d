package dev.pgqueue.dashboard;

import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.admin.JobAdmin;
import dev.pgqueue.admin.JobDetail;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The workflow around one job: the jobs reachable through dependency edges either way, read with
 * {@link JobAdmin#job} (at most {@value #MAX_NODES}), laid out in columns by depth (a job stands right
 * of every job it waits for) and drawn as an inline SVG whose boxes link to the jobs' pages.
 */
final class WorkflowGraph {

    static final int MAX_NODES = 40;
    private static final int BOX_W = 180;
    private static final int BOX_H = 40;
    private static final int COL = 220;
    private static final int ROW = 54;

    final Map<UUID, JobDetail> nodes = new LinkedHashMap<>();
    final boolean truncated;

    private WorkflowGraph(boolean truncated) {
        this.truncated = truncated;
    }

    static WorkflowGraph around(JobAdmin admin, JobDetail start) {
        Map<UUID, JobDetail> found = new LinkedHashMap<>();
        Deque<JobDetail> todo = new ArrayDeque<>();
        found.put(start.job().id(), start);
        todo.add(start);
        boolean truncated = false;
        while (!todo.isEmpty()) {
            JobDetail d = todo.poll();
            List<UUID> next = new ArrayList<>(d.dependsOn());
            next.addAll(d.dependents());
            for (UUID id : next) {
                if (found.containsKey(id)) {
                    continue;
                }
                if (found.size() >= MAX_NODES) {
                    truncated = true;
                    break;
                }
                admin.job(id).ifPresent(j -> {
                    found.put(id, j);
                    todo.add(j);
                });
            }
        }
        WorkflowGraph g = new WorkflowGraph(truncated);
        g.nodes.putAll(found);
        return g;
    }

    boolean isWorkflow() {
        return nodes.size() > 1;
    }

    /** The failed jobs of the workflow: where a retry resumes it. */
    List<JobSnapshot> failed() {
        return nodes.values().stream().map(JobDetail::job).filter(j -> j.status() == JobStatus.FAILED).toList();
    }

    void svg(Html h, UUID current, String jobLinkBase) {
        Map<UUID, Integer> depth = new HashMap<>();
        for (UUID id : nodes.keySet()) {
            depth(id, depth, 0);
        }
        Map<Integer, List<UUID>> columns = new java.util.TreeMap<>();
        nodes.keySet().forEach(id -> columns.computeIfAbsent(depth.get(id), c -> new ArrayList<>()).add(id));
        Map<UUID, int[]> pos = new HashMap<>();
        int rows = 0;
        for (Map.Entry<Integer, List<UUID>> col : columns.entrySet()) {
            List<UUID> ids = col.getValue();
            for (int r = 0; r < ids.size(); r++) {
                pos.put(ids.get(r), new int[] {10 + col.getKey() * COL, 10 + r * ROW});
            }
            rows = Math.max(rows, ids.size());
        }
        int width = 20 + (columns.size() - 1) * COL + BOX_W;
        int height = 20 + (rows - 1) * ROW + BOX_H;
        h.raw("<svg class=\"graph\" width=\"" + width + "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " " + height
                + "\" role=\"img\" aria-label=\"workflow graph\">");
        h.raw("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\""
                + " orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" class=\"arrowhead\"/></marker></defs>");
        for (JobDetail d : nodes.values()) {
            int[] to = pos.get(d.job().id());
            for (UUID dep : d.dependsOn()) {
                int[] from = pos.get(dep);
                if (from != null) {
                    h.raw("<line class=\"edge\" x1=\"" + (from[0] + BOX_W) + "\" y1=\"" + (from[1] + BOX_H / 2) + "\" x2=\""
                            + to[0] + "\" y2=\"" + (to[1] + BOX_H / 2) + "\" marker-end=\"url(#arrow)\"/>");
                }
            }
        }
        for (JobDetail d : nodes.values()) {
            JobSnapshot j = d.job();
            int[] p = pos.get(j.id());
            h.raw("<a class=\"node\"").attr("href", jobLinkBase + j.id()).raw(">");
            h.raw("<rect x=\"" + p[0] + "\" y=\"" + p[1] + "\" width=\"" + BOX_W + "\" height=\"" + BOX_H + "\" rx=\"4\"")
                    .attr("class", "st-" + j.status().sqlValue() + (j.id().equals(current) ? " current" : "")).raw("/>");
            h.raw("<text x=\"" + (p[0] + 8) + "\" y=\"" + (p[1] + 16) + "\">").text(Params.cut(j.type(), 24)).raw("</text>");
            h.raw("<text class=\"sub\" x=\"" + (p[0] + 8) + "\" y=\"" + (p[1] + 32) + "\">")
                    .text(j.status().sqlValue() + " · " + Format.shortId(j.id())).raw("</text>");
            h.raw("</a>");
        }
        h.raw("</svg>");
    }

    /** Longest path from a job with no dependency in the graph; guards against a cycle. */
    private int depth(UUID id, Map<UUID, Integer> memo, int guard) {
        Integer known = memo.get(id);
        if (known != null) {
            return known;
        }
        int d = 0;
        if (guard < MAX_NODES) {
            for (UUID dep : nodes.get(id).dependsOn()) {
                if (nodes.containsKey(dep)) {
                    d = Math.max(d, depth(dep, memo, guard + 1) + 1);
                }
            }
        }
        memo.put(id, d);
        return d;
    }
}
