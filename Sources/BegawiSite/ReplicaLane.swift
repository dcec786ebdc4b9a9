public import BegawiCore
public import BegawiReplica
import Foundation
import NIOPosix

/// A replica and the one thread its SQLite transactions run on: a transaction that waits for a
/// staff application's lock must not hold one of the few threads of Swift's cooperative pool.
///
/// `@unchecked Sendable`: the replica is used only by bodies run on `pool`, whose single thread
/// runs them one at a time; the copy of its tables is guarded by a lock; the rest is immutable.
public final class ReplicaLane: @unchecked Sendable {
    /// The replica; touch it only inside `run` (`migrate` replaces it, on the lane's thread too).
    var replica: Replica
    let pool: NIOThreadPool
    /// This replica's own id (immutable, so readable off the lane).
    public let replicaID: String
    /// The site that owns the replica.
    public let siteID: String
    private let lock = NSLock()
    private var installed: Schema
    /// The synced tables installed in the replica, as of its last migration (readable off the lane).
    public var schema: Schema { lock.withLock { installed } }

    init(replica: Replica, pool: NIOThreadPool) {
        self.replica = replica
        self.pool = pool
        replicaID = replica.replicaID
        siteID = replica.siteID
        installed = replica.schema
    }

    /// Runs `body` with the replica on the lane's thread, after the work queued before it. Once
    /// queued, the body runs even if the task is cancelled meanwhile (as a transaction run in place
    /// would): the status file is written and the replica closed when the daemon stops.
    public func run<T: Sendable>(_ body: @escaping @Sendable (Replica) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            pool.submit { [self] state in
                guard case .active = state else { return continuation.resume(throwing: NIOThreadPoolError.ThreadPoolInactive()) }
                continuation.resume(with: Result { try body(replica) })
            }
        }
    }

    /// Runs `body`, which migrates the replica and returns the migrated one, on the lane's thread, and
    /// keeps the migrated replica for the work queued after it (the old one must not be used again).
    public func migrate(_ body: @escaping @Sendable (Replica) throws -> Replica) async throws {
        let _: Bool = try await run { [self] current in
            replica = try body(current)
            let tables = replica.schema
            lock.withLock { installed = tables }
            return true
        }
    }

    /// Opens the replica at `path` on a lane of its own, runs `body`, then closes the replica and
    /// stops the lane's thread, whether `body` returns or throws.
    public static func withReplica<T>(at path: String, clock: any WallClock = SystemWallClock(),
                                      _ body: (ReplicaLane) async throws -> T) async throws -> T {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        do {
            let lane = try await pool.runIfActive { Opened(replica: try Replica.open(at: path, clock: clock)) }.lane(pool)
            do {
                let result = try await body(lane)
                try await lane.run { try $0.close() }
                try await pool.shutdownGracefully()
                return result
            } catch {
                _ = try? await lane.run { try $0.close() }
                throw error
            }
        } catch {
            try? await pool.shutdownGracefully()
            throw error
        }
    }

    /// Carries a replica just opened on the lane's thread back to the caller.
    private struct Opened: @unchecked Sendable {
        let replica: Replica
        func lane(_ pool: NIOThreadPool) -> ReplicaLane { ReplicaLane(replica: replica, pool: pool) }
    }
}
