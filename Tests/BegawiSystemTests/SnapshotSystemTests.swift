import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A new replica's first pull as a snapshot, between real hub and site processes under the Handak
/// Begawi rules: it holds exactly what a first pull by pages holds (`BEGAWI_FIRST_PULL=pages`, as a
/// daemon from before snapshots pulls), rows and merge state.
@Suite(.blocking) struct SnapshotSystemTests {
    /// Every row's merge state and values (as the replica would export them, independent of its own
    /// change numbers) and each synced table's live rows.
    static func contents(_ path: String) throws -> (state: [String: RowState], tables: [String: [String: [SQLValue]]]) {
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        let batch = try replica.export(after: .start, limits: BatchLimits(maxRows: 100_000, maxValueBytes: 1 << 30))
        var state: [String: RowState] = [:]
        for row in batch.rows { state[batch.tables[row.table].name + "/" + row.key] = row.state }
        var tables: [String: [String: [SQLValue]]] = [:]
        for table in replica.schema.tables { tables[table.name] = try replica.rows(of: table.name) }
        return (state, tables)
    }

    /// A second replica of `site` (a machine replaced), made with `site init`, synced once; its output.
    static func freshReplica(_ agencies: Agencies, of site: String, named name: String, pages: Bool) throws -> (path: String, log: String) {
        let cluster = agencies.cluster
        let text = try String(contentsOfFile: cluster.siteConfig(site), encoding: .utf8)
            .replacingOccurrences(of: "replica = \"\(site).sqlite\"", with: "replica = \"\(name).sqlite\"")
        let config = cluster.path("\(name).toml")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        try Cluster.run(["site", "init", "--config", config])
        var environment = Agencies.environment
        environment["BEGAWI_FIRST_PULL"] = pages ? "pages" : "snapshot"
        let result = try Cluster.run(["site", "sync", "--config", config], environment: environment)
        return (cluster.path("\(name).sqlite"), result.output + result.errors)
    }

    @Test(arguments: ClusterStore.available) func aSnapshotHoldsWhatThePagesHoldUnderTheRules(store: ClusterStore) throws {
        let agencies = try Agencies(label: "snapshot", store: store)
        let office = "disnaker"
        try agencies.addSite(office, kind: "office")
        for lpk in ["lpk-01", "lpk-02"] { try agencies.addSite(lpk, kind: "lpk") }
        try agencies.addSite("pt-tirta", kind: "company")
        try agencies.registerPartners(at: office)
        var source = Bontang()
        var people: [Person] = []
        for (k, lpk) in ["lpk-01", "lpk-02"].enumerated() {
            try agencies.offerProgram("prog-\(lpk)", by: lpk, title: ["Las SMAW 3G", "Barista"][k])
            for i in 0..<6 {
                let p = source.person()
                people.append(p)
                try agencies.register(p, at: lpk)
                try agencies.enroll("enr-\(lpk)-\(i)", p.key, in: "prog-\(lpk)", at: lpk)
            }
        }
        // lpk-02 also trains a person of lpk-01; lpk-01 withdraws an enrollment; the company places one.
        try agencies.enroll("enr-lpk-02-x", people[0].key, in: "prog-lpk-02", at: "lpk-02")
        try agencies.cluster.staff("pt-tirta", "INSERT INTO vacancies(id, company, title, sector, openings, kecamatan, closes_on) VALUES ('vac-1', 'pt-tirta', 'Operator', 'industri', 2, 'Bontang Utara', '2025-12-31')")
        try agencies.place("plc-1", people[7].key, at: "pt-tirta", position: "Operator")
        try agencies.syncAll(rounds: 3)
        try agencies.cluster.staff("lpk-01", "DELETE FROM enrollments WHERE id = 'enr-lpk-01-5'")
        try agencies.syncAll(rounds: 2)

        // A new LPK, and fresh replicas of an LPK, the company and the office: snapshot beside pages.
        try agencies.addSite("lpk-03", kind: "lpk")
        var logs: [(label: String, text: String)] = []
        for site in ["lpk-01", "pt-tirta", office, "lpk-03"] {
            let bySnapshot = try SnapshotSystemTests.freshReplica(agencies, of: site, named: "\(site)-snap", pages: false)
            let byPages = try SnapshotSystemTests.freshReplica(agencies, of: site, named: "\(site)-pages", pages: true)
            logs += [("\(site) by snapshot", bySnapshot.log), ("\(site) by pages", byPages.log)]
            #expect(bySnapshot.log.contains("adopted the hub's snapshot"), "\(site): the first pull took the snapshot")
            #expect(!byPages.log.contains("adopted the hub's snapshot"))
            let a = try SnapshotSystemTests.contents(bySnapshot.path), b = try SnapshotSystemTests.contents(byPages.path)
            #expect(a.tables == b.tables, "\(site): the same rows and values")
            #expect(a.state == b.state, "\(site): the same merge state")
            let original = try SnapshotSystemTests.contents(agencies.cluster.replicaPath(site)).tables["participants"] ?? [:]
            #expect(a.tables["participants"] == original, "\(site): the people it may see, no more")
        }
        #expect(try SnapshotSystemTests.contents(agencies.cluster.replicaPath(office)).tables["participants"]?.count == people.count)
        agencies.expectNoPersonalData(people, also: logs)
    }
}
