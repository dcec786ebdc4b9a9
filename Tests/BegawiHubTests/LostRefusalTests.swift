import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiSite
import BegawiTestSupport
import Foundation
import GRDB
import Logging
import Testing

/// A push whose answer is lost after the hub committed it: what it refused reaches the site at its
/// next session (`HubSession.unsettled`), is settled once, and the refused row becomes the hub's.
@Suite(.blocking) struct LostRefusalTests {
    static let insert = "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, ?, ?)"
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// lpk-a registers a person and syncs; lpk-b registers the same person (the hub refuses it:
    /// already registered). Returns the harness and the person's key.
    func world() throws -> (HubHarness, String) {
        let h = try HubHarness()
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let p = Person.make(7)
        let key = p.key(h.policy)
        try h.staff("lpk-a", LostRefusalTests.insert, [key, p.nik, p.name, p.birth, "0811-1", "lpk-a"])
        try h.sync("lpk-a")
        try h.staff("lpk-b", LostRefusalTests.insert, [key, p.nik, p.name, p.birth, "0811-2", "lpk-b"])
        return (h, key)
    }

    @Test func theStoreRepeatsTheLastPushsRefusalsUntilTheNextPush() throws {
        let (h, _) = try world()
        let site = h.site("lpk-b")
        let replica = site.replica.replicaID
        let session = try h.store.session(site: site.record, replica: replica, configuration: HubConfiguration())
        #expect(try h.store.unsettledRefusals(site: site.record, replica: replica, schemaVersion: nil) == nil)
        let batch = try site.replica.export(after: session.pushCursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: 100))
        let answer = try h.store.push(site: site.record, replica: replica, batch: try BatchCodec.decode(try BatchCodec.encode(batch)))
        // lpk-b may not see lpk-a's participant: nothing to restore, the site removes its row.
        #expect(answer.refused.map(\.reason) == ["already-registered"] && answer.restore == nil)
        // The answer is lost: the next session says it again, restore included.
        let repeated = try #require(try h.store.unsettledRefusals(site: site.record, replica: replica, schemaVersion: nil))
        #expect(repeated.refused == answer.refused && repeated.cursor == answer.cursor && repeated.restore == answer.restore)
        // Another site's replica hears nothing of it.
        let other = h.site("lpk-a")
        #expect(try h.store.unsettledRefusals(site: other.record, replica: other.replica.replicaID, schemaVersion: nil) == nil)
        // A later push that refuses nothing replaces it.
        let empty = try site.replica.export(after: answer.cursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: 100))
        _ = try h.store.push(site: site.record, replica: replica, batch: try BatchCodec.decode(try BatchCodec.encode(empty)))
        #expect(try h.store.unsettledRefusals(site: site.record, replica: replica, schemaVersion: nil) == nil)
    }

    @Test func aRoundWhosePushAnswerWasLostSettlesItsRefusalsAtTheNextSession() async throws {
        let (h, key) = try world()
        let site = h.site("lpk-b")
        let path = h.folder.file("lpk-b.sqlite")
        func round(_ transport: StoreTransport) async throws -> RoundReport {
            let daemon = SiteDaemon(configuration: SiteConfiguration(replicaPath: path), transport: transport, logger: LostRefusalTests.logger)
            return try await daemon.syncOnce().0
        }
        // The push is committed with its refusal, and its answer is lost with the link.
        let cut = StoreTransport(store: h.store, site: site.record, loseAnswerOfPush: 1)
        await #expect(throws: BegawiError.self) { try await round(cut) }
        #expect(cut.pushed == [[key]])

        // The next round sends nothing again, and settles the refusal the session repeats.
        let next = StoreTransport(store: h.store, site: site.record)
        let report = try await round(next)
        #expect(next.pushed.allSatisfy(\.isEmpty) && report.sent == 0, "pushed: \(next.pushed)")
        #expect(report.refused == 1)
        func ledger() throws -> [String] {
            let queue = try DatabaseQueue(path: path)
            defer { try? queue.close() }
            return try queue.read { db in try String.fetchAll(db, sql: "SELECT reason FROM _begawi_refusals WHERE key = ?", arguments: [key]) }
        }
        #expect(try ledger() == ["already-registered"])
        // As the lost answer would have made it: lpk-b may not see lpk-a's participant, so its row is
        // gone, and the hub's stays lpk-a's.
        #expect(try site.replica.rows(of: "participants")[key] == nil)
        #expect(try h.hubRows("participants")[key] != nil)

        // Settled once: a later session repeating it changes nothing.
        let again = try await round(StoreTransport(store: h.store, site: site.record))
        #expect(again.refused == 0)
        #expect(try ledger() == ["already-registered"])
    }
}
