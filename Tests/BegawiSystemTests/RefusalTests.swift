import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Requests the hub must refuse for who sends them, and site configurations the site must refuse
/// for where they point: each refused with a reason, none changing anything at the hub.
@Suite(.blocking) struct RefusalTests {
    /// A running hub with site lpk-a registered; `synced` lets it sync once (claiming its replica).
    static func cluster(_ label: String, sites: [String] = ["lpk-a"], synced: Bool = true, store: ClusterStore = .sqlite) throws -> Cluster {
        // Dozens of wrong credentials from one address: each must get its own 401, not the guessing
        // limit's 429 (GuessingTests covers that).
        let cluster = try Cluster(label: label, hubExtra: "auth_failures_per_minute = 10000", store: store)
        try cluster.startHub()
        for s in sites { try cluster.addSite(s) }
        if synced {
            try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES ('p1', '6474010101900001', 'Siti Aminah')")
            try cluster.sync("lpk-a")
        }
        return cluster
    }

    /// A change waiting at the site, so that a sync that got through would change the hub.
    static func pendingChange(_ cluster: Cluster, _ site: String = "lpk-a") throws {
        try cluster.staff(site, "INSERT INTO participants(id, nik, full_name) VALUES (?, '6474010101900002', 'Budi Santoso')", [UUID().uuidString])
    }

    /// Session, push of a valid batch, and pull, each answered `status` with a JSON reason (and `code`, if given).
    static func expectEveryEndpoint(_ probe: HubProbe, _ status: Int, code: String?, hubReplicaID: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let batch = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["intruder-row"],
                                              milliseconds: CraftedBatch.nowMilliseconds)
        let answers = [
            ("session", try await probe.session()),
            ("push", try await probe.push(try BatchCodec.encode(batch))),
            ("pull", try await probe.pull("?epoch=\(hubReplicaID)&base=0&position=0")),
        ]
        for (what, answer) in answers {
            #expect(answer.status == status, "\(what): \(answer)", sourceLocation: sourceLocation)
            #expect(answer.isJSONRefusal, "\(what): \(answer)", sourceLocation: sourceLocation)
            if let code { #expect(answer.error == code, "\(what): \(answer)", sourceLocation: sourceLocation) }
        }
    }

    static func hubReplicaID(_ cluster: Cluster) async throws -> String {
        let answer = try await HubProbe(cluster, site: "lpk-a").session()
        return try #require(answer.field("epoch"), "\(answer)")
    }

    /// The site's error output names `problem` and never shows the credential or its secret part.
    static func expectQuietAboutCredential(_ errors: String, credential: String, naming problem: String,
                                           sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(errors.localizedCaseInsensitiveContains(problem), "stderr: \(errors)", sourceLocation: sourceLocation)
        #expect(!errors.contains(credential), "stderr shows the credential: \(errors)", sourceLocation: sourceLocation)
        if let secret = credential.split(separator: ".").last, secret.count >= 8 {
            #expect(!errors.contains(secret), "stderr shows the credential's secret: \(errors)", sourceLocation: sourceLocation)
        }
    }

    // MARK: credentials

    @Test(arguments: ClusterStore.available) func missingCredentialIsRefusedWith401(store: ClusterStore) async throws {
        let cluster = try Self.cluster("no-credential", store: store)
        let hubReplicaID = try await Self.hubReplicaID(cluster)
        let replica = try SiteIdentity.replicaID(cluster, "lpk-a")
        let body = try BatchCodec.encode(CraftedBatch.participants(replicaID: replica, site: "crafted", keys: ["intruder-row"],
                                                                   milliseconds: CraftedBatch.nowMilliseconds))
        let before = try HubSnapshot.take(cluster)
        let requests: [(String, String, [(String, String)], [UInt8])] = [
            ("GET", "/v1/session", [], []),
            ("POST", "/v1/push", [("Content-Type", "application/vnd.begawi.batch"), ("Content-Length", "\(body.count)")], body),
            ("GET", "/v1/pull?epoch=\(hubReplicaID)&base=0&position=0", [], []),
            // Not a bearer token at all.
            ("GET", "/v1/session", [("Authorization", "Basic bHBrLWE6c2VjcmV0")], []),
            ("GET", "/v1/session", [("Authorization", "Bearer")], []),
        ]
        for (method, path, headers, body) in requests {
            let connection = try RawTLSConnection(port: cluster.hubPort, caFile: cluster.path("tls/ca.crt"))
            defer { connection.close() }
            connection.write(RawTLSConnection.head(method, path, [("Begawi-Replica", replica)] + headers))
            connection.write(body)
            let answer = try #require(connection.response(within: 5), "\(method) \(path) \(headers): no answer")
            #expect(answer.status == 401, "\(method) \(path) \(headers): \(answer)")
            #expect(answer.error == "unauthorized", "\(answer)")
            #expect(answer.isJSONRefusal, "\(answer)")
        }
        #expect(try HubSnapshot.take(cluster) == before)
    }

