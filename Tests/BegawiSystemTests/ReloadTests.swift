import BegawiTestSupport
import Foundation
import Testing

/// SIGHUP re-reads the configuration: a good file takes effect without a restart (systemd hears
/// RELOADING=1, then READY=1); a bad one is refused with the reason in the log, and the daemon goes
/// on with the settings in force.
@Suite(.blocking) struct ReloadTests {
    @Test(arguments: ClusterStore.available) func aSiteTakesAGoodFileAndKeepsItsSettingsOnABadOne(store: ClusterStore) throws {
        let cluster = try Cluster(label: "reload-site", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        // It starts pointed at a port where no hub listens.
        try cluster.writeSiteConfig("lpk-a", url: "https://127.0.0.1:\(Prometheus.freePort())")
        let socket = try NotifySocket(path: cluster.path("reload-site.sock"))
        try cluster.startDaemon("lpk-a", environment: ["NOTIFY_SOCKET": socket.path, "BEGAWI_LOG_LEVEL": "info"])
        #expect(socket.wait(for: "READY=1") != nil)
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")
        #expect(socket.wait(for: "hub unreachable") != nil, "\(socket.messages)")
        #expect(try cluster.rows("hub", "programs").isEmpty)

        // The good file: the right hub. The row arrives without a restart.
        let pid = try #require(cluster.daemonProcess("lpk-a")).processIdentifier
        try cluster.writeSiteConfig("lpk-a")
        let before = socket.messages.count
        kill(pid, SIGHUP)
        #expect(try waitUntil { try cluster.rows("hub", "programs").keys.contains("prog-1") }, "\(cluster.log("lpk-a"))")
        let afterGood = socket.messages.dropFirst(before).map(\.text)
        let reloading = afterGood.firstIndex { $0.hasPrefix("RELOADING=1\nMONOTONIC_USEC=") }
        let ready = afterGood.firstIndex { $0.hasPrefix("READY=1") }
        #expect(reloading != nil && ready != nil && reloading! < ready!, "\(afterGood)")
        #expect(cluster.log("lpk-a").contains("configuration reloaded"), "\(cluster.log("lpk-a"))")

        // A bad file: refused, logged with the reason; the daemon still syncs with what it had.
        try "site_id = \"lpk-a\"\nwatch_interval_ms = \"soon\"\n".write(toFile: cluster.siteConfig("lpk-a"), atomically: true, encoding: .utf8)
        kill(pid, SIGHUP)
        #expect(try waitUntil { cluster.log("lpk-a").contains("configuration not reloaded") })
        let log = cluster.log("lpk-a")
        #expect(log.contains("'watch_interval_ms' must be a whole number"), "\(log)")
        #expect(socket.wait(for: "STATUS=configuration not reloaded") != nil, "\(socket.messages)")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-2', 'Jahit')")
        #expect(try waitUntil { try cluster.rows("hub", "programs").keys.contains("prog-2") })

        // A file that moves the replica: the rest applies, the move waits for a restart.
        try cluster.writeSiteConfig("lpk-a", extra: "status_file = \"elsewhere.json\"")
        kill(pid, SIGHUP)
        #expect(try waitUntil { cluster.log("lpk-a").contains("restart.needed_for=status_file") }, "\(cluster.log("lpk-a"))")
        #expect(cluster.daemonProcess("lpk-a")?.isRunning == true)
        cluster.stopDaemon("lpk-a")
        #expect(cluster.daemonStatus("lpk-a") == 0)
    }

    @Test(arguments: ClusterStore.available) func theHubTakesANewCertificateAndKeepsItsSettingsOnABadFile(store: ClusterStore) throws {
        let cluster = try Cluster(label: "reload-hub", store: store)
        cluster.hubEnvironment = ["BEGAWI_LOG_LEVEL": "info"]
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-1', 'Las')")
        try cluster.sync("lpk-a")

        // A new certificate from another CA, as when the office renews it.
        try Cluster.run(["hub", "make-certificates", "--out", cluster.path("tls2")])
        let toml = try String(contentsOfFile: cluster.hubConfig, encoding: .utf8)
        try toml.replacingOccurrences(of: "tls/hub.", with: "tls2/hub.").write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        let hub = try #require(cluster.hub)
        kill(hub.processIdentifier, SIGHUP)
        #expect(try waitUntil { cluster.hubLog().contains("configuration reloaded") }, "\(cluster.hubLog())")
        let old = try cluster.sync("lpk-a", expect: -1)
        #expect(old.status != 0, "the old CA no longer vouches for the hub")
        let config = try String(contentsOfFile: cluster.siteConfig("lpk-a"), encoding: .utf8)
        try config.replacingOccurrences(of: "ca_file = \"tls/ca.crt\"", with: "ca_file = \"tls2/ca.crt\"")
            .write(toFile: cluster.siteConfig("lpk-a"), atomically: true, encoding: .utf8)
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-2', 'Jahit')")
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-2"))

        // A renewal by the same CA (make-certificates in a folder that holds the CA): sites keep their ca_file.
        let first = try Data(contentsOf: URL(fileURLWithPath: cluster.path("tls2/hub.crt")))
        let renewed = try Cluster.run(["hub", "make-certificates", "--out", cluster.path("tls2")])
        #expect(renewed.output.contains("signed by the CA already in"), "\(renewed.output)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: cluster.path("tls2/hub.crt"))) != first)
        let reloads = cluster.hubLog().components(separatedBy: "configuration reloaded").count
        kill(hub.processIdentifier, SIGHUP)
        #expect(try waitUntil { cluster.hubLog().components(separatedBy: "configuration reloaded").count > reloads })
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-renewed', 'Tata boga')")
        try cluster.sync("lpk-a")

        // Bad files: a key that does not exist, then a key that is not the certificate's (as when a
        // renewed certificate meets the key systemd copied at start). Each is refused with the
        // reason; the hub serves on with the pair in force.
        try toml.replacingOccurrences(of: "tls/hub.crt", with: "tls2/hub.crt").replacingOccurrences(of: "tls/hub.key", with: "missing.key")
            .write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        kill(hub.processIdentifier, SIGHUP)
        #expect(try waitUntil { cluster.hubLog().contains("configuration not reloaded") })
        #expect(cluster.hubLog().contains("/missing.key; check tls_certificate and tls_key"), "\(cluster.hubLog())")
        try toml.replacingOccurrences(of: "tls/hub.crt", with: "tls2/hub.crt")
            .write(toFile: cluster.hubConfig, atomically: true, encoding: .utf8)
        kill(hub.processIdentifier, SIGHUP)
        #expect(try waitUntil { cluster.hubLog().contains("does not belong to the certificate") }, "\(cluster.hubLog())")
        try cluster.staff("lpk-a", "INSERT INTO programs(id, title) VALUES ('prog-3', 'Rias')")
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "programs").keys.contains("prog-3"))
        #expect(hub.isRunning)
    }

    func waitUntil(_ condition: () throws -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }
}

extension Cluster {
    func log(_ site: String) -> String { (try? String(contentsOfFile: path("\(site).log"), encoding: .utf8)) ?? "" }
}
