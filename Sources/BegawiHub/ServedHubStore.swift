public import BegawiCore
public import BegawiRules
public import Logging

/// What the hub daemon needs of its store beyond a site's exchange (`HubStore`): the checks before
/// it serves, the periodic housekeeping, publishing the feed between requests, and closing. The
/// `begawi` binary opens the store the configuration names (SQLite or PostgreSQL) and hands it to
/// `HubDaemon`, which names no storage engine; this library never imports the PostgreSQL one.
public protocol ServedHubStore: HubStore {
    /// Refuses to serve when the schema file's tables and rules (`declared`, `policy`, read from
    /// `schemaFile`) are not the published current version's, or when the store cannot serve them,
    /// saying what to do; logs what the open did that an operator must know of (rules recomputed,
    /// erasures applied again, a new epoch).
    func prepareToServe(declared: Schema?, policy: AccessPolicy?, schemaFile: String, logger: Logger) throws
    /// One housekeeping pass at `now`: the count of each concern's work, for the log line.
    func housekeep(now: UInt64, retention: HubRetention) throws -> [String: Int]
    /// How often the daemon publishes the changes that wait for a place in the feed (a push whose
    /// own publish lost its turn to another process), or nil when every push publishes its own.
    var publishInterval: Duration? { get }
    /// Publishes the changes that wait, if any (cheap when none do), waking the held pulls.
    func publishWaiting() throws
    /// Ends the store's use: its files or sessions are closed.
    func close() throws
}

extension SQLiteHubStore: ServedHubStore {
    /// The SQLite hub's start checks: the schema file must be the published current version, and a
    /// hub that ran with access rules is never served without them. Logs the sites the changed
    /// rules widened and the erasures brought into agreement with the log.
    public func prepareToServe(declared: Schema?, policy: AccessPolicy?, schemaFile: String, logger: Logger) throws {
        try requireServing(declared: declared, policy: policy, file: schemaFile)
        if policy == nil, try installedRulesDigest() != nil {
            // Without rules every site would receive every row: never by accident.
            throw BegawiError(.configuration, "this hub ran with access rules, but the schema file \(schemaFile) declares none; point `schema` in hub.toml at the file with the rules (config/handak-begawi.json)")
        }
        if let granted = rulesRecomputed { HubDaemon.logWidening(granted, logger: logger) }
        if let done = erasuresReconciled { HubDaemon.logErasures(done, logger: logger) }
    }

    /// Nil: a push's transaction gives its rows their places in the feed as it commits.
    public var publishInterval: Duration? { nil }

    /// Nothing waits on SQLite: a push's rows take their places in the feed at its commit.
    public func publishWaiting() throws {}
}

extension SchemaVersions {
    /// Refuses to serve declared tables and rules (`declared`, `policy`, read from `file`) other
    /// than the `current` published version's, in the SQLite hub's words, saying what to do:
    /// publish the file, or point `schema` at the published one. A hub with no published version is
    /// refused too (`begawi hub init` publishes the first). For stores outside this library.
    package static func requireServing(declared: Schema?, policy: AccessPolicy?, current: SchemaDocument?, file: String) throws {
        guard let current else {
            throw BegawiError(.configuration, "the hub's database has no published schema version yet; run `begawi hub init` (it publishes the schema file named in hub.toml) or `begawi hub schema publish \(file)`")
        }
        guard let declared, current.schema != declared || current.policy != policy else { return }
        throw SQLiteHubStore.unpublished(file: file, version: nil, current: current.version)
    }
}

extension SchemaVersions {
    /// Refuses a schema file (`document`, read from `file`) whose digest is not that of the
    /// `current` published version, naming both versions in the SQLite hub's words
    /// (`SQLiteHubStore.requirePublished`'s check, for stores outside this library).
    package static func requireCurrent(_ document: SchemaDocument, current: PublishedSchema?, file: String) throws {
        guard let current else {
            throw BegawiError(.configuration, "the hub's database has no published schema version yet; run `begawi hub init` (it publishes the schema file named in hub.toml) or `begawi hub schema publish \(file)`")
        }
        guard current.digest != document.digest else { return }
        throw SQLiteHubStore.unpublished(file: file, version: document.version, current: current.version)
    }
}

extension Blocking {
    /// The threads of both lanes: a store with sessions (PostgreSQL) opens at most this many, one
    /// per thread that may ask at once.
    public static var threads: Int { syncThreads + 1 }
}
