import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Sites follow the hub's schema (issue 14, item 2): a site daemon at version 1 meets a hub at version 2,
/// fetches the published file, migrates its replica in one transaction and then syncs the new column;
/// a site that has not migrated yet keeps syncing meanwhile.
@Suite(.blocking) struct SchemaFollowTests {
    /// A hub with sites lpk-a and lpk-b at version 1 (a program p1 synced), then moved to version 2,
    /// which adds `programs.location`, and started again (sites pointed at its new port).
    /// `before` runs at version 1, after p1 is synced; `location` declares the new column.
    static func world(_ label: String, store: ClusterStore, location: [String: Any] = ["name": "location", "type": "TEXT"],
                      before: (Cluster) throws -> Void = { _ in }) throws -> Cluster {
        let cluster = try Cluster(label: label, store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.addSite("lpk-b")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title, quota) VALUES ('p1', 'Las', 10)")
        try cluster.sync("lpk-a")
        try before(cluster)
        cluster.stopHub()
        let v2 = try SchemaPublishTests.variant(cluster, "schema-v2.json") { root in
            root["version"] = 2
            SchemaPublishTests.programs(&root) { $0.append(location) }
        }
        try Cluster.run(["hub", "schema", "publish", v2, "--config", cluster.hubConfig])
        let config = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try config.replacingOccurrences(of: "schema = \"schema.json\"", with: "schema = \"schema-v2.json\"")
            .write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        try cluster.startHub()
        for site in cluster.sites { try cluster.writeSiteConfig(site) }
        return cluster
    }

    /// The replica's migration as a whole: the column in the table, in its tombstone twin, in the
    /// stored spec, and the version recorded.
    static func state(_ cluster: Cluster, _ site: String) throws -> [Bool] {
        try DatabaseQueue(path: cluster.replicaPath(site)).read { db in
            let live = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('programs')").contains("location")
            let dead = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('_begawi_dead_programs')").contains("location")
            let spec = try String.fetchOne(db, sql: "SELECT spec FROM _begawi_tables WHERE name = 'programs'") ?? ""
            let version = try Int.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'schema_version'")
            return [live, dead, spec.contains("\"location\""), version == 2]
        }
    }

