import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// A site syncing to the hub through `Tests/Tools/faultproxy.py`: connections cut mid-body, stalls
/// longer than the site's stall limit, a 64 kbit/s trickle, and a daemon whose link drops every two
/// seconds. Each time the replicas converge, the proxy's stats show the faults happened, and a site
/// resumes after acknowledged batches instead of sending them again.
///
/// The proxy's seed is printed; `BEGAWI_FAULT_SEED=N` replays the same fault choices.
@Suite(.blocking) struct FaultProxyTests {
    static var seed: UInt64 {
        if let text = ProcessInfo.processInfo.environment["BEGAWI_FAULT_SEED"], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }

    /// A hub and two sites: "lpk-a" (to be put behind the proxy) and "lpk-b" (direct), with small batches and pages.
    static func makeCluster(_ label: String, siteExtra: String = "batch_rows = 50", store: ClusterStore) throws -> Cluster {
        let cluster = try Cluster(label: label, hubExtra: "page_rows = 50", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a", extra: siteExtra)
        try cluster.addSite("lpk-b", extra: siteExtra)
        return cluster
    }

    /// Inserts rows `range` at `site`, each with `payload` random bytes (hex) so that batches do not compress away.
    static func insert(_ cluster: Cluster, _ site: String, _ range: ClosedRange<Int>, payload: Int) throws {
        try cluster.staff(site, """
            WITH RECURSIVE n(i) AS (SELECT \(range.lowerBound) UNION ALL SELECT i + 1 FROM n WHERE i < \(range.upperBound))
            INSERT INTO participants(id, nik, full_name, phone, registered_by)
            SELECT '\(site)/' || i, printf('%016d', i), hex(randomblob(\(payload))), '08' || i, '\(site)' FROM n
            """)
    }

    /// Updates every `step`-th row of `site` among its first `count`, with new random values.
    static func update(_ cluster: Cluster, _ site: String, below count: Int, step: Int, payload: Int) throws {
        try cluster.staff(site, """
            UPDATE participants SET full_name = hex(randomblob(\(payload))), phone = hex(randomblob(4))
            WHERE registered_by = '\(site)' AND CAST(substr(id, length('\(site)/') + 1) AS INTEGER) % \(step) = 0
              AND CAST(substr(id, length('\(site)/') + 1) AS INTEGER) < \(count)
            """)
    }

    /// Every replica's participants equal the hub's, and the hub holds `keys`.
    static func expectConverged(_ cluster: Cluster, keys: Int, _ comment: String) throws {
        let hub = try cluster.rows("hub", "participants")
        #expect(hub.count == keys, "\(comment): the hub has \(hub.count) participants, \(keys) were written")
        for s in cluster.sites {
            let rows = try cluster.rows(s, "participants")
            let (count, differing) = (rows.count, rows.filter { hub[$0.key] != $0.value }.count)
            #expect(count == hub.count && differing == 0, "\(comment): \(s) differs from the hub (\(count) rows, \(differing) differ)")
        }
    }

    /// One `begawi site sync` attempt and the hub's push cursor for the site around it.
    struct Attempt {
        var status: Int32
        var seconds: Double
        var output: String
        var before: Int
        var after: Int
    }

    /// Runs `begawi site sync` for `site` until it exits 0, at most `limit` times.
    static func syncThroughFaults(_ cluster: Cluster, _ site: String, limit: Int) throws -> [Attempt] {
        var attempts: [Attempt] = []
        for _ in 0..<limit {
            let before = try cluster.hubCursor(for: site).seq
            let start = Date()
            let (status, output, errors) = try cluster.sync(site, expect: -1)
            let after = try cluster.hubCursor(for: site).seq
            attempts.append(Attempt(status: status, seconds: Date().timeIntervalSince(start), output: output + errors, before: before, after: after))
            if ProcessInfo.processInfo.environment["BEGAWI_FAULT_VERBOSE"] != nil {
                print("attempt \(attempts.count) of \(site): exit \(status) in \(String(format: "%.2f", attempts.last!.seconds)) s, hub cursor \(before) → \(after)\n\(output + errors)")
            }
            #expect(after >= before, "the hub's cursor for \(site) went back from \(before) to \(after)")
            if status == 0 { return attempts }
        }
        Issue.record("begawi site sync for \(site) did not succeed in \(limit) attempts; last output:\n\(attempts.last?.output ?? "")")
        return attempts
    }

    /// The site's own changes (not rows it received from the hub) in its change sequence (after, through].
    static func ownChanges(_ cluster: Cluster, _ site: String, after: Int, through: Int) throws -> Int {
        let hubReplicaID = try cluster.replicaID("hub")
        return Int(try cluster.query(site, """
            SELECT count(*) FROM _begawi_rows WHERE seq > ? AND seq <= ?
              AND origin IS NOT (SELECT id FROM _begawi_peers WHERE replica = ?)
            """, [after, through, hubReplicaID])[0][0]) ?? -1
    }

    /// Checks a round of attempts: every change the site made was acknowledged once, and the
    /// successful attempt sent exactly what the hub still lacked. Returns (sent by the successful
    /// attempt, acknowledged during failed attempts).
    static func checkResumption(_ cluster: Cluster, _ site: String, _ attempts: [Attempt], changes: Int, _ comment: String) throws -> (sent: Int, earlier: Int) {
        guard let last = attempts.last, last.status == 0, let first = attempts.first else { return (0, 0) }
        let acknowledged = try ownChanges(cluster, site, after: first.before, through: last.after)
        #expect(acknowledged == changes, "\(comment): the hub acknowledged \(acknowledged) of the \(changes) rows \(site) changed")
        let earlier = try attempts.dropLast().map { try ownChanges(cluster, site, after: $0.before, through: $0.after) }.reduce(0, +)
        let lacking = try ownChanges(cluster, site, after: last.before, through: last.after)
        let sent = SyncSummary(last.output)?.sent ?? -1
        #expect(sent == lacking, "\(comment): the successful attempt sent \(sent) rows; the hub lacked \(lacking) (acknowledged rows sent again?)\n\(last.output)")
        return (sent, earlier)
    }

    // MARK: tests

    @Test(arguments: ClusterStore.available) func cutsInBothDirectionsResumeAfterAcknowledgedBatches(store: ClusterStore) throws {
        let seed = FaultProxyTests.seed
        print("FaultProxyTests.cutsInBothDirections: proxy seed \(seed) (replay: BEGAWI_FAULT_SEED=\(seed))")
        let cluster = try FaultProxyTests.makeCluster("fault-cut", store: store)
        let proxy = try FaultProxy(cluster: cluster, name: "cut", seed: seed,
                                   faults: ["--cut-probability", "0.5", "--cut-after", "2000-16000", "--cut-direction", "any"])
        try cluster.writeSiteConfig("lpk-a", url: proxy.url, extra: "batch_rows = 50")
        var written = 0, keys = 0, attemptsTotal = 0, failedWithProgress = 0, sentBySuccesses = 0, ackedByFailures = 0
        var round = 0
        // Rounds until both directions were cut and a cut attempt left acknowledged batches (at least four, at most twenty).
        while round < 20, round < 4 || proxy.count("cut up after") == 0 || proxy.count("cut down after") == 0 || failedWithProgress == 0 {
            // lpk-a: 200 new rows and 100 updated; lpk-b (direct): 200 new rows that lpk-a pulls through the proxy.
            try FaultProxyTests.insert(cluster, "lpk-a", (round * 200)...(round * 200 + 199), payload: 48)
            if round > 0 { try FaultProxyTests.update(cluster, "lpk-a", below: round * 200, step: 2 * round, payload: 48) }
            let changes = Int(try cluster.query("lpk-a", "SELECT count(DISTINCT key) FROM _begawi_outbox")[0][0]) ?? 0
            try FaultProxyTests.insert(cluster, "lpk-b", (round * 200)...(round * 200 + 199), payload: 48)
            try cluster.syncUntilDone("lpk-b")
            written += changes
            keys += 400
            let attempts = try FaultProxyTests.syncThroughFaults(cluster, "lpk-a", limit: 40)
            attemptsTotal += attempts.count
            failedWithProgress += attempts.dropLast().filter { $0.after > $0.before }.count
            let (sent, earlier) = try FaultProxyTests.checkResumption(cluster, "lpk-a", attempts, changes: changes, "seed \(seed) round \(round)")
            sentBySuccesses += sent
            ackedByFailures += earlier
            round += 1
        }
        try cluster.syncUntilDone("lpk-b")
        let stats = try proxy.stop()
        print("FaultProxyTests.cutsInBothDirections: \(round) rounds, \(attemptsTotal) attempts, stats \(stats); rows changed \(written), sent by successful attempts \(sentBySuccesses), acknowledged during cut attempts \(ackedByFailures)")
        try FaultProxyTests.expectConverged(cluster, keys: keys, "seed \(seed)")
        #expect(stats.cuts > 0, "seed \(seed): the proxy cut no connection")
        #expect(proxy.count("cut up after") > 0 && proxy.count("cut down after") > 0,
                "seed \(seed): cuts were not seen in both directions (up \(proxy.count("cut up after")), down \(proxy.count("cut down after")))")
        #expect(failedWithProgress > 0, "seed \(seed): no cut attempt left acknowledged batches behind; resumption was not exercised")
        // Acknowledged batches are not sent again: successful attempts sent only what the cut ones left.
        #expect(sentBySuccesses + ackedByFailures == written, "seed \(seed): \(sentBySuccesses) + \(ackedByFailures) rows acknowledged, \(written) changed")
        #expect(sentBySuccesses < written, "seed \(seed): successful attempts sent \(sentBySuccesses) rows of \(written): nothing was resumed")
    }

