package import GRDB
internal import BegawiCore

/// The replica's pool lent to the program that owns the file (the hub), for the tables it keeps
/// beside the engine's: one pool per file, so that the owner's writes and the engine's take turns
/// on one writer instead of waiting on each other's locks.
extension Replica {
    /// Runs `body` in a read transaction on the replica's pool.
    package func ownerRead<T>(_ body: (Database) throws -> T) throws -> T {
        try typed { try pool.read(body) }
    }

    /// Runs `body` in a write transaction on the replica's pool. Capture stays on: a write to a synced
    /// table is recorded by its triggers, as any program's is, and stamped by the next engine write.
    package func ownerWrite<T>(_ body: (Database) throws -> T) throws -> T {
        try typed { try pool.write(body) }
    }

    /// A stored value of a type Begawi never writes (a file edited by hand or damaged) is a clear
    /// `corrupted` error, not a crash and not GRDB's message, which would quote the row's values.
    private func typed<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch is RowDecodingError {
            throw BegawiError(.corrupted, "a value in \(path) has a type Begawi never writes there; the file was edited by hand or is damaged: restore it from a backup")
        }
    }
}
