/**
 * The PostgreSQL store: {@link dev.pgqueue.jdbi.JdbiJobStore} (over JDBI), the queue bound to it,
 * {@link dev.pgqueue.jdbi.JdbiJobQueue}, {@link dev.pgqueue.jdbi.SchemaMigrator}, which creates and
 * upgrades the tables, and {@link dev.pgqueue.jdbi.TransactionalJobHandler}, whose writes commit
 * together with the job's completion.
 */
package dev.pgqueue.jdbi;
