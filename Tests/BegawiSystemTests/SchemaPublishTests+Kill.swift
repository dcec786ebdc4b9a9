import BegawiTestSupport
import Foundation
import GRDB
import Testing

extension SchemaPublishTests {
    /// The hub's file after a publish: whether the new column is in the table, in its tombstone twin,
    /// in the stored table spec, and whether version 2 is recorded.
    static func state(_ cluster: Cluster) throws -> [Bool] {
        let live = try columns(cluster, "programs").contains("location")
        let dead = try columns(cluster, "_begawi_dead_programs").contains("location")
        return try DatabaseQueue(path: cluster.path("hub.sqlite")).read { db in
            let spec = try String.fetchOne(db, sql: "SELECT spec FROM _begawi_tables WHERE name = 'programs'") ?? ""
            let recorded = try Int.fetchOne(db, sql: "SELECT count(*) FROM _hub_schemas WHERE version = 2") ?? 0
            return [live, dead, spec.contains("\"location\""), recorded == 1]
        }
    }

    @Test func aPublishKilledAtAnyPointLeavesOneVersionWhole() throws {
        let cluster = try Cluster(label: "publish-kill")
        let v2 = try Self.variant(cluster, "schema-v2.json") { root in
            root["version"] = 2
            Self.programs(&root) { $0.append(["name": "location", "type": "TEXT"]) }
        }
        for round in 0..<8 {
            if round > 0 {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: cluster.path("hub.sqlite" + suffix)) }
                try Cluster.run(["hub", "init", "--config", cluster.hubConfig])
            }
            let process = try cluster.launch(["hub", "schema", "publish", v2, "--config", cluster.hubConfig], environment: [:],
                                             log: cluster.path("publish.log"))
            usleep(UInt32.random(in: 0...150_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let state = try Self.state(cluster)
            #expect(state == [false, false, false, false] || state == [true, true, true, true], "round \(round): \(state)")
            // Whatever the kill left, publishing again completes it.
            _ = try hub(cluster, ["publish", v2])
            #expect(try Self.state(cluster) == [true, true, true, true])
        }
    }
}