    @Test(arguments: ClusterStore.available) func stallsLongerThanTheStallLimitAreAbandonedAndResumed(store: ClusterStore) throws {
        let seed = FaultProxyTests.seed
        print("FaultProxyTests.stalls: proxy seed \(seed) (replay: BEGAWI_FAULT_SEED=\(seed))")
        let cluster = try FaultProxyTests.makeCluster("fault-stall", store: store)
        let stallSeconds = 12.0
        let proxy = try FaultProxy(cluster: cluster, name: "stall", seed: seed,
                                   faults: ["--stall-probability", "0.5", "--stall-seconds", "\(Int(stallSeconds))", "--stall-after", "3000-30000"])
        try cluster.writeSiteConfig("lpk-a", url: proxy.url, extra: "batch_rows = 50")
        try cluster.setSiteOption("lpk-a", "stall_seconds", "2")
        var keys = 0, round = 0, abandoned = 0, attemptsTotal = 0
        var slowest = 0.0
        while round < 10, round < 2 || proxy.count("stall for") == 0 {
            try FaultProxyTests.insert(cluster, "lpk-a", (round * 200)...(round * 200 + 199), payload: 48)
            let changes = Int(try cluster.query("lpk-a", "SELECT count(DISTINCT key) FROM _begawi_outbox")[0][0]) ?? 0
            try FaultProxyTests.insert(cluster, "lpk-b", (round * 200)...(round * 200 + 199), payload: 48)
            try cluster.syncUntilDone("lpk-b")
            keys += 400
            let attempts = try FaultProxyTests.syncThroughFaults(cluster, "lpk-a", limit: 20)
            attemptsTotal += attempts.count
            // A stall ends an attempt, or (after an acknowledged batch) is resumed within it: each says so once.
            let stalls = attempts.map { $0.output.components(separatedBy: "stopped responding").count - 1 }
            abandoned += stalls.reduce(0, +)
            // An attempt that resumed after stalls waited about the stall limit for each.
            for (attempt, count) in zip(attempts, stalls) { slowest = max(slowest, attempt.seconds - Double(max(0, count - 1)) * 3.5) }
            _ = try FaultProxyTests.checkResumption(cluster, "lpk-a", attempts, changes: changes, "seed \(seed) round \(round)")
            round += 1
        }
        try cluster.syncUntilDone("lpk-b")
        let stats = try proxy.stop()
        print("FaultProxyTests.stalls: \(round) rounds, \(attemptsTotal) attempts, \(abandoned) abandoned stalls, slowest attempt \(String(format: "%.1f", slowest)) s, stats \(stats)")
        try FaultProxyTests.expectConverged(cluster, keys: keys, "seed \(seed)")
        #expect(stats.stalls > 0, "seed \(seed): the proxy stalled no connection")
        #expect(abandoned > 0, "seed \(seed): no attempt reported a stalled hub (\"stopped responding\")")
        // The site gives up after stall_seconds (2 s), long before the proxy's stall ends.
        #expect(slowest < stallSeconds - 3, "seed \(seed): an attempt took \(slowest) s; a stalled transfer should be abandoned after about 2 s")
    }

