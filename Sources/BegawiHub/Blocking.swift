import NIOPosix

/// Runs blocking work (SQLite transactions, file I/O) off Swift's cooperative thread pool, which
/// has only as many threads as cores: a waiting transaction must not stall every other request.
///
/// Two lanes, each a bounded pool of threads: sync work (sessions, push, pull, sign-in) and the
/// office's dashboard and report reads on one thread of their own. A slow report (a large filter,
/// a held read) then waits behind itself only: it never takes the threads that push and pull need,
/// and however many dashboard pages are open, they hold one SQLite reader and one thread at most.
/// Work beyond a lane's threads waits in its queue instead of starting a thread per request.
///
/// The lanes live as long as the process, as NIO's own singleton pools do: they are started on
/// first use and hold no resource but their threads.
package enum Blocking {
    /// Push and pull hold the store's one writer or one of its readers; a few more threads than
    /// readers keep a push waiting for the writer from holding up pulls.
    static let syncThreads = 8
    static let syncLane = started(NIOThreadPool(numberOfThreads: syncThreads))
    /// The office's lane: one thread.
    static let officeLane = started(NIOThreadPool(numberOfThreads: 1))

    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await syncLane.runIfActive(body)
    }

    /// Runs a dashboard or report read in the office's lane, one at a time.
    package static func office<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await officeLane.runIfActive(body)
    }

    private static func started(_ pool: NIOThreadPool) -> NIOThreadPool {
        pool.start()
        return pool
    }
}
