internal import GRDB

extension Replica {
    /// Runs `body` in one engine transaction with a context for reads and writes beside the engine's rows.
    public func write<T>(_ body: (ReplicaContext) throws -> T) throws -> T {
        try engineWrite { tx in
            _ = try absorbOutbox(tx)
            return try body(ReplicaContext(tx: tx, replica: self))
        }
    }

    /// Runs `body` in one read transaction with a context.
    public func read<T>(_ body: (ReplicaContext) throws -> T) throws -> T {
        try pool.read { db in try body(ReplicaContext(tx: try engineTransaction(db), replica: self)) }
    }

    /// Takes and releases the write lock without writing: it waits for whatever holds the writer, so
    /// a watchdog probe that returns shows writes are not stuck.
    public func probeWriter() throws {
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "ROLLBACK")
        }
    }

    /// Folds the write-ahead log into the file and empties it, so that old page images (of erased or
    /// evicted rows) do not stay in the log.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
