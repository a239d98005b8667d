package dev.pgqueue.admin;

import dev.pgqueue.JobSnapshot;
import java.util.List;
import java.util.Optional;

/**
 * One page of jobs from {@link JobAdmin#find}.
 *
 * @param jobs       the jobs, in the page's order
 * @param nextCursor the cursor of the next page ({@link Page#after(String)}), or null on the last page
 */
public record JobPage(List<JobSnapshot> jobs, String nextCursor) {

    /**
     * @param jobs       the jobs, in the page's order
     * @param nextCursor the cursor of the next page, or null on the last page
     */
    public JobPage {
        jobs = List.copyOf(jobs);
    }

    /** {@return the next page's cursor, if there is a next page} */
    public Optional<String> next() {
        return Optional.ofNullable(nextCursor);
    }
}
