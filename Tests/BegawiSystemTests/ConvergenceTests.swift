import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

@Suite(.blocking) struct ConvergenceTests {
    /// A hub and three sites; each edits offline, two of them the same field; after syncing every
    /// replica equals the hub's view and the hub's ledger holds the conflict.
    @Test(arguments: ClusterStore.available) func threeSitesConvergeWithTheConflictInTheLedger(store: ClusterStore) throws {
        let cluster = try Cluster(label: "converge", store: store)
        try cluster.startHub()
        for s in ["lpk-a", "lpk-b", "blki"] { try cluster.addSite(s, kind: s == "blki" ? "blki" : "lpk") }
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, phone) VALUES ('p1', '6474010101900001', 'Siti Aminah', '0811')")
        try cluster.syncAll()
        // Offline edits: the same field at two sites, other fields elsewhere.
        try cluster.staff("lpk-a", "UPDATE participants SET phone = '0812' WHERE id = 'p1'")
        try cluster.staff("lpk-b", "UPDATE participants SET phone = '0813' WHERE id = 'p1'")
        try cluster.staff("blki", "UPDATE participants SET education = 'SMA' WHERE id = 'p1'")
        try cluster.staff("lpk-b", "INSERT INTO programs(id, title) VALUES ('g1', 'Welding')")
        try cluster.syncAll()
        let hub = try cluster.rows("hub", "participants")
        for s in cluster.sites {
            #expect(try cluster.rows(s, "participants") == hub, "\(s) differs from the hub")
            #expect(try cluster.rows(s, "programs") == cluster.rows("hub", "programs"))
        }
        #expect(hub["p1"]?.contains("SMA") == true)
        let ledger = try cluster.ledger("hub")
        #expect(ledger.count == 1)
        #expect(ledger.first?[2] == "phone")
    }
}