    @Test(arguments: ClusterStore.available) func trickleAt64KbitPerSecondCompletes(store: ClusterStore) throws {
        let seed = FaultProxyTests.seed
        let cluster = try FaultProxyTests.makeCluster("fault-trickle", store: store)
        let proxy = try FaultProxy(cluster: cluster, name: "trickle", seed: seed, faults: ["--rate-bps", "64000"])
        try cluster.writeSiteConfig("lpk-a", url: proxy.url, extra: "batch_rows = 50")
        // About 130 KB up and 50 KB down on the wire: random payloads do not compress.
        try FaultProxyTests.insert(cluster, "lpk-a", 0...249, payload: 480)
        try FaultProxyTests.insert(cluster, "lpk-b", 0...99, payload: 480)
        try cluster.syncUntilDone("lpk-b")
        let start = Date()
        let attempts = try FaultProxyTests.syncThroughFaults(cluster, "lpk-a", limit: 3)
        let seconds = Date().timeIntervalSince(start)
        try cluster.syncUntilDone("lpk-b")
        let stats = try proxy.stop()
        print("FaultProxyTests.trickle: \(attempts.count) attempts in \(String(format: "%.1f", seconds)) s, stats \(stats)")
        try FaultProxyTests.expectConverged(cluster, keys: 350, "trickle")
        // A slow link is not a broken one: the first attempt completes.
        #expect(attempts.count == 1 && attempts.last?.status == 0, "a sync at 64 kbit/s needed \(attempts.count) attempts:\n\(attempts.map(\.output).joined(separator: "\n---\n"))")
        #expect(stats.bytesUp + stats.bytesDown > 150_000, "only \(stats.bytesUp + stats.bytesDown) bytes crossed the proxy; the dataset is meant to be a few hundred KB")
        // The proxy really throttled: 8000 bytes/s each way.
        #expect(seconds >= Double(max(stats.bytesUp, stats.bytesDown)) / 8000 * 0.8, "\(stats.bytesUp) bytes up in \(seconds) s is faster than 64 kbit/s")
        let summary = SyncSummary(attempts.last?.output ?? "")
        #expect(summary?.sent == 250 && summary?.received == 100, "unexpected round: \(String(describing: summary))")
    }

