package dev.pgqueue.bench;

import java.lang.management.ManagementFactory;

/** The JVM's own CPU time (user + system, all threads), for CPU per job. */
final class Cpu {

    private Cpu() {}

    /** CPU time this process has used since it started, in nanoseconds; -1 if the JVM cannot tell. */
    static long processNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
    }
}
