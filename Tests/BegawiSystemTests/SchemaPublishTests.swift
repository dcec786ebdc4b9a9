import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// `begawi hub schema …` on a real hub file: a compatible version is published (its column appears in
/// the hub's tables, its history and text can be read back), an incompatible one is refused with the
/// reason and changes nothing, and `hub run` refuses a changed schema file that is not published.
@Suite(.blocking) struct SchemaPublishTests {
    /// The example schema with `change` applied to its JSON object, written into the cluster's folder.
    static func variant(_ cluster: Cluster, _ name: String, _ change: (inout [String: Any]) -> Void) throws -> String {
        let data = try Data(contentsOf: URL(fileURLWithPath: cluster.path("schema.json")))
        var root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        change(&root)
        let path = cluster.path(name)
        try JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Changes the columns of the example's `programs` table.
    static func programs(_ root: inout [String: Any], _ change: (inout [[String: Any]]) -> Void) {
        var tables = root["tables"] as? [[String: Any]] ?? []
        for i in tables.indices where tables[i]["name"] as? String == "programs" {
            var columns = tables[i]["columns"] as? [[String: Any]] ?? []
            change(&columns)
            tables[i]["columns"] = columns
        }
        root["tables"] = tables
    }

    static func columns(_ cluster: Cluster, _ table: String) throws -> [String] {
        if let postgres = cluster.postgres {
            return try postgres.query("SELECT column_name FROM information_schema.columns WHERE table_name = '\(table)' ORDER BY ordinal_position").map { $0[0] }
        }
        return try DatabaseQueue(path: cluster.path("hub.sqlite")).read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
        }
    }

    func hub(_ cluster: Cluster, _ arguments: [String], expect: Int32 = 0) throws -> (status: Int32, output: String, errors: String) {
        try Cluster.run(["hub", "schema"] + arguments + ["--config", cluster.hubConfig], expect: expect)
    }

    @Test(arguments: ClusterStore.available) func aCompatibleVersionIsPublishedAndTheHubRunsWithIt(store: ClusterStore) throws {
        let cluster = try Cluster(label: "publish", store: store)
        let v2 = try Self.variant(cluster, "schema-v2.json") { root in
            root["version"] = 2
            Self.programs(&root) { $0.append(["name": "location", "type": "TEXT"]) }
        }
        let published = try hub(cluster, ["publish", v2])
        #expect(published.output.contains("published version 2 (was 1)"), "\(published.output)")
        #expect(published.output.contains("column 'programs.location' added (TEXT)"), "\(published.output)")
        #expect(published.output.contains("make `schema` in \(cluster.hubConfig) name \(v2)"), "\(published.output)")
        #expect(try Self.columns(cluster, "programs").last == "location")
        #expect(try Self.columns(cluster, "_begawi_dead_programs").last == "location")

        let again = try hub(cluster, ["publish", v2])
        #expect(again.output.contains("version 2 is published already; nothing changed"), "\(again.output)")
        let history = try hub(cluster, ["history"]).output.split(separator: "\n")
        #expect(history.count == 3, "\(history)")
        #expect(history.last?.hasPrefix("2\t") == true)
        #expect(history.last?.hasSuffix("column 'programs.location' added (TEXT)") == true, "\(history)")
        #expect(try hub(cluster, ["show"]).output == (try String(contentsOfFile: v2, encoding: .utf8)) + "\n")
        #expect(try hub(cluster, ["show", "--version", "1"]).output == (try String(contentsOfFile: cluster.path("schema.json"), encoding: .utf8)))

        // The hub runs with the published file, and refuses the older one.
        let refused = try Cluster.run(["hub", "run", "--config", cluster.hubConfig], expect: -1)
        #expect(refused.status != 0 && refused.status < 128)
        #expect(refused.errors.contains("is version 1, but the hub's published schema is version 2"), "\(refused.errors)")
        let config = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try config.replacingOccurrences(of: "schema = \"schema.json\"", with: "schema = \"schema-v2.json\"")
            .write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        try cluster.startHub()
        cluster.stopHub()
    }

    @Test(arguments: ClusterStore.available) func anIncompatibleVersionIsRefusedWithTheReasonAndChangesNothing(store: ClusterStore) throws {
        let cluster = try Cluster(label: "refuse", store: store)
        let before = try Self.columns(cluster, "programs")
        let bad = try Self.variant(cluster, "schema-bad.json") { root in
            root["version"] = 2
            Self.programs(&root) { columns in
                columns.removeAll { $0["name"] as? String == "funding" }
                columns.append(["name": "location", "type": "TEXT", "not_null": true])
            }
        }
        let refused = try hub(cluster, ["publish", bad], expect: -1)
        #expect(refused.status != 0 && refused.status < 128)
        #expect(refused.errors.contains("version 2 cannot be published; nothing was changed"), "\(refused.errors)")
        #expect(refused.errors.contains("column 'programs.funding' is dropped"), "\(refused.errors)")
        #expect(refused.errors.contains("keep 'programs.funding' declared"), "\(refused.errors)")
        #expect(refused.errors.contains("new column 'programs.location' is NOT NULL without a default"), "\(refused.errors)")
        #expect(try Self.columns(cluster, "programs") == before)
        #expect(try hub(cluster, ["history"]).output.split(separator: "\n").count == 2)
    }

    @Test(arguments: ClusterStore.available) func aChangedFileThatIsNotPublishedIsRefusedAtStart(store: ClusterStore) throws {
        let cluster = try Cluster(label: "unpublished", store: store)
        // The report of issue 14: a column added to the file in force, and the hub restarted.
        _ = try Self.variant(cluster, "schema.json") { root in
            Self.programs(&root) { $0.append(["name": "location", "type": "TEXT"]) }
        }
        let refused = try Cluster.run(["hub", "run", "--config", cluster.hubConfig], expect: -1)
        #expect(refused.status != 0 && refused.status < 128)
        #expect(refused.errors.contains("declares version 1 but differs from the published version 1"), "\(refused.errors)")
        #expect(refused.errors.contains("give the file \"version\": 2"), "\(refused.errors)")
        #expect(refused.errors.contains("begawi hub schema publish"), "\(refused.errors)")
        #expect(!(try Self.columns(cluster, "programs")).contains("location"))
    }
}
