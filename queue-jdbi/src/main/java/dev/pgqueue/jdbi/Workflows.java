package dev.pgqueue.jdbi;

import dev.pgqueue.EnqueueOptions.DependencyFailure;
import dev.pgqueue.EnqueueResult;
import dev.pgqueue.JobSnapshot;
import dev.pgqueue.JobStatus;
import dev.pgqueue.ValidationException;
import dev.pgqueue.spi.JobStore.NewJob;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Enqueue and read for workflows (migration V3): jobs that wait for others. Kept apart from
 * {@link JobStatements}' plain inserts, which jobs without dependencies, dependents or partition keys
 * still take unchanged.
 *
 * <p>Why the enqueue is safe against a dependency finishing at the same moment: the existing
 * dependencies are locked first (in id order) and their statuses read under the lock; each new job's
 * status ({@code waiting}, {@code pending}, or {@code cancelled} when a dependency failed already and
 * it cancels) and its count of unfinished dependencies are computed from those statuses; the jobs,
 * their dependency rows and the dependencies' {@code has_dependents} flags are written, and the locks
 * are held until commit. A dependency that finishes later does so after this commit, so the
 * {@code job_queue_resolve_dependents} trigger sees the new rows and releases the dependents. The
 * same rules are in {@code job_queue_enqueue_after()}, for SQL producers.
 */
final class Workflows {

    private static final Set<JobStatus> UNFINISHED = EnumSet.of(JobStatus.WAITING, JobStatus.PENDING, JobStatus.PROCESSING);
    private static final Set<JobStatus> DEFAULT_UNIQUE_STATES = EnumSet.of(JobStatus.PENDING, JobStatus.PROCESSING);
    /** SQLSTATE deadlock_detected. */
    private static final String DEADLOCK = "40P01";
    /** How often the dependencies' lock is tried when it deadlocks (with pauses of up to 640 ms). */
    static final int MAX_LOCK_TRIES = 10;

    private final JobStatements statements;
    private final NamedSql insertFull;
    private final String lockDependencies;
    private final String insertDependencies;
    private final String dependencies;

    Workflows(JobStatements statements, String schema) {
        this.statements = statements;
        this.insertFull = SqlFiles.loadNamed("insert-full", schema);
        this.lockDependencies = SqlFiles.load("lock-dependencies", schema);
        this.insertDependencies = SqlFiles.load("insert-dependencies", schema);
        this.dependencies = SqlFiles.load("dependencies", schema);
    }

    /** Whether the job needs more than the plain inserts offer (dependencies or a partition key). */
    static boolean isExtended(NewJob job) {
        return !job.dependsOn().isEmpty() || job.partitionKey() != null;
    }

    /**
     * Which jobs of an insert take this path: those with dependencies or a partition key, and those
     * another job of the insert depends on (they must be marked as having dependents). Null when
     * none does, the common case, decided in one pass.
     */
    static boolean[] extended(List<NewJob> jobs) {
        boolean any = false;
        for (NewJob job : jobs) {
            if (isExtended(job)) {
                any = true;
                break;
            }
        }
        if (!any) {
            return null;
        }
        Set<UUID> referenced = new HashSet<>();
        jobs.forEach(job -> referenced.addAll(job.dependsOn()));
        boolean[] extended = new boolean[jobs.size()];
        for (int k = 0; k < jobs.size(); k++) {
            extended[k] = isExtended(jobs.get(k)) || referenced.contains(jobs.get(k).id());
        }
        return extended;
    }

    /** How one new job starts out. */
    private record Start(JobStatus status, Integer waitingFor, String onFailure, boolean hasDependents, String reason) {}

    /** An existing dependency as locked. */
    private record Locked(String type, JobStatus status) {}

