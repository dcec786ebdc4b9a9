import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules

/// What `begawi hub duplicates`, `trace-participant` and `erase-participant` do with either store:
/// both give the same answers, in the same words.
protocol ParticipantStore {
    /// The key of the person with this identity number (checked as the schema's `key_from` says).
    func derivedKey(for identity: String) throws -> String
    /// Removes a person and the rows linked to them everywhere; what was removed and who was told.
    func erase(key: String) throws -> ErasureReport
    /// Where a person's data went, oldest first; no personal values.
    func trace(key: String) throws -> [TraceEntry]
    /// People likely registered twice under a mistyped identity number.
    func duplicates(maxDigits: Int) throws -> [DuplicateCandidate]
    /// Ends the store's use.
    func close() throws
}

extension SQLiteHubStore: ParticipantStore {}
extension PostgresHubStore: ParticipantStore {}

extension HubCommand {
    /// Opens the hub with the schema file's rules for the commands about participants, on either
    /// store. SQLite brings its database and erasure log into agreement at open (and logs it); on
    /// PostgreSQL the hub's start does (`hub run`), and `erase-participant` appends to the log that
    /// `erasure_log` names, refusing without one. A schema file that is not the published current
    /// version is refused on PostgreSQL as `hub run` refuses it.
    static func openParticipantStore(_ options: Options) throws -> any ParticipantStore {
        let c = try HubConfigFile.load(options.config)
        let document = try SchemaFile.document(c.schemaPath)
        switch try HubDatabase(c) {
        case .sqlite(let path):
            let store = try SQLiteHubStore(path: path, policy: document.policy, declared: document.schema,
                                           erasureLog: c.retention.erasureLog(database: path))
            if let done = store.erasuresReconciled { HubDaemon.logErasures(done, logger: Logs.logger("begawi.hub")) }
            return store
        case .postgres(let settings):
            let store = try PostgresHubStore(settings: settings, poolSize: 1, policy: document.policy, erasureLog: c.retention.erasureLogPath)
            do {
                try store.requireServing(declared: document.schema, policy: document.policy, file: c.schemaPath)
            } catch {
                store.close()
                throw error
            }
            return store
        }
    }
}
