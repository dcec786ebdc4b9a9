import BegawiTestSupport
import Foundation
import Testing

/// Wrong credentials behind two `begawi hub run` processes on one PostgreSQL database: the
/// allowance (`auth_failures_per_minute`) is one for the database, not one per process, whether
/// the guesses go to the API or to the dashboard's sign-in; a right credential from another address
/// goes through both; and a process whose database stops counting fails closed for the addresses
/// it would ask about.
@Suite(.blocking) struct ManyHubsGuessingTests {
    /// One `curl` group: requests from `interface` to each of `urls`, each answer's status printed.
    static func group(_ interface: String, _ ca: String, _ headers: [String], _ urls: [String], first: Bool = false) -> [String] {
        (first ? [] : ["--next"]) + ["--interface", interface, "--cacert", ca, "-w", "code=%{http_code}\\n"]
            + headers.flatMap { ["-H", $0] } + urls.flatMap { ["-o", "/dev/null", $0] }
    }

    /// The statuses `curl` printed, in order.
    static func codes(_ arguments: [String]) throws -> [String] {
        try GuessingTests.curl(arguments).split(separator: "\n").filter { $0.hasPrefix("code=") }.map { String($0.dropFirst(5)) }
    }

    @Test(.enabled(if: ClusterStore.server != nil, "needs BEGAWI_TEST_POSTGRES"))
    func failuresSpreadOverTwoHubsAreCountedTogether() throws {
        // Six tries a minute: one comes back every 10 s, longer than the guesses take.
        let cluster = try Cluster(label: "guess-many", hubExtra: "auth_failures_per_minute = 6\nlog_interval_seconds = 5", store: .postgres)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let second = try ManyHubsTests.ExtraHub("hub-2", cluster: cluster)
        try second.start()
        defer { second.kill9() }
        let ca = cluster.path("tls/ca.crt")
        let token = try SiteIdentity.credential(cluster, "lpk-a")
        let replica = SiteIdentity.freshReplicaID()
        let (one, two) = (cluster.hubURL + "/v1/session", second.url + "/v1/session")
        let wrong = ["Begawi-Replica: \(replica)", "Authorization: Bearer wrong-guess"]
        let right = ["Begawi-Replica: \(replica)", "Authorization: Bearer \(token)"]

        // Three wrong guesses through each hub use up the six tries; the next through either is
        // refused unchecked, and so is the right credential from that address.
        let spread = try Self.codes(Self.group("127.0.0.2", ca, wrong, [one, two, one, two, one, two], first: true)
            + Self.group("127.0.0.2", ca, wrong, [one, two])
            + Self.group("127.0.0.2", ca, right, [two, one]))
        #expect(spread == ["401", "401", "401", "401", "401", "401", "429", "429", "429", "429"], "\(spread)")

        // The dashboard's sign-in is counted the same way.
        let signIn = try Self.codes(Self.group("127.0.0.4", ca, [], [], first: true) + ["-d", "kredensial=wrong-guess"]
            + Array(repeating: [cluster.hubURL + "/office/masuk", second.url + "/office/masuk"], count: 4).flatMap { $0 }.flatMap { ["-o", "/dev/null", $0] })
        #expect(signIn == ["401", "401", "401", "401", "401", "401", "429", "429"], "\(signIn)")

        // A right credential from another address goes through both.
        let elsewhere = try Self.codes(Self.group("127.0.0.1", ca, right, [one, two], first: true))
        #expect(elsewhere == ["200", "200"], "\(elsewhere)")

        // Guesses all through one hub: the other has heard (NOTIFY) that the address ran out of
        // tries and refuses it; had the word come late, its first try there would be checked (the
        // one try beyond the allowance a process can give), and the rest refused.
        let oneSided = try Self.codes(Self.group("127.0.0.3", ca, wrong, Array(repeating: one, count: 7), first: true)
            + Self.group("127.0.0.3", ca, wrong, [two, two, two]))
        #expect(oneSided.prefix(7) == ["401", "401", "401", "401", "401", "401", "429"], "\(oneSided)")
        #expect(oneSided.count == 10 && ["401", "429"].contains(oneSided[7]) && oneSided.suffix(2) == ["429", "429"], "\(oneSided)")

        // The counts' table gone: an address that failed on a hub is answered 503 there, unchecked,
        // and a right credential from a clean address still goes through; the journal says so once
        // per window, without the address.
        _ = try cluster.query("hub", "DROP TABLE _hub_auth_failures")
        let closed = try Self.codes(Self.group("127.0.0.5", ca, wrong, [one, one], first: true)
            + Self.group("127.0.0.5", ca, right, [one])
            + Self.group("127.0.0.1", ca, right, [one]))
        #expect(closed == ["401", "503", "503", "200"], "\(closed)")
        let lines = ExposureTests.waitForLines(cluster, containing: "sign-in limits shared through the database failed", seconds: 20)
        #expect(!lines.isEmpty, "\(second.log.suffix(2000))")
        #expect(lines.allSatisfy { !$0.contains("127.0.0.5") }, "\(lines)")
        #expect(!cluster.hubLog().contains("wrong-guess") && !second.log.contains("wrong-guess"), "a credential reached the log")
    }
}
