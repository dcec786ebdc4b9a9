import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// A site daemon the hub answers `too-many-failures` waits as long as the hub asks (its
/// `retry_after_seconds`), past the daemon's own backoff cap, instead of knocking at its cap.
@Suite(.blocking) struct RetryAfterTests {
    /// The `retry.in_ms` of each "sync failed" line of `log` whose error is `code`.
    static func delays(_ log: String, code: String) -> [Int] {
        log.split(separator: "\n").compactMap { line -> Int? in
            guard line.contains("sync failed"), line.contains(code), let r = line.range(of: "retry.in_ms=") else { return nil }
            return Int(line[r.upperBound...].prefix { $0.isNumber })
        }
    }

    @Test func aDaemonRefusedTooManyFailuresWaitsWhatTheHubAsks() throws {
        // Three tries a minute: once they are used up, one comes back every 20 s.
        let cluster = try Cluster(label: "retry-after", hubExtra: "auth_failures_per_minute = 3")
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        // A wrong credential, written over the right one in place (the file keeps its mode).
        let credential = try FileHandle(forUpdating: URL(fileURLWithPath: cluster.path("lpk-a.credential")))
        let wrong = "bgw1.this-credential-is-wrong-on-purpose-0000000000\n"
        try credential.truncate(atOffset: 0)
        try credential.write(contentsOf: Data(wrong.utf8))
        try credential.close()
        try cluster.startDaemon("lpk-a")
        let log = { (try? String(contentsOfFile: cluster.path("lpk-a.log"), encoding: .utf8)) ?? "" }
        let refused = waitFor(60) { !Self.delays(log(), code: "too-many-failures").isEmpty }
        // A few seconds more: a daemon that ignored the hub would knock again at its 2 s cap.
        Thread.sleep(forTimeInterval: 5)
        cluster.stopDaemon("lpk-a")
        let text = log()
        #expect(refused, "the daemon was never answered too-many-failures\n\(text)")
        let waits = Self.delays(text, code: "too-many-failures")
        // backoff_max_seconds = 2 at the site: every wait above 2 s is the hub's (up to 20 s: one try
        // back every 60 / 3 s, less the time the first tries took). Knocking at the cap would have
        // logged three or more in the 5 s; the hub's wait, one (two if the first tries took long).
        #expect((1...2).contains(waits.count), "\(waits)\n\(text)")
        #expect(waits.allSatisfy { $0 > 2_000 && $0 <= 20_000 + 2_000 }, "\(waits)")
        #expect(!text.contains(wrong.trimmingCharacters(in: .whitespacesAndNewlines)), "the credential must never be logged")
    }
}
