import BegawiCore
import BegawiHub
import BegawiRules
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// The health ledger keeps each site's daemon and schema version from its last session that named
/// them; a hub file made before versions gains the columns when opened.
@Suite struct SiteHealthVersionTests {
    @Test func anOlderLedgerGainsTheVersionColumnsAndKeepsTheLastNamed() throws {
        let folder = TemporaryFolder()
        let document = try SchemaDocument.load(path: HubHarness.repositoryRoot.appendingPathComponent("config/handak-begawi.json").path)
        let path = folder.file("hub.sqlite")
        try SQLiteHubStore.create(at: path, schema: document.schema)
        var store = try SQLiteHubStore(path: path)
        _ = try store.addSite(id: "lpk-a", kind: .lpk, name: "A")
        let replica = UUID().uuidString.lowercased()
        try store.noteSession(site: "lpk-a", replica: replica, report: SiteReport(pending: 1))
        try store.close()
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "ALTER TABLE _hub_site_health DROP COLUMN daemon_version")
            try db.execute(sql: "ALTER TABLE _hub_site_health DROP COLUMN schema_version")
        }
        try queue.close()

        store = try SQLiteHubStore(path: path)
        defer { try? store.close() }
        var health = try #require(try store.health().first)
        #expect(health.daemonVersion == nil && health.schemaVersion == nil && health.sessions == 1)
        try store.noteSession(site: "lpk-a", replica: replica, report: SiteReport(daemonVersion: DaemonVersion(0, 2, 1), schemaVersion: 3))
        health = try #require(try store.health().first)
        #expect(health.daemonVersion == "0.2.1" && health.schemaVersion == 3)
        // A session that names neither keeps what the last one said.
        try store.noteSession(site: "lpk-a", replica: replica, report: SiteReport())
        health = try #require(try store.health().first)
        #expect(health.daemonVersion == "0.2.1" && health.schemaVersion == 3 && health.sessions == 3)
    }
}
