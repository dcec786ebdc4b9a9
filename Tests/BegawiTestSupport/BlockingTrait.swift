public import Testing

/// Runs each test of a suite whose tests block their thread (processes, sleeps, long SQLite
/// loops) off the cooperative pool, at most a few at a time.
///
/// Swift Testing runs synchronous tests, and the synchronous parts of asynchronous ones, on the
/// cooperative pool, which has one thread per core: two blocking tests on a two-core machine hold
/// it whole, and every other test — a transport test timing a real transfer, a server waiting to
/// start — stalls behind them. Under this trait a test runs on a thread of its own, and no more of
/// them run at once than the pool had threads, so the suite's load stays what it was.
public struct BlockingTrait: SuiteTrait, TestTrait, TestScoping {
    /// Also applies to every test inside the suite it is attached to.
    public var isRecursive: Bool { true }

    /// Waits for a free slot, then runs the test with the blocking pool as its executor.
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await BlockingSlots.shared.acquire()
        do {
            try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) { try await function() }
        } catch {
            await BlockingSlots.shared.release()
            throw error
        }
        await BlockingSlots.shared.release()
    }
}

extension Trait where Self == BlockingTrait {
    /// The tests block their thread: run them off the cooperative pool (see `BlockingTrait`).
    public static var blocking: Self { BlockingTrait() }
}