    @Test(arguments: ClusterStore.available) func daemonBehindALinkResetEveryTwoSecondsConverges(store: ClusterStore) throws {
        let seed = FaultProxyTests.seed
        let cluster = try FaultProxyTests.makeCluster("fault-reset", siteExtra: "batch_rows = 50\npull_interval_seconds = 1", store: store)
        // A link that drops every 2 s and carries 200 kbit/s: a round cannot finish between two drops.
        // Rows of 192 bytes keep it busy for several seconds more, so that drops land on requests in flight
        // and not only on the idle connection between rounds (with 96 bytes, some runs saw none).
        let proxy = try FaultProxy(cluster: cluster, name: "reset", seed: seed, faults: ["--reset-every", "2", "--rate-bps", "200000"])
        try cluster.writeSiteConfig("lpk-a", url: proxy.url, extra: "batch_rows = 50\npull_interval_seconds = 1")
        try FaultProxyTests.insert(cluster, "lpk-a", 0...599, payload: 192)
        try FaultProxyTests.insert(cluster, "lpk-b", 0...399, payload: 192)
        try cluster.syncUntilDone("lpk-b")
        try cluster.startDaemon("lpk-a")
        defer { cluster.stopDaemon("lpk-a") }

        func converged(keys: Int) throws -> Bool {
            let hub = try cluster.rows("hub", "participants")
            let site = try cluster.rows("lpk-a", "participants")
            return hub.count == keys && site == hub
        }
        func waitForConvergence(keys: Int, within seconds: Double) throws -> Double? {
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                // lpk-b keeps pulling directly, so the hub's view includes what lpk-a pushed.
                if try converged(keys: keys) { return Date().timeIntervalSince(start) }
                Thread.sleep(forTimeInterval: 0.5)
            }
            return nil
        }
        let first = try waitForConvergence(keys: 1000, within: 90)
        #expect(first != nil, "the daemon did not converge within 90 s behind a link reset every 2 s; its log:\n\(cluster.path("lpk-a.log"))")
        // More work on both sides while the daemon runs: it pushes its own and pulls the other's.
        try FaultProxyTests.insert(cluster, "lpk-a", 600...899, payload: 192)
        try FaultProxyTests.update(cluster, "lpk-a", below: 600, step: 3, payload: 192)
        try FaultProxyTests.insert(cluster, "lpk-b", 400...599, payload: 192)
        try cluster.syncUntilDone("lpk-b")
        let second = try waitForConvergence(keys: 1500, within: 90)
        #expect(second != nil, "the daemon did not converge again within 90 s")
        cluster.stopDaemon("lpk-a")
        try cluster.syncUntilDone("lpk-b")
        let stats = try proxy.stop()
        let log = (try? String(contentsOfFile: cluster.path("lpk-a.log"), encoding: .utf8)) ?? ""
        let failures = log.components(separatedBy: "sync failed").count - 1
        print("FaultProxyTests.daemonReset: converged in \(first.map { String(format: "%.1f", $0) } ?? "-") s and \(second.map { String(format: "%.1f", $0) } ?? "-") s, \(failures) failed rounds, stats \(stats)")
        try FaultProxyTests.expectConverged(cluster, keys: 1500, "reset-every 2")
        #expect(stats.resets > 0, "the proxy reset no connection")
        #expect(failures > 0, "no round of the daemon was broken by a reset; the test did not exercise recovery")
    }
}

