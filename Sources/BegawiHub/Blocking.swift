import NIOPosix

/// The hub's lanes for blocking work (SQLite transactions, file I/O), off Swift's cooperative
/// thread pool, which has only as many threads as cores: a waiting transaction must not stall
/// every other request.
///
/// Two lanes, each a bounded pool of threads: sync work (sessions, push, pull, sign-in) and the
/// office's dashboard and report reads on one thread of their own. A slow report (a large filter,
/// a held read) then waits behind itself only: it never takes the threads that push and pull need,
/// and however many dashboard pages are open, they hold one SQLite reader and one thread at most.
/// Work beyond a lane's threads waits in its queue instead of starting a thread per request.
///
/// The lanes belong to the hub's run: started when the daemon is made (its watchdog probes through
/// them from the group's start), shut down by the server once it has drained its requests.
public final class Blocking: Sendable {
    /// Push and pull hold the store's one writer or one of its readers; a few more threads than
    /// readers keep a push waiting for the writer from holding up pulls.
    static let syncThreads = 8
    let syncLane = NIOThreadPool(numberOfThreads: syncThreads)
    /// The office's lane: one thread.
    let officeLane = NIOThreadPool(numberOfThreads: 1)

    /// Starts both lanes' threads; `shutdown()` stops them.
    public init() {
        syncLane.start()
        officeLane.start()
    }

    /// Runs sync work (sessions, push, pull, sign-in) in the sync lane.
    package func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await syncLane.runIfActive(body)
    }

    /// Runs a dashboard or report read in the office's lane, one at a time.
    package func office<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await officeLane.runIfActive(body)
    }

    /// Waits for the work in hand to finish and stops the threads; work submitted after fails.
    package func shutdown() async throws {
        try await syncLane.shutdownGracefully()
        try await officeLane.shutdownGracefully()
    }

    /// Stops the threads without waiting: a hub that failed before it could run.
    func abandon() {
        syncLane.shutdownGracefully { _ in }
        officeLane.shutdownGracefully { _ in }
    }
}