    /**
     * Inserts the jobs (all or none: the caller runs this in a transaction) and their dependency rows;
     * returns one result per job, in order.
     *
     * @throws ValidationException if a dependency does not exist, the jobs depend on each other in a
     *     cycle, or a job that another one depends on has a dedupe key; nothing is written then
     */
    List<EnqueueResult> insert(Connection c, List<NewJob> jobs, Instant now) throws SQLException {
        Map<UUID, NewJob> byId = new HashMap<>(jobs.size() * 2);
        jobs.forEach(job -> byId.put(job.id(), job));
        Set<UUID> dependedOn = new HashSet<>();
        Set<UUID> external = new LinkedHashSet<>();
        for (NewJob job : jobs) {
            for (UUID dep : job.dependsOn()) {
                if (byId.containsKey(dep)) {
                    dependedOn.add(dep);
                } else {
                    external.add(dep);
                }
            }
        }
        for (UUID id : dependedOn) {
            NewJob job = byId.get(id);
            if (job.dedupeKey() != null) {
                throw new ValidationException("dependsOn",
                        "jobs without a dedupe key when enqueued together with their dependents (it might be a duplicate)",
                        described(job.type() + "/" + id + " with dedupe key " + job.dedupeKey()));
            }
        }
        List<NewJob> ordered = dependenciesFirst(jobs, byId);

        Map<UUID, Locked> locked = lock(c, external);
        if (locked.size() < external.size()) {
            List<UUID> missing = external.stream().filter(id -> !locked.containsKey(id)).sorted().toList();
            throw new ValidationException("dependsOn", "ids of existing jobs", described(missing + " (no such job)"));
        }

        Map<UUID, Start> starts = new HashMap<>(jobs.size() * 2);
        for (NewJob job : ordered) {
            starts.put(job.id(), start(job, byId, locked, starts, dependedOn.contains(job.id())));
        }
        List<NewJob> toInsert = new ArrayList<>(jobs.size());
        for (NewJob job : jobs) {
            toInsert.add(holdKeyWhileWaiting(job, starts.get(job.id()).status()));
        }
        List<EnqueueResult> results = statements.insertResolving(c, toInsert, now, insertFull, (columns, batch) -> {
            List<Start> s = batch.stream().map(job -> starts.get(job.id())).toList();
            columns.setArray("status", c.createArrayOf("text", s.stream().map(x -> x.status().sqlValue()).toArray(String[]::new)))
                    .setArray("waiting_for", c.createArrayOf("int4", s.stream().map(Start::waitingFor).toArray(Integer[]::new)))
                    .setArray("on_dependency_failure", c.createArrayOf("text", s.stream().map(Start::onFailure).toArray(String[]::new)))
                    .setArray("has_dependents", c.createArrayOf("bool",
                            s.stream().map(x -> x.hasDependents() ? Boolean.TRUE : null).toArray(Boolean[]::new)))
                    .setArray("partition_key", c.createArrayOf("text", batch.stream().map(NewJob::partitionKey).toArray(String[]::new)))
                    .setArray("error_message", c.createArrayOf("text", s.stream().map(Start::reason).toArray(String[]::new)));
        });

        List<UUID> edgeJobs = new ArrayList<>();
        List<UUID> edgeDeps = new ArrayList<>();
        for (int k = 0; k < jobs.size(); k++) {
            if (!results.get(k).duplicate()) {
                for (UUID dep : jobs.get(k).dependsOn()) {
                    edgeJobs.add(jobs.get(k).id());
                    edgeDeps.add(dep);
                }
            }
        }
        if (!edgeJobs.isEmpty()) {
            try (PreparedStatement ps = c.prepareStatement(insertDependencies)) {
                ps.setArray(1, c.createArrayOf("uuid", edgeJobs.toArray(UUID[]::new)));
                ps.setArray(2, c.createArrayOf("uuid", edgeDeps.toArray(UUID[]::new)));
                ps.executeUpdate();
            }
        }
        return results;
    }

