package import GRDB

/// The replica's pool lent to the program that owns the file (the hub), for the tables it keeps
/// beside the engine's: one pool per file, so that the owner's writes and the engine's take turns
/// on one writer instead of waiting on each other's locks.
extension Replica {
    /// Runs `body` in a read transaction on the replica's pool.
    package func ownerRead<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }

    /// Runs `body` in a write transaction on the replica's pool. Capture stays on: a write to a synced
    /// table is recorded by its triggers, as any program's is, and stamped by the next engine write.
    package func ownerWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.write(body)
    }
}
