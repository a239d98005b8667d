/**
 * The storage SPI: {@link dev.pgqueue.spi.JobStore}, the operations a queue and a worker need from a
 * database, and {@link dev.pgqueue.spi.Attempt}, which lets a store complete a job inside the
 * handler's own transaction. Applications use a store (such as {@code JdbiJobStore}); they do not
 * call these operations themselves.
 */
package dev.pgqueue.spi;