    @Test(arguments: ClusterStore.available) func aSiteAtVersion1MigratesAndThenHoldsTheNewColumn(store: ClusterStore) throws {
        let cluster = try Self.world("follow", store: store)
        try cluster.sync("lpk-a")
        #expect(try Self.state(cluster, "lpk-a") == [true, true, true, true])
        // The site's schema file follows, for its own checks.
        #expect(try String(contentsOfFile: cluster.path("lpk-a.schema.json"), encoding: .utf8)
                == (try String(contentsOfFile: cluster.path("schema-v2.json"), encoding: .utf8)))
        try cluster.staff("lpk-a", "UPDATE programs SET location = 'Gedung A' WHERE id = 'p1'")
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "programs")["p1"]?.last == "Gedung A")

        // lpk-b has not synced since: its daemon migrates in its first round, then gets the value.
        #expect(try Self.state(cluster, "lpk-b") == [false, false, false, false])
        try cluster.startDaemon("lpk-b", environment: ["BEGAWI_LOG_LEVEL": "info"])
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? cluster.rows("lpk-b", "programs")["p1"]?.last) != "Gedung A" { usleep(100_000) }
        #expect(try cluster.rows("lpk-b", "programs")["p1"]?.last == "Gedung A")
        #expect(try Self.state(cluster, "lpk-b") == [true, true, true, true])
        cluster.stopDaemon("lpk-b")
        let log = (try? String(contentsOfFile: cluster.path("lpk-b.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("replica migrated to the hub's schema"), "\(log)")
    }

    /// The running daemon checks by the schema it migrated to, without a restart: a value too large
    /// for the new column's limit stays at the site (held back by its own check), not sent for the hub
    /// to refuse.
    @Test(arguments: ClusterStore.available) func aRunningDaemonChecksByTheSchemaItMigratedTo(store: ClusterStore) throws {
        let cluster = try Self.world("follow-limit", store: store, location: ["name": "location", "type": "TEXT", "max_bytes": 8])
        try cluster.startDaemon("lpk-a")
        defer { cluster.stopDaemon("lpk-a") }
        var deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? Self.state(cluster, "lpk-a")) != [true, true, true, true] { usleep(100_000) }
        #expect(try Self.state(cluster, "lpk-a") == [true, true, true, true])
        try cluster.staff("lpk-a", """
            UPDATE programs SET location = 'Gedung Serbaguna' WHERE id = 'p1';
            INSERT INTO programs(id, title, location) VALUES ('p2', 'Las', 'Gedung B');
            """)
        func status() throws -> String { try Cluster.run(["site", "status", "--config", cluster.siteConfig("lpk-a")], expect: -1).output }
        deadline = Date().addingTimeInterval(20)
        while Date() < deadline, (try? cluster.rows("hub", "programs")["p2"]) == nil || !((try? status()) ?? "").contains("held back:       1") {
            usleep(100_000)
        }
        let text = try status()
        #expect(text.contains("held back:       1"), "\(text)")
        #expect(text.contains("'location' holds 16 bytes of text, more than its limit of 8"), "\(text)")
        let hub = try cluster.rows("hub", "programs")
        #expect(hub["p2"]?.last == "Gedung B")
        #expect(hub["p1"]?.last == "NULL", "the value over the limit reached the hub: \(hub["p1"] ?? [])")
        #expect(cluster.daemonProcess("lpk-a")?.isRunning == true)
    }

    @Test(arguments: ClusterStore.available) func aSiteKilledWhileMigratingHoldsOneVersionWhole(store: ClusterStore) throws {
        let cluster = try Self.world("follow-kill", store: store)
        for n in 0..<200 { try cluster.staff("lpk-b", "INSERT INTO programs(id, title, quota) VALUES ('b\(n)', 'Kelas \(n)', \(n))") }
        let replica = cluster.replicaPath("lpk-b")
        try? FileManager.default.removeItem(atPath: replica + ".v1")
        try DatabaseQueue(path: replica).writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [replica + ".v1"]) }
        for round in 0..<8 {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: replica + suffix) }
            try FileManager.default.copyItem(atPath: replica + ".v1", toPath: replica)
            let process = try cluster.launch(["site", "sync", "--config", cluster.siteConfig("lpk-b")], environment: [:],
                                             log: cluster.path("kill.log"))
            usleep(UInt32.random(in: 0...300_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let state = try Self.state(cluster, "lpk-b")
            #expect(state == [false, false, false, false] || state == [true, true, true, true], "round \(round): \(state)")
            #expect(try cluster.rows("lpk-b", "programs").keys.filter { $0.hasPrefix("b") }.count == 200)
            // Whatever the kill left, the next round completes the migration and its catch-up.
            try cluster.sync("lpk-b")
            #expect(try Self.state(cluster, "lpk-b") == [true, true, true, true])
            let pending = try DatabaseQueue(path: replica).read { db in
                try Int.fetchOne(db, sql: "SELECT value FROM _begawi_state WHERE name = 'schema_catch_up_from'")
            }
            #expect(pending == nil, "round \(round): the catch-up is still pending")
        }
    }

    @Test(arguments: ClusterStore.available) func afterMigratingASiteGetsTheNewValuesWithoutDownloadingEverything(store: ClusterStore) throws {
        let cluster = try Self.world("follow-count", store: store) { cluster in
            for n in 0..<999 { try cluster.staff("lpk-a", "INSERT INTO programs(id, title, quota) VALUES ('q\(n)', 'Kelas \(n)', \(n))") }
            try cluster.sync("lpk-a")
            try cluster.sync("lpk-b")
        }
        try cluster.sync("lpk-a")
        for n in stride(from: 0, to: 999, by: 50) { try cluster.staff("lpk-a", "UPDATE programs SET location = 'Gedung \(n)' WHERE id = 'q\(n)'") }
        try cluster.sync("lpk-a")
        let output = try cluster.sync("lpk-b").output
        let received = try #require(output.firstMatch(of: /received (\d+) rows/).flatMap { Int($0.1) }, "\(output)")
        #expect(received < 50, "\(received) of 1,000 rows sent again: \(output)")
        let programs = try cluster.rows("lpk-b", "programs")
        #expect(programs.count == 1000)
        #expect(programs.values.filter { $0.last != "NULL" }.count == 20)
        #expect(programs["q50"]?.last == "Gedung 50")
    }

    /// Registers a site and writes its configuration with `schema` naming `schemaFile`.
    static func register(_ cluster: Cluster, _ id: String, schemaFile: String) throws {
        try Cluster.run(["hub", "add-site", "--config", cluster.hubConfig, "--id", id, "--kind", "lpk", "--name", "Partner \(id)",
                         "--credential-out", cluster.path("\(id).credential")])
        try cluster.writeSiteConfig(id)
        // Not the copy writeSiteConfig makes: this test says which file the site has, if any.
        try FileManager.default.removeItem(atPath: cluster.path("\(id).schema.json"))
        let config = try String(contentsOfFile: cluster.siteConfig(id), encoding: .utf8)
        try config.replacingOccurrences(of: "schema = \"\(id).schema.json\"", with: "schema = \"\(schemaFile)\"")
            .write(toFile: cluster.siteConfig(id), atomically: true, encoding: .utf8)
    }

    @Test(arguments: ClusterStore.available) func siteInitTakesTheHubsSchemaAndChecksAGivenFile(store: ClusterStore) throws {
        let cluster = try Self.world("follow-init", store: store)
        // No schema file at the site: init fetches the hub's current version and keeps it there.
        try Self.register(cluster, "lpk-c", schemaFile: "lpk-c.schema.json")
        try Cluster.run(["site", "init", "--config", cluster.siteConfig("lpk-c")])
        #expect(try String(contentsOfFile: cluster.path("lpk-c.schema.json"), encoding: .utf8)
                == (try String(contentsOfFile: cluster.path("schema-v2.json"), encoding: .utf8)))
        #expect(try Self.state(cluster, "lpk-c") == [true, true, true, true])
        try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-c")])
        try cluster.staff("lpk-c", "UPDATE programs SET location = 'Gedung C' WHERE id = 'p1'")
        try Cluster.run(["site", "sync", "--config", cluster.siteConfig("lpk-c")])
        #expect(try cluster.rows("hub", "programs")["p1"]?.last == "Gedung C")

        // A file that is not the hub's current schema is refused, and no replica is made.
        try Self.register(cluster, "lpk-d", schemaFile: "schema.json")
        let refused = try Cluster.run(["site", "init", "--config", cluster.siteConfig("lpk-d")], expect: -1)
        #expect(refused.status != 0 && refused.status < 128)
        #expect(refused.errors.contains("differs from the hub's current schema (version 2)"), "\(refused.errors)")
        #expect(!FileManager.default.fileExists(atPath: cluster.replicaPath("lpk-d")))
    }
}
