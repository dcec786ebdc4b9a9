import BegawiTestSupport
import Foundation
import Testing

/// TLS suites and guessing of credentials: only AEAD suites in TLS 1.2, and wrong credentials
/// slowed down per address without locking out a site elsewhere.
@Suite(.blocking) struct GuessingTests {
    /// Runs the `curl` command (the tool, not the library: it can choose a source address).
    static func curl(_ arguments: [String]) throws -> String {
        try ChildProcess.run("/usr/bin/env", ["curl", "-s"] + arguments).output
    }

    /// Whether `openssl s_client` completes a TLS 1.2 handshake offering only `cipher`.
    static func handshakes(port: Int, ca: String, cipher: String) throws -> (Bool, String) {
        let result = try ChildProcess.run("/usr/bin/env", ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca,
                                                           "-verify_return_error", "-tls1_2", "-cipher", cipher],
                                          input: "", mergingErrors: true)
        return (result.status == 0 && result.output.contains("Cipher is \(cipher)"), result.output)
    }

    @Test(arguments: ClusterStore.available) func tls12OffersOnlyAEADSuites(store: ClusterStore) throws {
        let cluster = try Cluster(label: "ciphers", store: store)
        try cluster.startHub()
        let ca = cluster.path("tls/ca.crt")
        for cbc in ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256"] {
            let (ok, text) = try Self.handshakes(port: cluster.hubPort, ca: ca, cipher: cbc)
            #expect(!ok, "the hub accepted \(cbc): \(text.suffix(400))")
        }
        for aead in ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"] {
            let (ok, text) = try Self.handshakes(port: cluster.hubPort, ca: ca, cipher: aead)
            #expect(ok, "the hub refused \(aead): \(text.suffix(400))")
        }
    }

    /// 50 wrong credentials from one address: after 10, 429 with Retry-After, even for a right
    /// credential from there; a site from another address syncs; the log sums it up once.
    ///
    /// Every request goes from one `curl` (transfers joined by `--next`), so that no process start
    /// on a loaded machine lets the address's tries refill (one per 6 s) between the wrong guesses
    /// and the right credential, and all of them fall in one log window.
    @Test(arguments: ClusterStore.available) func wrongCredentialsAreSlowedDownPerAddress(store: ClusterStore) throws {
        let cluster = try Cluster(label: "guess", hubExtra: "log_interval_seconds = 10", store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        let ca = cluster.path("tls/ca.crt")
        let replica = SiteIdentity.freshReplicaID()
        let url = cluster.hubURL + "/v1/session"
        let token = try SiteIdentity.credential(cluster, "lpk-a")
        // 50 wrong guesses over one connection (each answer's body to /dev/null, its status printed);
        let guesses = ["--interface", "127.0.0.2", "--cacert", ca, "-w", "code=%{http_code}\\n",
                       "-H", "Begawi-Replica: \(replica)", "-H", "Authorization: Bearer wrong-guess"]
            + Array(repeating: ["-o", "/dev/null", url], count: 50).flatMap { $0 }
        // then the right credential from the same address (its head printed, then a mark);
        let right = ["--next", "--interface", "127.0.0.2", "--cacert", ca, "-D", "-", "-o", "/dev/null", "-w", "==\\n",
                     "-H", "Authorization: Bearer \(token)", "-H", "Begawi-Replica: \(replica)", url]
        // then the dashboard's sign-in from a third address, counted the same way.
        let signIn = ["--next", "--interface", "127.0.0.3", "--cacert", ca, "-w", "code=%{http_code}\\n", "-d", "kredensial=wrong-guess"]
            + Array(repeating: ["-o", "/dev/null", url.replacingOccurrences(of: "/v1/session", with: "/office/masuk")], count: 12).flatMap { $0 }
        let output = try Self.curl(guesses + right + signIn).components(separatedBy: "\r\n\r\n==\n")
        try #require(output.count == 2, "\(output)")
        let codes = output[0].split(separator: "\n").filter { $0.hasPrefix("code=") }.map { String($0.dropFirst(5)) }
        #expect(codes.count == 50)
        #expect(codes.filter { $0 == "401" }.count == 10, "\(codes)")
        #expect(codes.filter { $0 == "429" }.count == 40, "\(codes)")

        // The right credential from the same address is not even checked: 429 with Retry-After.
        let head = output[0].range(of: "HTTP/").map { String(output[0][$0.lowerBound...]) } ?? ""
        #expect(head.hasPrefix("HTTP/1.1 429"), "\(head)")
        let retry = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("retry-after:") }
        #expect(retry.flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) }.map { (1...60).contains($0) } == true, "\(head)")

        let signInCodes = output[1].split(separator: "\n").filter { $0.hasPrefix("code=") }.map { String($0.dropFirst(5)) }
        #expect(signInCodes.filter { $0 == "401" }.count == 10 && signInCodes.filter { $0 == "429" }.count == 2, "\(signInCodes)")

        // A site from 127.0.0.1 is not punished for its neighbours.
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, phone) VALUES ('p1', '6474010101900001', 'Siti Aminah', '0811')")
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "participants")["p1"] != nil)

        let lines = ExposureTests.waitForLines(cluster, containing: "wrong or missing credentials", seconds: 20)
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.contains("20 wrong or missing credentials from 2 addresses") == true, "\(lines)")
        #expect(lines.first?.contains("43 requests answered too-many-failures") == true, "\(lines)")
        #expect(!cluster.hubLog().contains("wrong-guess"), "a credential reached the log")
    }
}
