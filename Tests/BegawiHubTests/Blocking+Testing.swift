@testable import BegawiHub

extension Blocking {
    /// Runs `body` with lanes of its own, shut down when it ends (as the server does when it stops),
    /// so that a test's threads never outlive it nor share another test's lanes.
    static func withLanes<T: Sendable>(_ body: (Blocking) async throws -> T) async throws -> T {
        let lanes = Blocking()
        do {
            let result = try await body(lanes)
            try await lanes.shutdown()
            return result
        } catch {
            try? await lanes.shutdown()
            throw error
        }
    }
}
