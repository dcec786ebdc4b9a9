import Dispatch

/// Runs blocking work (SQLite transactions, file I/O) off Swift's cooperative thread pool, which
/// has only as many threads as cores: a waiting transaction must not stall every other request.
enum Blocking {
    static let queue = DispatchQueue(label: "begawi.hub.blocking", attributes: .concurrent)

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
