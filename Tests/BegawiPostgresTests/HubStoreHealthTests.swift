import BegawiCore
import BegawiHub
import BegawiTestSupport
import Foundation
import Testing

/// The health ledger, one test body against each store: sessions add up (from several hub
/// processes too), a session keeps what the site last said, a refusal records only its versions.
@Suite(.blocking) struct HubStoreHealthTests {
    @Test(arguments: StoreKind.available)
    func sessionsAddUpAndKeepTheLastNamedVersions(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let store = hub.store
            _ = try store.addSite(id: "lpk-a", kind: .lpk, name: "A")
            _ = try store.addSite(id: "lpk-b", kind: .lpk, name: "B")
            let replica = UUID().uuidString.lowercased()
            let now = Int64(SystemWallClock().nowMilliseconds())
            try store.noteSession(site: "lpk-a", replica: replica, report: SiteReport(
                pending: 4, agent: "begawi/0.2.1 " + String(repeating: "e\u{301}", count: 80), siteTime: now - 60_000,
                daemonVersion: DaemonVersion(0, 2, 1), schemaVersion: 1))
            // A session that names neither version, nor its agent or time, keeps what the last one said.
            try hub.another().noteSession(site: "lpk-a", replica: replica, report: SiteReport(pending: 2))
            try store.noteSession(site: "lpk-a", replica: replica, report: SiteReport(siteTime: Int64.min))

            let health = try store.health()
            #expect(health.map(\.site) == ["lpk-a", "lpk-b"])
            let a = health[0]
            #expect(a.kind == "lpk" && !a.revoked && a.sessions == 3 && a.pushes == 0 && a.rowsReceived == 0)
            #expect(a.pending == nil, "the last session reported no pending count")
            #expect(a.daemonVersion == "0.2.1" && a.schemaVersion == 1)
            #expect(a.agent?.unicodeScalars.count == 100 && a.agent?.hasPrefix("begawi/0.2.1 ") == true)
            let offset = try #require(a.clockOffsetMilliseconds)
            #expect(offset >= 60_000 && offset < 120_000, "an offset beyond ten years is left out, the last sound one kept")
            #expect(try #require(a.lastContact) >= now)
            let b = health[1]
            #expect(b.lastContact == nil && b.sessions == 0 && b.agent == nil)
        }
    }

    @Test(arguments: StoreKind.available)
    func aContactAndARefusalRecordOnlyWhatTheySay(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            let store = hub.store
            _ = try store.addSite(id: "lpk-a", kind: .lpk, name: "A")
            _ = try store.addSite(id: "lpk-b", kind: .lpk, name: "B")
            // A held pull's contact before any session records nothing: there is no session to date.
            try store.noteContact(site: "lpk-a")
            #expect(try store.health()[0].lastContact == nil)

            let before = Int64(SystemWallClock().nowMilliseconds())
            try store.noteRefused(site: "lpk-a", daemonVersion: DaemonVersion(0, 1, 0), schemaVersion: 1)
            var a = try store.health()[0]
            #expect(a.sessions == 0 && a.daemonVersion == "0.1.0" && a.schemaVersion == 1 && (a.lastContact ?? 0) >= before)

            try store.noteSession(site: "lpk-a", replica: UUID().uuidString.lowercased(), report: SiteReport(daemonVersion: DaemonVersion(0, 3, 0), schemaVersion: 2))
            try store.noteRefused(site: "lpk-a", daemonVersion: nil, schemaVersion: 1)
            a = try store.health()[0]
            #expect(a.sessions == 1 && a.daemonVersion == "0.3.0" && a.schemaVersion == 1)

            try store.revokeSite(id: "lpk-b")
            #expect(try store.health()[1].revoked)
        }
    }
}