    @Test(arguments: ClusterStore.available) func malformedCredentialIsRefusedWith401(store: ClusterStore) async throws {
        let cluster = try Self.cluster("bad-credential", store: store)
        let hubReplicaID = try await Self.hubReplicaID(cluster)
        let real = try SiteIdentity.credential(cluster, "lpk-a")
        let secret = String(real.split(separator: ".").last!)
        let malformed = [
            "not-a-credential",
            "bgw1.lpk-a",
            "bgw1.lpk-a.\(secret.prefix(63))",  // one hex digit short
            "bgw1.lpk-a.\(secret.uppercased())",  // not lowercase hex
            "bgw2.lpk-a.\(secret)",  // unknown version
            "bgw1..\(secret)",  // no site id
            "bgw1.lpk-a.\(secret).extra",
            "bgw1.lpk-a.\(String(repeating: "g", count: 64))",
        ]
        let before = try HubSnapshot.take(cluster)
        for token in malformed {
            try await Self.expectEveryEndpoint(try HubProbe(cluster, site: "lpk-a", credential: token), 401, code: "unauthorized", hubReplicaID: hubReplicaID)
        }
        #expect(try HubSnapshot.take(cluster) == before)

        // The site daemon with such a credential: refused, and the token stays out of its output.
        try Self.pendingChange(cluster)
        let token = "bgw1.lpk-a.\(secret.prefix(40))"
        try token.write(toFile: cluster.path("lpk-a.credential"), atomically: true, encoding: .utf8)
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        Self.expectQuietAboutCredential(run.errors, credential: token, naming: "credential")
        #expect(try HubSnapshot.take(cluster) == before)
    }

    @Test(arguments: ClusterStore.available) func wrongSecretIsRefusedWith401AndNeverShown(store: ClusterStore) async throws {
        let cluster = try Self.cluster("wrong-secret", store: store)
        let hubReplicaID = try await Self.hubReplicaID(cluster)
        let real = try SiteIdentity.credential(cluster, "lpk-a")
        // The right site id with another valid-looking secret.
        let wrong = "bgw1.lpk-a." + String(String(real.split(separator: ".").last!).reversed())
        #expect(wrong != real)
        let before = try HubSnapshot.take(cluster)
        try await Self.expectEveryEndpoint(try HubProbe(cluster, site: "lpk-a", credential: wrong), 401, code: "unauthorized", hubReplicaID: hubReplicaID)

        try Self.pendingChange(cluster)
        try (wrong + "\n").write(toFile: cluster.path("lpk-a.credential"), atomically: true, encoding: .utf8)
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        Self.expectQuietAboutCredential(run.errors, credential: wrong, naming: "credential")
        #expect(!run.output.contains(wrong))
        #expect(!cluster.hubLog().contains(String(wrong.split(separator: ".").last!)), "the hub's log shows the secret")
        #expect(try HubSnapshot.take(cluster) == before)
    }

    @Test(arguments: ClusterStore.available) func revokedCredentialIsRefusedWith401(store: ClusterStore) async throws {
        let cluster = try Self.cluster("revoked", store: store)
        let hubReplicaID = try await Self.hubReplicaID(cluster)
        let credential = try SiteIdentity.credential(cluster, "lpk-a")
        try Cluster.run(["hub", "revoke-site", "--config", cluster.hubConfig, "--id", "lpk-a"])
        let before = try HubSnapshot.take(cluster)
        try await Self.expectEveryEndpoint(try HubProbe(cluster, site: "lpk-a"), 401, code: "unauthorized", hubReplicaID: hubReplicaID)

        try Self.pendingChange(cluster)
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        Self.expectQuietAboutCredential(run.errors, credential: credential, naming: "revoked")
        #expect(try HubSnapshot.take(cluster) == before)
    }

