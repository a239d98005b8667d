package dev.pgqueue.spring;

import dev.pgqueue.JobStatus;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code pgqueue.*} properties. Values are checked when the beans are built, by the same rules as
 * {@link dev.pgqueue.jdbi.JdbiJobStore.Builder} and {@link dev.pgqueue.Worker.Builder}; a bad value fails
 * the start with a message naming the property. An unset worker option keeps the
 * {@link dev.pgqueue.Worker} default (its {@code DEFAULT_*} constants).
 */
@ConfigurationProperties(prefix = PgQueueProperties.PREFIX)
public class PgQueueProperties {

    /** The prefix of every pgqueue property: {@value}. */
    public static final String PREFIX = "pgqueue";

    /** Schema that holds pgqueue's tables (a lower-case SQL identifier). */
    private String schema = "public";

    /**
     * Whether to apply pgqueue's pending migrations when the application starts. Off: only check that
     * the schema is migrated, and fail the start if not.
     */
    private boolean migrate = true;

    /**
     * Whether workers LISTEN for the insert trigger's NOTIFY, which wakes them within milliseconds. Turn
     * it off behind a transaction-mode pooler (PgBouncer, Supavisor on port 6543): workers then poll.
     */
    private boolean notifications = true;

    /** The worker's options. */
    private final WorkerProperties worker = new WorkerProperties();

    /** The dashboard's options. */
    private final DashboardProperties dashboard = new DashboardProperties();

    /** pgqueue's Micrometer metrics ({@code queue-micrometer} on the class path). */
    private final MetricsProperties metrics = new MetricsProperties();

    /** Creates the properties with every value at its default. */
    public PgQueueProperties() {
    }

    /** {@return the schema that holds pgqueue's tables} */
    public String getSchema() {
        return schema;
    }

    /**
     * Sets the schema that holds pgqueue's tables.
     *
     * @param schema a lower-case SQL identifier
     */
    public void setSchema(String schema) {
        this.schema = schema;
    }

    /** {@return whether pending migrations are applied at start} */
    public boolean isMigrate() {
        return migrate;
    }

    /**
     * Sets whether pending migrations are applied at start.
     *
     * @param migrate false to only check the schema's version
     */
    public void setMigrate(boolean migrate) {
        this.migrate = migrate;
    }

    /** {@return whether workers listen for NOTIFY} */
    public boolean isNotifications() {
        return notifications;
    }

    /**
     * Sets whether workers listen for NOTIFY.
     *
     * @param notifications false to poll only
     */
    public void setNotifications(boolean notifications) {
        this.notifications = notifications;
    }

    /** {@return the worker's options} */
    public WorkerProperties getWorker() {
        return worker;
    }

    /** {@return the metrics' options} */
    public MetricsProperties getMetrics() {
        return metrics;
    }

    /** {@return the dashboard's options} */
    public DashboardProperties getDashboard() {
        return dashboard;
    }

    /** The {@code pgqueue.metrics.*} properties (with queue-micrometer and a MeterRegistry bean). */
    public static class MetricsProperties {

        /** Whether the worker's counters and timers go to the application's MeterRegistry. */
        private boolean enabled = true;

        /**
         * Whether this process samples the queue gauges (depth, oldest pending age, paused): one
         * statistics query over the job table per interval, so turn it on in one process of the cluster.
         */
        private boolean queueGauges;

        /** How often the queue gauges are sampled. */
        private Duration queueGaugesInterval = Duration.ofSeconds(15);

        /** Creates the metrics' properties with every value at its default. */
        public MetricsProperties() {
        }

        /** {@return whether the worker's metrics are recorded} */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the worker's metrics are recorded.
         *
         * @param enabled false to record none
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** {@return whether this process samples the queue gauges} */
        public boolean isQueueGauges() {
            return queueGauges;
        }

        /**
         * Sets whether this process samples the queue gauges.
         *
         * @param queueGauges true in one process of the cluster
         */
        public void setQueueGauges(boolean queueGauges) {
            this.queueGauges = queueGauges;
        }

        /** {@return how often the queue gauges are sampled} */
        public Duration getQueueGaugesInterval() {
            return queueGaugesInterval;
        }

        /**
         * Sets how often the queue gauges are sampled.
         *
         * @param queueGaugesInterval the interval, such as {@code 15s}
         */
        public void setQueueGaugesInterval(Duration queueGaugesInterval) {
            this.queueGaugesInterval = queueGaugesInterval;
        }
    }

    /** The {@code pgqueue.dashboard.*} properties (with queue-dashboard and a servlet web server). */
    public static class DashboardProperties {

        /** Whether to mount pgqueue's dashboard in this application's servlet container. */
        private boolean enabled;

        /** Path the dashboard is mounted at. */
        private String path = "/pgqueue";

        /** Whether every action (retry, cancel, pause, ...) is off, whatever the Authorizer bean says. */
        private boolean readOnly;

        /** Creates the dashboard's properties with every value at its default. */
        public DashboardProperties() {
        }

        /** {@return whether the dashboard is mounted} */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether the dashboard is mounted.
         *
         * @param enabled true to mount it
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** {@return the path the dashboard is mounted at} */
        public String getPath() {
            return path;
        }