/// `Tests/Tools/faultproxy.py` between a site and the hub, with its fault log and stats.
final class FaultProxy {
    struct Stats: Decodable, CustomStringConvertible {
        var connections: Int
        var cuts: Int
        var stalls: Int
        var resets: Int
        var bytesUp: Int
        var bytesDown: Int
        var connectFailures: Int
        var seed: UInt64

        var description: String {
            "connections \(connections), cuts \(cuts), stalls \(stalls), resets \(resets), up \(bytesUp) B, down \(bytesDown) B"
        }
    }

    let run: BackgroundRun
    let port: Int
    let statsPath: String

    /// Starts the proxy in front of the cluster's hub and waits until it listens.
    init(cluster: Cluster, name: String, seed: UInt64, faults: [String]) throws {
        let script = Repository.root.appendingPathComponent("Tests/Tools/faultproxy.py").path
        let portFile = cluster.path("\(name).proxy.port")
        statsPath = cluster.path("\(name).proxy.stats.json")
        // A child inherits the signal mask of the thread that starts it, and the test runner's threads
        // block SIGTERM: unblock it, or the proxy never hears the signal that makes it write its stats.
        let launcher = """
            import runpy, signal, sys
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
            sys.argv = sys.argv[1:]
            runpy.run_path(sys.argv[0], run_name="__main__")
            """
        run = try BackgroundRun(executable: "/usr/bin/env", arguments: [
            "python3", "-c", launcher, script, "--listen", "127.0.0.1:0", "--target", "127.0.0.1:\(cluster.hubPort)",
            "--port-file", portFile, "--stats-file", statsPath, "--seed", "\(seed)", "--verbose",
        ] + faults, outputPath: cluster.path("\(name).proxy.log"))
        let deadline = Date().addingTimeInterval(20)
        while true {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                self.port = port
                return
            }
            guard run.isRunning, Date() < deadline else { throw ClusterError("faultproxy did not start: \(run.output)") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    var url: String { "https://127.0.0.1:\(port)" }

    /// How often `text` appears in the proxy's log (its --verbose lines name each fault).
    func count(_ text: String) -> Int { run.output.components(separatedBy: text).count - 1 }

    /// Stops the proxy (SIGTERM) and reads the stats it writes on the way out.
    func stop() throws -> Stats {
        run.stop(signal: SIGTERM, timeout: 10)
        guard let data = FileManager.default.contents(atPath: statsPath) else {
            throw ClusterError("faultproxy wrote no stats to \(statsPath): \(run.output)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Stats.self, from: data)
    }
}
