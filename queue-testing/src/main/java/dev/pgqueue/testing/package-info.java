/**
 * Test helpers for applications that use pgqueue: {@link dev.pgqueue.testing.QueueTester} asserts
 * what was enqueued, runs one job through its handler and drains due jobs, and
 * {@link dev.pgqueue.testing.TestClock} moves time without sleeping. Add the {@code queue-testing}
 * artifact in test scope only; it is not part of the production jars.
 */
package dev.pgqueue.testing;
