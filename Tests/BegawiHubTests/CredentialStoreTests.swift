import BegawiCore
import BegawiHub
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Credentials in the SQLite store's file: an older registry migrated, a damaged one refused. (What
/// both stores do alike, rotation and revocation, is in BegawiPostgresTests' HubStoreRegistryTests.)
@Suite(.blocking) struct CredentialStoreTests {
    /// A hub database made before credentials had generations gains the columns when opened.
    @Test func anOlderRegistryIsMigrated() throws {
        let folder = TemporaryFolder()
        let document = try SchemaDocument.load(path: HubHarness.repositoryRoot.appendingPathComponent("config/handak-begawi.json").path)
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schema: document.schema)
        var store = try SQLiteHubStore(path: path)
        let credential = try store.addSite(id: "lpk-a", kind: .lpk, name: "A")
        try store.close()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "ALTER TABLE _hub_sites DROP COLUMN credential_generation")
            try db.execute(sql: "ALTER TABLE _hub_sites DROP COLUMN credential_changed_at")
        }
        try queue.close()

        store = try SQLiteHubStore(path: path)
        defer { try? store.close() }
        #expect(try store.authenticate(token: credential.token)?.credentialGeneration == 1)
        #expect(try store.credentialGeneration(site: "lpk-a") == 1)
        let rotated = try store.rotateCredential(id: "lpk-a")
        #expect(try store.authenticate(token: rotated.token)?.credentialGeneration == 2)
    }

    /// A site kind that no version of Begawi writes is a damaged or hand-edited file: the store
    /// refuses it (saying what to do) instead of guessing a kind, and so the rights that go with it.
    @Test func aSiteOfAnUnknownKindIsACorruptedFile() throws {
        let h = try HubHarness()
        let added = try h.store.addSite(id: "lpk-x", kind: .lpk, name: "LPK X")
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"))
        try queue.write { db in try db.execute(sql: "UPDATE _hub_sites SET kind = 'lembaga' WHERE id = 'lpk-x'") }
        try queue.close()
        let reads: [() throws -> Void] = [{ _ = try h.store.sites() }, { _ = try h.store.authenticate(token: added.token) }]
        for attempt in reads {
            let error = try #require(throws: BegawiError.self) { try attempt() }
            #expect(error.code == .corrupted && error.message.contains("lpk-x") && error.message.contains("backup"), "\(error)")
        }
    }

    /// A value of a type the hub never writes (an integer column holding text, edited by hand) is a
    /// `corrupted` error naming no value, never a trap in a row decoder.
    @Test func aStoredValueOfTheWrongTypeIsACorruptedFileNotACrash() throws {
        let h = try HubHarness()
        _ = try h.store.addSite(id: "lpk-x", kind: .lpk, name: "LPK X")
        _ = try h.store.health()
        let queue = try DatabaseQueue(path: h.folder.file("hub.sqlite"))
        try queue.write { db in
            try db.execute(sql: "UPDATE _hub_sites SET created_at = 'yesterday' WHERE id = 'lpk-x'")
            try db.execute(sql: "INSERT OR REPLACE INTO _hub_site_health(site, pending) VALUES ('lpk-x', 'many')")
        }
        try queue.close()
        let reads: [() throws -> Void] = [{ _ = try h.store.sites() }, { _ = try h.store.health() }]
        for attempt in reads {
            let error = try #require(throws: BegawiError.self) { try attempt() }
            #expect(error.code == .corrupted && !error.message.contains("yesterday") && !error.message.contains("many"), "\(error)")
        }
    }
}
