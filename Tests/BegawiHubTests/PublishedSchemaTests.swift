import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The hub's record of published schema versions: `hub init` records the first, a publish migrates
/// and records in one transaction, and a hub file made before versions existed keeps working.
@Suite(.blocking) struct PublishedSchemaTests {
    static func text(_ version: Int?, extra: String = "") -> Data {
        let field = version.map { "\"version\": \($0), " } ?? ""
        return Data(#"{\#(field)"tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}\#(extra)]}]}"#.utf8)
    }

    static func columns(_ path: String) throws -> [String] {
        try DatabaseQueue(path: path).read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('courses')") }
    }

    @Test func initRecordsTheFirstVersionAndPublishAddsTheNext() throws {
        let folder = TemporaryFolder()
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schemaText: Self.text(nil))
        #expect(try SQLiteHubStore.published(at: path).map(\.version) == [1])
        try SQLiteHubStore.requirePublished(at: path, schemaText: Self.text(1), file: "same.json")

        let v2 = Self.text(2, extra: #", {"name": "room"}"#)
        let evolution = try SQLiteHubStore.publish(at: path, schemaText: v2)
        #expect(evolution.changes.map(\.description) == ["column 'courses.room' added (TEXT)"])
        let published = try SQLiteHubStore.published(at: path)
        #expect(published.map(\.version) == [1, 2])
        #expect(published.last?.document == String(decoding: v2, as: UTF8.self))
        #expect(published.last?.digest == (try SchemaDocument.parse(v2)).digest)
        #expect(try Self.columns(path) == ["id", "title", "quota", "room"])
        let replica = try Replica.open(at: path)
        #expect(try replica.schemaVersion() == 2)
        try replica.close()
        let store = try SQLiteHubStore(path: path)
        #expect(store.schema == (try SchemaDocument.parse(v2)).schema)
        try store.close()

        let error = #expect(throws: BegawiError.self) { try SQLiteHubStore.requirePublished(at: path, schemaText: Self.text(1), file: "old.json") }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("old.json is version 1, but the hub's published schema is version 2") == true, "\(error?.message ?? "")")
    }

    @Test func aRefusedPublishChangesNothing() throws {
        let folder = TemporaryFolder()
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schemaText: Self.text(1))
        let dropped = Data(#"{"version": 2, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "room"}]}]}"#.utf8)
        let error = #expect(throws: BegawiError.self) { try SQLiteHubStore.publish(at: path, schemaText: dropped) }
        #expect(error?.code == .invalidSchema)
        #expect(error?.message.contains("column 'courses.quota' is dropped") == true, "\(error?.message ?? "")")
        #expect(try SQLiteHubStore.published(at: path).map(\.version) == [1])
        #expect(try Self.columns(path) == ["id", "title", "quota"])
    }

    @Test func aHubMadeBeforeVersionsRecordsTheFileInForceAtStart() throws {
        let folder = TemporaryFolder()
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schema: try SchemaDocument.parse(Self.text(nil)).schema)
        #expect(try SQLiteHubStore.published(at: path).isEmpty)
        // A file with other columns is refused: the hub never adds a column silently.
        let changed = Self.text(nil, extra: #", {"name": "room"}"#)
        let error = #expect(throws: BegawiError.self) { try SQLiteHubStore.requirePublished(at: path, schemaText: changed, file: "changed.json") }
        #expect(error?.message.contains("has no published schema version yet") == true, "\(error?.message ?? "")")
        #expect(try SQLiteHubStore.published(at: path).isEmpty)
        // The file it was made with is recorded as its version.
        try SQLiteHubStore.requirePublished(at: path, schemaText: Self.text(nil), file: "same.json")
        #expect(try SQLiteHubStore.published(at: path).map(\.version) == [1])
    }

    @Test func anOlderHubPublishesAgainstItsInstalledTables() throws {
        let folder = TemporaryFolder()
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schema: try SchemaDocument.parse(Self.text(nil)).schema)
        let evolution = try SQLiteHubStore.publish(at: path, schemaText: Self.text(2, extra: #", {"name": "room"}"#))
        #expect(evolution.changes.map(\.description) == ["column 'courses.room' added (TEXT)"])
        #expect(try SQLiteHubStore.published(at: path).map(\.version) == [2])
        #expect(try Self.columns(path) == ["id", "title", "quota", "room"])
    }
}
