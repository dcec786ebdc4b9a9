import BegawiCore
import BegawiHub
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// Published schema versions, one test body against each store: a publish records the next
/// version, a refused one changes nothing, the same file again is no new version.
@Suite(.blocking) struct HubStoreSchemaTests {
    static let second = Data(#"{"version": 2, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "quota", "type": "INTEGER"}, {"name": "room"}]}]}"#.utf8)

    @Test(arguments: StoreKind.available)
    func aPublishRecordsTheNextVersion(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let first = try SchemaDocument.parse(StoreKind.firstSchema)
            #expect(hub.store.currentSchemaVersion == 1)
            #expect(hub.store.publishedSchema(version: 1)?.digest == first.digest)
            #expect(hub.store.publishedSchema(version: 2) == nil)

            let evolution = try hub.publish(Self.second)
            #expect(evolution.changes.map(\.description) == ["column 'courses.room' added (TEXT)"])
            #expect(hub.store.currentSchemaVersion == 2)
            let published = try hub.published()
            #expect(published.map(\.version) == [1, 2])
            #expect(published.last?.document == String(decoding: Self.second, as: UTF8.self))
            #expect(hub.store.publishedSchema(version: 2) == published.last)

            // The same file again is the current version already: nothing new is recorded.
            #expect(try hub.publish(Self.second).isPublished)
            #expect(try hub.published().map(\.version) == [1, 2])
        }
    }

    @Test(arguments: StoreKind.available)
    func aRefusedPublishChangesNothing(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let dropped = Data(#"{"version": 2, "tables": [{"name": "courses", "columns": [{"name": "title"}, {"name": "room"}]}]}"#.utf8)
            let error = #expect(throws: BegawiError.self) { try hub.publish(dropped) }
            #expect(error?.code == .invalidSchema)
            #expect(error?.message.contains("column 'courses.quota' is dropped") == true, "\(error?.message ?? "")")
            let older = #expect(throws: BegawiError.self) { try hub.publish(StoreKind.firstSchema.replacing(Data("1,".utf8), with: Data("0,".utf8))) }
            #expect(older?.code == .invalidSchema)
            #expect(try hub.published().map(\.version) == [1])
            #expect(hub.store.currentSchemaVersion == 1)
        }
    }
}
