import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Daemon and protocol versions between real processes: the hub serves today's daemons (which name
/// no protocol) and newer ones, refuses an older protocol or a daemon below `min_site_version` with
/// the version to upgrade to, and such a site keeps its outbox as it was; `hub sites` shows versions.
@Suite(.blocking) struct VersionTests {
    /// A site's bookkeeping as rows of text: the outbox, the rows' stamps, the cursors and the state.
    static func bookkeeping(_ cluster: Cluster, _ site: String) throws -> [[String]] {
        var all: [[String]] = []
        for table in ["_begawi_outbox", "_begawi_rows", "_begawi_cursors", "_begawi_state"] {
            all.append([table])
            all += try cluster.query(site, "SELECT * FROM \(table) ORDER BY 1, 2")
        }
        return all
    }

    @Test(arguments: ClusterStore.available) func aSiteBelowTheMinimumIsRefusedAndKeepsItsOutbox(store: ClusterStore) throws {
        let cluster = try Cluster(label: "min-version", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES ('p1', '6474010101900001', 'Siti Aminah')")
        try cluster.sync("lpk-a")
        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig]).output
        #expect(sites.contains("lpk-a\tlpk\tactive\tPartner lpk-a\t\(DaemonVersion.current)\t1\n"), "\(sites)")

        // The office raises the minimum above this build.
        cluster.stopHub()
        let config = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try (config + "\nmin_site_version = \"99.0.0\"\n").write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        try cluster.startHub()
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES ('p2', '6474010101900002', 'Budi Santoso')")
        let before = try Self.bookkeeping(cluster, "lpk-a")
        #expect(before.contains { $0.first == "_begawi_outbox" } && before.count > 4)

        let refused = try cluster.sync("lpk-a", expect: -1)
        #expect(refused.status != 0)
        let said = refused.output + refused.errors
        #expect(said.contains("too-old") && said.contains("99.0.0") && said.contains("upgrade the begawi package"), "\(said)")
        #expect(said.contains("begawi \(DaemonVersion.current)"), "\(said)")
        #expect(try Self.bookkeeping(cluster, "lpk-a") == before)
        #expect(try cluster.rows("hub", "participants").keys.sorted() == ["p1"])
        #expect(cluster.hubLog().contains("too old"), "\(cluster.hubLog())")
    }

    @Test(arguments: ClusterStore.available) func aRefusedDaemonSaysWhyAndAsksAgainOnlyAtItsLongestBackoff(store: ClusterStore) throws {
        let cluster = try Cluster(label: "too-old-daemon", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        // `site init` asks the hub for its schema, so the minimum is raised after it.
        cluster.stopHub()
        let config = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try (config + "\nmin_site_version = \"99.0.0\"\n").write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        try cluster.startHub()
        // Retries that start at 100 ms would ask about ten times in 4 s; at a 60 s cap it asks once.
        try cluster.setSiteOption("lpk-a", "backoff_max_seconds", "60")
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES ('p1', '6474010101900001', 'Siti Aminah')")
        try cluster.startDaemon("lpk-a")
        Thread.sleep(forTimeInterval: 4)
        cluster.stopDaemon("lpk-a")
        let log = (try? String(contentsOfFile: cluster.path("lpk-a.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("the hub refuses this site's daemon as too old; upgrade the begawi package"), "\(log)")
        #expect(log.contains("99.0.0"), "\(log)")
        let asked = cluster.hubLog().components(separatedBy: "refused a site daemon that is too old").count - 1
        #expect(asked == 1, "\(cluster.hubLog())")
        #expect(try cluster.rows("hub", "participants").isEmpty)
        // The office sees who must upgrade: the refused daemon's versions, and no session counted.
        let sites = try Cluster.run(["hub", "sites", "--config", cluster.hubConfig]).output
        #expect(sites.contains("lpk-a\tlpk\tactive\tPartner lpk-a\t\(DaemonVersion.current)\t1\n"), "\(sites)")
        // Read as text from either store: a count, and whether a contact time and a replica are recorded.
        let health = try cluster.query("hub", "SELECT sessions, pushes, CASE WHEN last_contact IS NULL THEN 0 ELSE 1 END, CASE WHEN replica IS NULL THEN 'none' ELSE replica END FROM _hub_site_health WHERE site = 'lpk-a'")
        #expect(health.first.map { Array($0.prefix(3)) } == ["0", "0", "1"], "\(health)")
        #expect(health.first?.last == "none", "a refused request's replica was taken")
    }

    /// On both stores (PostgreSQL's `unsettledRefusals` once judged a session's unpublished schema
    /// version before looking for refusals, and refused the newer daemon's session).
    @Test(arguments: ClusterStore.available) func theHubServesTodaysAndNewerDaemonsAndRefusesAnOlderProtocol(store: ClusterStore) async throws {
        let cluster = try Cluster(label: "protocol", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let probe = try HubProbe(cluster, site: "lpk-a")

        // Today's daemon: no version headers, its User-Agent only.
        let today = try await probe.session()
        #expect(today.status == 200, "\(today)")
        #expect(today.field("protocol_version") == String(Wire.protocolVersion))
        #expect(try cluster.query("hub", "SELECT daemon_version, schema_version FROM _hub_site_health WHERE site = 'lpk-a'")
                == [[DaemonVersion.current.description, "1"]])
        let newer = try await probe.send("GET", "/v1/session", headers: [("Begawi-Protocol", "3"), ("Begawi-Daemon-Version", "7.0.1"),
                                                                         ("Begawi-Schema-Version", "4")])
        #expect(newer.status == 200, "\(newer)")
        #expect(try cluster.query("hub", "SELECT daemon_version, schema_version FROM _hub_site_health WHERE site = 'lpk-a'") == [["7.0.1", "4"]])

        // An older protocol, on every route.
        for path in ["/v1/session", "/v1/pull?epoch=x&base=0&position=0"] {
            let old = try await probe.send("GET", path, headers: [("Begawi-Protocol", "0")])
            #expect(old.status == 426 && old.error == "too-old" && old.isJSONRefusal, "\(old)")
            #expect(old.headers["upgrade"] == "begawi/\(Wire.protocolVersion)")
            #expect(old.field("message")?.contains("upgrade the begawi package at the site to \(DaemonVersion.current)") == true, "\(old)")
        }

        // Malformed or out-of-range versions: a reason, never a crash or a wrapped number.
        for header in [("Begawi-Protocol", "99999999999999999999"), ("Begawi-Protocol", "-1"), ("Begawi-Daemon-Version", "1.2"),
                       ("Begawi-Daemon-Version", "1.2.3456789"), ("Begawi-Schema-Version", "-1"), ("Begawi-Schema-Version", "x")] {
            let answer = try await probe.send("GET", "/v1/session", headers: [header])
            #expect(answer.status == 400 && answer.error == "bad-request" && answer.field("message")?.contains(header.0) == true, "\(header): \(answer)")
        }
        #expect(try cluster.query("hub", "SELECT sessions FROM _hub_site_health WHERE site = 'lpk-a'") == [["2"]])
    }
}
