import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// What the store-level tests need of a hub store beyond `HubStore` (the registry the `begawi hub`
/// commands write); both stores have it with the same signatures.
protocol RegistryHubStore: HubStore {
    func addSite(id: String, kind: SiteKind, name: String) throws -> SiteCredential
    func revokeSite(id: String) throws
    func rotateCredential(id: String) throws -> SiteCredential
    func credentialGeneration(site: String) throws -> Int64?
    func sites() throws -> [SiteRecord]
    /// The live rows of a synced table, by key.
    func rows(of table: String) throws -> [String: [SQLValue]]
    /// The hub's cursor for a replica's pushes.
    func cursor(forReplica id: String) throws -> ExchangeCursor
    /// The conflict ledger, oldest first, each entry as one line without its id and time (they
    /// differ between stores by nature).
    func ledger() throws -> [String]
}

extension SQLiteHubStore: RegistryHubStore {
    func ledger() throws -> [String] {
        try conflicts().map { e in
            "\(e.table)/\(e.key).\(e.column): \(e.loserValue) \(e.loser) lost to \(e.winnerIsDelete ? "delete" : "\(e.winnerValue)") \(e.winner)"
        }
    }
}

extension PostgresHubStore: RegistryHubStore {
    func ledger() throws -> [String] {
        try conflicts().map { e in
            "\(e.table)/\(e.key).\(e.column): \(e.loserValue) \(e.loser) lost to \(e.winnerIsDelete ? "delete" : "\(e.winnerValue)") \(e.winner)"
        }
    }
}

/// The store a test body runs against: the issue asks that every test of the hub's behaviour runs
/// against both stores, with the store as a parameter. PostgreSQL joins when a server is named
/// (`BEGAWI_TEST_POSTGRES`); SQLite always runs.
enum StoreKind: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// The stores this run can test.
    static var available: [StoreKind] { TestPostgres.available ? [.sqlite, .postgres] : [.sqlite] }

    /// The first schema version every test's hub starts with.
    static let firstSchema = Data(#"{"version": 1, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}]}]}"#.utf8)

    /// Runs `body` with a new hub of this kind (schema version 1 published), removed afterwards.
    func withHub<T>(_ body: (StoreHub) throws -> T) throws -> T {
        switch self {
        case .sqlite:
            let folder = TemporaryFolder()
            let path = folder.file("hub.sqlite")
            try SQLiteHubStore.create(at: path, schemaText: StoreKind.firstSchema)
            let hub = try StoreHub(kind: self, open: { try SQLiteHubStore(path: path) },
                                   publish: { text, _ in try SQLiteHubStore.publish(at: path, schemaText: text) },
                                   published: { _ in try SQLiteHubStore.published(at: path) })
            defer { hub.close() }
            return try body(hub)
        case .postgres:
            return try TestPostgres.withDatabase { settings in
                let hub = try StoreHub(kind: self, open: { try PostgresHubStore(settings: settings, poolSize: 2) },
                                       publish: { text, store in try #require(store as? PostgresHubStore).publish(schemaText: text) },
                                       published: { store in try #require(store as? PostgresHubStore).published() })
                hub.settings = settings
                defer { hub.close() }
                _ = try hub.publish(StoreKind.firstSchema)
                return try body(hub)
            }
        }
    }
}

/// A hub under test: its store, and more instances of it on the same database (each stands for a
/// hub process of its own).
final class StoreHub {
    let kind: StoreKind
    private let open: () throws -> any RegistryHubStore
    private let publishText: (Data, any RegistryHubStore) throws -> SchemaEvolution
    private let listPublished: (any RegistryHubStore) throws -> [PublishedSchema]
    private(set) var store: any RegistryHubStore
    /// The database's settings, for a test that reads it directly; nil for SQLite.
    var settings: PostgresSettings?
    private var others: [any RegistryHubStore] = []

    init(kind: StoreKind, open: @escaping () throws -> any RegistryHubStore,
         publish: @escaping (Data, any RegistryHubStore) throws -> SchemaEvolution,
         published: @escaping (any RegistryHubStore) throws -> [PublishedSchema]) throws {
        self.kind = kind
        self.open = open
        publishText = publish
        listPublished = published
        store = try open()
    }

    /// Another process's store on the same database.
    func another() throws -> any RegistryHubStore {
        let other = try open()
        others.append(other)
        return other
    }

    /// Publishes a schema version as `begawi hub schema publish` does. The SQLite store reads its
    /// versions when it opens (a restart picks a new one up): it is opened again.
    func publish(_ text: Data) throws -> SchemaEvolution {
        let evolution = try publishText(text, store)
        if kind == .sqlite {
            StoreHub.close(store)
            store = try open()
        }
        return evolution
    }

    /// Every published version, as recorded.
    func published() throws -> [PublishedSchema] { try listPublished(store) }

    func close() {
        for store in [store] + others { StoreHub.close(store) }
    }

    private static func close(_ store: any RegistryHubStore) {
        if let sqlite = store as? SQLiteHubStore { try? sqlite.close() }
        if let postgres = store as? PostgresHubStore { postgres.close() }
    }
}
