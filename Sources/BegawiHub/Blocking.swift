import Dispatch

/// Runs blocking work (SQLite transactions, file I/O) off Swift's cooperative thread pool, which
/// has only as many threads as cores: a waiting transaction must not stall every other request.
///
/// Two lanes: sync work (sessions, push, pull, sign-in) on a concurrent queue, and the office's
/// dashboard and report reads on one thread of their own. A slow report (a large filter, a held
/// read) then waits behind itself only: it never takes the threads that push and pull need, and
/// however many dashboard pages are open, they hold one SQLite reader and one thread at most.
package enum Blocking {
    static let queue = DispatchQueue(label: "begawi.hub.blocking", attributes: .concurrent)
    /// The office's lane: serial, so bounded to one thread.
    static let officeQueue = DispatchQueue(label: "begawi.hub.office")

    package static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: queue, body)
    }

    /// Runs a dashboard or report read in the office's lane, one at a time.
    package static func office<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await run(on: officeQueue, body)
    }

    static func run<T: Sendable>(on lane: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            lane.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
