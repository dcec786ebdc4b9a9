import Foundation
import Testing

extension SchemaPublishTests {
    /// The programme's schema written as version `version`, with or without the link that lets a
    /// training site receive the participants enrolled in its programs.
    static func programme(_ cluster: Cluster, version: Int, enrollmentLink: Bool) throws -> String {
        try variant(cluster, "schema-v\(version).json") { root in
            root["version"] = version
            guard !enrollmentLink, var tables = root["tables"] as? [[String: Any]] else { return }
            for i in tables.indices where tables[i]["name"] as? String == "participants" {
                var access = tables[i]["access"] as? [String: Any] ?? [:]
                access["linked_by"] = (access["linked_by"] as? [[String: Any]] ?? []).filter { $0["table"] as? String != "enrollments" }
                tables[i]["access"] = access
            }
            root["tables"] = tables
        }
    }

    /// Points `schema` in hub.toml at `file` and restarts the hub.
    static func restartHub(_ cluster: Cluster, schema file: String) throws {
        cluster.stopHub()
        let config = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("schema = ") ? "schema = \"\(file)\"" : String($0) }.joined(separator: "\n")
        try config.write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        try cluster.startHub()
    }

    @Test(arguments: ClusterStore.available)
    func aPublishThatWidensTheRulesSaysHowManyRowsEachSiteGetsAndTheHubLogsThem(store: ClusterStore) throws {
        let agencies = try Agencies(label: "widening", store: store)
        let cluster = agencies.cluster
        try agencies.addSite("lpk-a", kind: "lpk")
        try agencies.addSite("lpk-b", kind: "lpk")

        // Version 2 narrows: no site receives more.
        let v2 = try Self.programme(cluster, version: 2, enrollmentLink: false)
        let narrowed = try hub(cluster, ["publish", v2]).output
        #expect(narrowed.contains("the access rules change; no site receives more rows"), "\(narrowed)")
        try Self.restartHub(cluster, schema: v2)

        // Under version 2, LPK B enrolls LPK A's participant without receiving them.
        var town = Bontang()
        let person = town.person()
        try agencies.register(person, at: "lpk-a")
        try agencies.offerProgram("prog-b", by: "lpk-b", title: "Operator Forklift")
        try agencies.enroll("enr-b", person.key, in: "prog-b", at: "lpk-b")
        try agencies.syncAll()
        #expect(try agencies.keys("lpk-b", "participants").isEmpty)

        // Version 3 brings the link back: publish counts the row LPK B will receive.
        let v3 = try Self.programme(cluster, version: 3, enrollmentLink: true)
        let widened = try hub(cluster, ["publish", v3]).output
        #expect(widened.contains("the access rules change and widen what sites receive"), "\(widened)")
        #expect(widened.contains("\n  lpk-b\t1\n") && !widened.contains("lpk-a\t"), "\(widened)")
        #expect(!widened.contains(person.nik) && !widened.contains(person.name))

        // The hub logs the same count when it recomputes at its start, and the row arrives.
        try Self.restartHub(cluster, schema: v3)
        let log = cluster.hubLog()
        #expect(log.contains("the new access rules widen what a site receives rows.granted=1 site.id=lpk-b"), "\(log)")
        #expect(log.contains("the access rules changed; who may see what was recomputed rows.granted=1 sites.widened=1"), "\(log)")
        try agencies.sync("lpk-b")
        #expect(try agencies.keys("lpk-b", "participants") == [person.key])
    }
}