    /** The rows of the jobs {@code id} depends on, oldest first. */
    List<JobSnapshot> dependencies(Connection c, UUID id) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(dependencies)) {
            ps.setObject(1, id);
            List<JobSnapshot> found = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.add(JobStatements.snapshot(rs));
                }
            }
            return found;
        }
    }

    /**
     * Locks the existing dependencies (lock-dependencies.sql), under a savepoint. Enqueues lock in id
     * order, so they cannot deadlock with each other, but a worker recording a mixed batch of outcomes
     * (one statement per kind, in one transaction) locks its jobs kind by kind; when both hold one of
     * the other's rows, PostgreSQL aborts one. If that is this statement, it is rolled back to the
     * savepoint (which releases what it locked, and leaves a caller's transaction usable) and tried
     * again after a short pause; the worker retries its batch likewise when it is the one aborted.
     */
    private Map<UUID, Locked> lock(Connection c, Set<UUID> ids) throws SQLException {
        if (ids.isEmpty()) {
            return new HashMap<>();
        }
        for (int attempt = 1; ; attempt++) {
            Savepoint savepoint = c.setSavepoint();
            try {
                Map<UUID, Locked> locked = lockOnce(c, ids);
                c.releaseSavepoint(savepoint);
                return locked;
            } catch (SQLException e) {
                if (!DEADLOCK.equals(e.getSQLState()) || attempt >= MAX_LOCK_TRIES) {
                    throw e;
                }
                c.rollback(savepoint);
                pause(attempt);
            }
        }
    }

    private static void pause(int attempt) throws SQLException {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(5, 20L << Math.min(attempt, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting to lock the dependencies again", e);
        }
    }

    private Map<UUID, Locked> lockOnce(Connection c, Set<UUID> ids) throws SQLException {
        Map<UUID, Locked> locked = new HashMap<>(ids.size() * 2);
        try (PreparedStatement ps = c.prepareStatement(lockDependencies)) {
            ps.setArray(1, c.createArrayOf("uuid", ids.toArray(UUID[]::new)));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    locked.put(rs.getObject(1, UUID.class), new Locked(rs.getString(2), JobStatus.fromSql(rs.getString(3))));
                }
            }
        }
        return locked;
    }

    /**
     * The job's status at insert from its dependencies' (locked ones, or jobs of this insert already
     * decided): cancelled if one failed or was cancelled and the job cancels then; else waiting for
     * the unfinished ones, or pending if there are none.
     */
    private static Start start(NewJob job, Map<UUID, NewJob> byId, Map<UUID, Locked> locked, Map<UUID, Start> decided,
            boolean hasDependents) {
        if (job.dependsOn().isEmpty()) {
            return new Start(JobStatus.PENDING, null, null, hasDependents, null);
        }
        DependencyFailure policy = job.onDependencyFailure() != null ? job.onDependencyFailure() : DependencyFailure.CANCEL;
        int unfinished = 0;
        String failure = null;
        for (UUID dep : job.dependsOn()) {
            JobStatus status;
            String type;
            if (byId.containsKey(dep)) {
                status = decided.get(dep).status();
                type = byId.get(dep).type();
            } else {
                status = locked.get(dep).status();
                type = locked.get(dep).type();
            }
            if (UNFINISHED.contains(status)) {
                unfinished++;
            } else if (status != JobStatus.COMPLETED && failure == null) {
                failure = "cancelled: its dependency " + type + "/" + dep + " "
                        + (status == JobStatus.FAILED ? "failed" : "was cancelled");
            }
        }
        String onFailure = policy.name().toLowerCase(java.util.Locale.ROOT);
        if (failure != null && policy == DependencyFailure.CANCEL) {
            return new Start(JobStatus.CANCELLED, unfinished, onFailure, hasDependents, failure);
        }
        return new Start(unfinished > 0 ? JobStatus.WAITING : JobStatus.PENDING, unfinished, onFailure, hasDependents, null);
    }

    /**
     * A job that starts waiting holds its dedupe key while it waits, so that it can always become
     * pending: its unique states gain {@code waiting}.
     */
    private static NewJob holdKeyWhileWaiting(NewJob job, JobStatus status) {
        if (job.dedupeKey() == null || status != JobStatus.WAITING) {
            return job;
        }
        Set<JobStatus> states = EnumSet.noneOf(JobStatus.class);
        states.addAll(job.uniqueStates() != null ? job.uniqueStates() : DEFAULT_UNIQUE_STATES);
        states.add(JobStatus.WAITING);
        return job.toBuilder().uniqueStates(states).build();
    }

    /**
     * The jobs ordered so that each comes after the jobs of the insert it depends on (Kahn's
     * algorithm).
     *
     * @throws ValidationException naming a cycle, if the jobs depend on each other in one
     */
    private static List<NewJob> dependenciesFirst(List<NewJob> jobs, Map<UUID, NewJob> byId) {
        Map<UUID, Integer> waitingFor = new HashMap<>(jobs.size() * 2);
        Map<UUID, List<UUID>> dependents = new HashMap<>();
        for (NewJob job : jobs) {
            int internal = 0;
            for (UUID dep : job.dependsOn()) {
                if (dep.equals(job.id())) {
                    throw new ValidationException("dependsOn", "free of cycles",
                            described(job.type() + "/" + job.id() + " depends on itself"));
                }
                if (byId.containsKey(dep)) {
                    internal++;
                    dependents.computeIfAbsent(dep, d -> new ArrayList<>()).add(job.id());
                }
            }
            waitingFor.put(job.id(), internal);
        }
        Deque<UUID> ready = new ArrayDeque<>();
        jobs.forEach(job -> {
            if (waitingFor.get(job.id()) == 0) {
                ready.add(job.id());
            }
        });
        List<NewJob> ordered = new ArrayList<>(jobs.size());
        while (!ready.isEmpty()) {
            UUID id = ready.poll();
            ordered.add(byId.get(id));
            for (UUID dependent : dependents.getOrDefault(id, List.of())) {
                if (waitingFor.merge(dependent, -1, Integer::sum) == 0) {
                    ready.add(dependent);
                }
            }
        }
        if (ordered.size() < jobs.size()) {
            throw new ValidationException("dependsOn", "free of cycles", described(describeCycle(jobs, byId, waitingFor)));
        }
        return ordered;
    }

    /** A value for a {@link ValidationException} message that is a description, not a string given (not quoted). */
    private static Object described(String text) {
        return new Object() {
            @Override
            public String toString() {
                return text;
            }
        };
    }

    /** One cycle among the jobs Kahn's algorithm could not order, as "a/1 → b/2 → a/1". */
    private static String describeCycle(List<NewJob> jobs, Map<UUID, NewJob> byId, Map<UUID, Integer> waitingFor) {
        NewJob at = jobs.stream().filter(job -> waitingFor.get(job.id()) > 0).findFirst().orElseThrow();
        List<UUID> path = new ArrayList<>();
        Map<UUID, Integer> seenAt = new HashMap<>();
        while (!seenAt.containsKey(at.id())) {
            seenAt.put(at.id(), path.size());
            path.add(at.id());
            at = at.dependsOn().stream()
                    .filter(dep -> byId.containsKey(dep) && waitingFor.get(dep) > 0)
                    .map(byId::get)
                    .findFirst()
                    .orElseThrow();
        }
        List<UUID> cycle = new ArrayList<>(path.subList(seenAt.get(at.id()), path.size()));
        cycle.add(at.id());
        StringBuilder text = new StringBuilder();
        for (UUID id : cycle) {
            if (text.length() > 0) {
                text.append(" depends on ");
            }
            text.append(byId.get(id).type()).append('/').append(id);
        }
        return text.toString();
    }
}