        /**
         * Sets the path the dashboard is mounted at.
         *
         * @param path a path such as {@code /pgqueue}
         */
        public void setPath(String path) {
            this.path = path;
        }

        /** {@return whether every action is off} */
        public boolean isReadOnly() {
            return readOnly;
        }

        /**
         * Sets whether every action is off.
         *
         * @param readOnly true for a dashboard that only shows
         */
        public void setReadOnly(boolean readOnly) {
            this.readOnly = readOnly;
        }
    }

    /** The {@code pgqueue.worker.*} properties. */
    public static class WorkerProperties {

        /**
         * Whether to run a worker in this application. It runs only when at least one
         * JobHandlerRegistration bean exists.
         */
        private boolean enabled = true;

        /**
         * Queues to serve, each with how many jobs it runs at once, e.g. pgqueue.worker.queues.default=8.
         * Empty: the queue "default" with 10. A queue left out is not served, so list "default" too if
         * job types enqueue there.
         */
        private Map<String, Integer> queues = new LinkedHashMap<>();

        /** Lease of a claimed job; a crashed worker's job runs again after it. Default 60s. */
        private Duration leaseDuration;

        /** Interval between lease extensions of running jobs; shorter than the lease. Default 15s. */
        private Duration heartbeatInterval;

        /** Interval between polls of an idle worker. Default 2s. */
        private Duration pollInterval;

        /** Most jobs claimed in one round trip. Default 500. */
        private Integer batchSize;

        /**
         * How long shutdown lets running jobs finish before interrupting them and handing them back.
         * Must end within spring.lifecycle.timeout-per-shutdown-phase: at most that minus 1.5s. Default:
         * the worker's default (25s), or less when the phase timeout requires it.
         */
        private Duration shutdownTimeout;

        /**
         * How long to keep finished jobs, by final status (completed, failed, cancelled), e.g.
         * pgqueue.worker.retention.completed=7d. Default: keep every job.
         */
        private Map<JobStatus, Duration> retention = new EnumMap<>(JobStatus.class);

        /** This worker's id in the table's lease columns and logs. Default: host, process id and a random suffix. */
        private String workerId;

        /** Creates the worker's properties with every value at its default. */
        public WorkerProperties() {
        }

        /** {@return whether a worker runs in this application} */
        public boolean isEnabled() {
            return enabled;
        }

        /**
         * Sets whether a worker runs in this application.
         *
         * @param enabled false for an application that only enqueues
         */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** {@return the queues to serve, each with its concurrency; empty for the default queue} */
        public Map<String, Integer> getQueues() {
            return queues;
        }

        /**
         * Sets the queues to serve.
         *
         * @param queues each queue's name with the jobs it runs at once
         */
        public void setQueues(Map<String, Integer> queues) {
            this.queues = queues;
        }

        /** {@return the lease of a claimed job, or null for the worker's default} */
        public Duration getLeaseDuration() {
            return leaseDuration;
        }

        /**
         * Sets the lease of a claimed job.
         *
         * @param leaseDuration the lease; positive
         */
        public void setLeaseDuration(Duration leaseDuration) {
            this.leaseDuration = leaseDuration;
        }

        /** {@return the interval between lease extensions, or null for the worker's default} */
        public Duration getHeartbeatInterval() {
            return heartbeatInterval;
        }

        /**
         * Sets the interval between lease extensions.
         *
         * @param heartbeatInterval the interval; positive, shorter than the lease
         */
        public void setHeartbeatInterval(Duration heartbeatInterval) {
            this.heartbeatInterval = heartbeatInterval;
        }

        /** {@return the interval between polls, or null for the worker's default} */
        public Duration getPollInterval() {
            return pollInterval;
        }

        /**
         * Sets the interval between polls of an idle worker.
         *
         * @param pollInterval the interval; positive
         */
        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        /** {@return the most jobs claimed in one round trip, or null for the worker's default} */
        public Integer getBatchSize() {
            return batchSize;
        }

        /**
         * Sets the most jobs claimed in one round trip.
         *
         * @param batchSize at least 1
         */
        public void setBatchSize(Integer batchSize) {
            this.batchSize = batchSize;
        }

        /** {@return the shutdown timeout, or null to derive it from Spring's shutdown phase timeout} */
        public Duration getShutdownTimeout() {
            return shutdownTimeout;
        }

        /**
         * Sets how long shutdown lets running jobs finish.
         *
         * @param shutdownTimeout the timeout; not negative, within Spring's shutdown phase timeout
         */
        public void setShutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
        }

        /** {@return how long finished jobs are kept, by final status} */
        public Map<JobStatus, Duration> getRetention() {
            return retention;
        }

        /**
         * Sets how long finished jobs are kept, by final status.
         *
         * @param retention completed, failed or cancelled, each with how long to keep such jobs
         */
        public void setRetention(Map<JobStatus, Duration> retention) {
            this.retention = retention;
        }

        /** {@return this worker's id, or null for a generated one} */
        public String getWorkerId() {
            return workerId;
        }

        /**
         * Sets this worker's id.
         *
         * @param workerId the id; not blank
         */
        public void setWorkerId(String workerId) {
            this.workerId = workerId;
        }
    }
}