    /// A replica belongs to the first site that used it: another site's valid credential with it is forbidden.
    @Test(arguments: ClusterStore.available) func anotherSitesCredentialCannotUseAClaimedReplica(store: ClusterStore) async throws {
        let cluster = try Self.cluster("claimed", sites: ["lpk-a", "lpk-b"], store: store)
        let hubReplicaID = try await Self.hubReplicaID(cluster)
        let replicaA = try SiteIdentity.replicaID(cluster, "lpk-a")
        let credentialB = try SiteIdentity.credential(cluster, "lpk-b")
        let before = try HubSnapshot.take(cluster)
        let probe = try HubProbe(cluster, site: "lpk-b", replica: replicaA)
        try await Self.expectEveryEndpoint(probe, 403, code: nil, hubReplicaID: hubReplicaID)
        #expect(try await probe.session().field("message")?.contains(replicaA) == true)

        // lpk-a's site daemon given lpk-b's credential.
        try Self.pendingChange(cluster)
        try (credentialB + "\n").write(toFile: cluster.path("lpk-a.credential"), atomically: true, encoding: .utf8)
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        Self.expectQuietAboutCredential(run.errors, credential: credentialB, naming: "another site")
        #expect(try HubSnapshot.take(cluster) == before)
        // lpk-b's own replica is still its own to claim.
        try cluster.sync("lpk-b")
    }

    // MARK: site configuration

    @Test(arguments: ClusterStore.available) func plainHTTPHubURLIsRefusedAtStart(store: ClusterStore) throws {
        let cluster = try Self.cluster("plain-http", synced: false, store: store)
        let listener = try PlainListener()
        defer { listener.close() }
        try Self.pendingChange(cluster)
        try cluster.writeSiteConfig("lpk-a", url: "http://127.0.0.1:\(listener.port)")
        let before = try HubSnapshot.take(cluster)
        let started = Date()
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        #expect(run.errors.contains("https"), "stderr: \(run.errors)")
        #expect(run.errors.contains("hub_url"), "stderr: \(run.errors)")
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(!listener.hasPendingConnection, "the site connected to the http:// address before refusing it")
        #expect(try HubSnapshot.take(cluster) == before)
    }

    @Test(arguments: ClusterStore.available) func hubCertificateFromAnUntrustedCAFailsNamingTheCAFile(store: ClusterStore) throws {
        let cluster = try Self.cluster("other-ca", synced: false, store: store)
        try Cluster.run(["hub", "make-certificates", "--out", cluster.path("other")])
        try Self.pendingChange(cluster)
        let config = try String(contentsOfFile: cluster.siteConfig("lpk-a"), encoding: .utf8)
        #expect(config.contains("ca_file = \"tls/ca.crt\""))
        try config.replacingOccurrences(of: "ca_file = \"tls/ca.crt\"", with: "ca_file = \"other/ca.crt\"")
            .write(toFile: cluster.siteConfig("lpk-a"), atomically: true, encoding: .utf8)
        let before = try HubSnapshot.take(cluster)
        let run = try cluster.sync("lpk-a", expect: -1)
        #expect(run.status != 0)
        #expect(run.errors.contains("other/ca.crt"), "stderr: \(run.errors)")
        // No session was opened: the site's replica was never claimed, nothing was pushed.
        #expect(try HubSnapshot.take(cluster) == before)
        #expect(before.bookkeeping["replicas"] == [])
    }
}

/// A plain TCP socket listening on 127.0.0.1 that never accepts: it only tells whether anyone connected.
private final class PlainListener {
    let socket: Int32
    let port: Int

    init() throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = fd >= 0 && withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                Glibc.bind(fd, sa, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, sa, &length) == 0
            }
        }
        guard bound else {
            if fd >= 0 { Glibc.close(fd) }
            throw ClusterError("cannot listen on 127.0.0.1: errno \(errno)")
        }
        socket = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a connection is waiting to be accepted.
    var hasPendingConnection: Bool {
        var fd = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0
    }

    func close() { Glibc.close(socket) }
}
