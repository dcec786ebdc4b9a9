import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import Foundation
import Logging

/// The hub's database as hub.toml's `database` names it: a SQLite file (the default), or a
/// PostgreSQL database, `postgresql://ROLE@HOST[:PORT]/DATABASE` (also `postgres://`), whose
/// password, if the server asks for one, is in the file `database_password_file` names: never in
/// the URL, which logs and messages show. Every `begawi hub` command opens its store through this.
enum HubDatabase {
    case sqlite(path: String)
    case postgres(PostgresSettings)

    /// Whether `text` is a PostgreSQL URL rather than a file path.
    static func isURL(_ text: String) -> Bool {
        let lowered = text.lowercased()
        return lowered.hasPrefix("postgresql://") || lowered.hasPrefix("postgres://")
    }

    /// Parses the configuration's URL, refusing one that holds a password (the error never repeats it).
    static func settings(url: String) throws -> PostgresSettings {
        let settings = try PostgresSettings(url: url)
        guard settings.password == nil else {
            throw BegawiError(.configuration, "database holds a password in its URL, where logs and the process list would show it; remove it from the URL and put it alone in a file (mode 0600) named by database_password_file")
        }
        return settings
    }

    /// The configuration's database; for PostgreSQL the password is read from its file now.
    init(_ c: HubConfiguration) throws {
        guard c.databaseIsPostgres else {
            self = .sqlite(path: c.databasePath)
            return
        }
        var settings = try HubDatabase.settings(url: c.databasePath)
        if let file = c.databasePasswordFile { settings.password = try HubDatabase.password(in: file) }
        self = .postgres(settings)
    }

    /// The password in `path`: its first line, without the line's end. Errors name the file, never its content.
    static func password(in path: String) throws -> String {
        let file = try ConfigFile.secret(path, key: "database_password_file")
        guard let data = FileManager.default.contents(atPath: file) else {
            throw BegawiError(.configuration, "cannot read database_password_file \(file); check that it exists and that the hub's user may read it")
        }
        let lines = String(decoding: data, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        guard let first = lines.first, !first.isEmpty, lines.dropFirst().allSatisfy(\.isEmpty) else {
            throw BegawiError(.configuration, "database_password_file \(file) must hold the role's password alone on one line")
        }
        return String(first)
    }

    /// Whether this is the PostgreSQL store.
    var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// Opens the store `begawi hub run` serves, for the schema file `document` (read from `c.schemaPath`).
    /// PostgreSQL gets as many sessions as the hub's lanes have threads, and refuses a file that is
    /// not the published current version (on SQLite, `requirePublished` checks it before).
    func openServed(_ c: HubConfiguration, document: SchemaDocument, clock: any WallClock,
                    logger: Logger) throws -> any ServedHubStore {
        switch self {
        case .sqlite(let path):
            return try SQLiteHubStore(path: path, clock: clock, policy: document.policy, declared: document.schema,
                                      erasureLog: c.retention.erasureLog(database: path))
        case .postgres(let settings):
            let store = try PostgresHubStore(settings: settings, poolSize: Blocking.threads, clock: clock, policy: document.policy,
                                             erasureLog: c.retention.erasureLogPath, logger: logger)
            do {
                let current = store.currentSchemaVersion.flatMap { store.publishedSchema(version: $0) }
                try SchemaVersions.requireCurrent(document, current: current, file: c.schemaPath)
            } catch {
                store.close()
                throw error
            }
            return store
        }
    }

    /// Opens the store for one administrative command (the registry, health, schemas).
    func openAdmin() throws -> any HubAdminStore {
        switch self {
        case .sqlite(let path): return try SQLiteHubStore(path: path)
        case .postgres(let settings): return try PostgresHubStore(settings: settings, poolSize: 1)
        }
    }

    /// Every published schema version, oldest first.
    func published() throws -> [PublishedSchema] {
        switch self {
        case .sqlite(let path): return try SQLiteHubStore.published(at: path)
        case .postgres(let settings):
            let store = try PostgresHubStore(settings: settings, poolSize: 1)
            defer { store.close() }
            return try store.published()
        }
    }
}
