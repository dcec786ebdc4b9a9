import BegawiCore
import BegawiTestSupport
import Foundation
import Testing

/// Bad input from an authenticated site: each request answered with a 4xx and a reason, nothing of
/// it applied at the hub, and the hub still serving normal syncs afterwards.
@Suite(.blocking) struct BadInputTests {
    /// A running hub with site lpk-a synced once: its replica is claimed and the hub holds one row.
    static func cluster(_ label: String, hubExtra: String = "", store: ClusterStore = .sqlite) throws -> Cluster {
        let cluster = try Cluster(label: label, hubExtra: hubExtra, store: store)
        try cluster.startHub()
        try cluster.addSite("lpk-a")
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES ('p1', '6474010101900001', 'Siti Aminah')")
        try cluster.sync("lpk-a")
        return cluster
    }

    /// The hub still runs, and a new change at the site reaches it by an ordinary `begawi site sync`.
    static func expectServiceUnharmed(_ cluster: Cluster, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(cluster.hub?.isRunning == true, "the hub exited: \(cluster.hubLog())", sourceLocation: sourceLocation)
        let key = "after-\(UUID().uuidString)"
        try cluster.staff("lpk-a", "INSERT INTO participants(id, nik, full_name) VALUES (?, '6474010101900002', 'Budi Santoso')", [key])
        try cluster.sync("lpk-a")
        #expect(try cluster.rows("hub", "participants")[key] != nil, "a normal sync did not reach the hub", sourceLocation: sourceLocation)
    }

    /// A 4xx JSON refusal with this status and code.
    static func expectRefusal(_ answer: ProbeAnswer, _ status: Int, _ code: String, _ what: @autoclosure () -> String = "",
                              sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == status, "\(what()): \(answer)", sourceLocation: sourceLocation)
        #expect(answer.error == code, "\(what()): \(answer)", sourceLocation: sourceLocation)
        #expect(answer.isJSONRefusal, "\(what()): \(answer)", sourceLocation: sourceLocation)
    }

    /// A valid batch from the site's replica, as the site would send it, but never sent whole.
    static func validBatch(_ probe: HubProbe, keys: [String] = ["crafted-1"]) throws -> (ChangeBatch, [UInt8]) {
        let batch = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: keys, milliseconds: CraftedBatch.nowMilliseconds)
        return (batch, try BatchCodec.encode(batch))
    }

    // MARK: malformed bodies

    @Test(arguments: ClusterStore.available) func randomBytesAreABadBatch(store: ClusterStore) async throws {
        let cluster = try Self.cluster("random-body", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        var random = SplitMix64(seed: 0xB6A7_1)
        func bytes(_ n: Int) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &random) } }
        let bodies: [(String, [UInt8])] = [
            ("empty", []),
            ("1 byte", bytes(1)),
            ("1000 bytes", bytes(1000)),
            ("50000 bytes", bytes(50_000)),
            ("magic then noise", Array("BGW".utf8) + [BatchCodec.format] + bytes(2000)),
            ("magic, a small size, then noise", Array("BGW".utf8) + [BatchCodec.format, 0x40] + bytes(200)),
            ("another format", Array("BGW".utf8) + [BatchCodec.format &+ 1] + bytes(100)),
        ]
        let before = try HubSnapshot.take(cluster)
        for (what, body) in bodies {
            Self.expectRefusal(try await probe.push(body), 400, "bad-batch", what)
        }
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    @Test(arguments: ClusterStore.available) func truncatedBatchIsABadBatch(store: ClusterStore) async throws {
        let cluster = try Self.cluster("truncated", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let (_, valid) = try Self.validBatch(probe, keys: ["crafted-1", "crafted-2", "crafted-3"])
        let before = try HubSnapshot.take(cluster)
        for length in Set([3, 4, 5, 6, valid.count / 2, valid.count - 4, valid.count - 1]).sorted() {
            Self.expectRefusal(try await probe.push(Array(valid.prefix(length))), 400, "bad-batch", "\(length) of \(valid.count) bytes")
        }
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    /// Every byte of a valid batch, one bit flipped at a time.
    @Test(arguments: ClusterStore.available) func bitFlippedBatchIsABadBatch(store: ClusterStore) async throws {
        let cluster = try Self.cluster("bit-flip", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let (batch, valid) = try Self.validBatch(probe, keys: ["crafted-1", "crafted-2"])
        let before = try HubSnapshot.take(cluster)
        var sent = 0
        for i in valid.indices {
            var flipped = valid
            flipped[i] ^= 1 << UInt8(i % 8)
            // A flip in the padding bits after the last deflate block changes nothing: the same batch.
            if (try? BatchCodec.decode(flipped)) == batch { continue }
            Self.expectRefusal(try await probe.push(flipped), 400, "bad-batch", "bit \(i % 8) of byte \(i) of \(valid.count)")
            sent += 1
        }
        #expect(sent >= valid.count - 2)
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    // MARK: size limits

    /// A Content-Length over max_body_bytes is refused from the headers, while the body is still
    /// being sent (most of it never is); a body one byte over is refused too, one at the limit read.
    @Test(arguments: ClusterStore.available) func oversizedBodyIsRefusedBeforeItIsRead(store: ClusterStore) async throws {
        let cluster = try Self.cluster("too-large", hubExtra: "max_body_bytes = 65536", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let credential = try SiteIdentity.credential(cluster, "lpk-a")
        let before = try HubSnapshot.take(cluster)

        let connection = try RawTLSConnection(port: cluster.hubPort, caFile: cluster.path("tls/ca.crt"))
        defer { connection.close() }
        let started = Date()
        connection.write(RawTLSConnection.head("POST", "/v1/push", [
            ("Authorization", "Bearer \(credential)"), ("Begawi-Replica", probe.replicaID),
            ("Content-Type", "application/vnd.begawi.batch"), ("Content-Length", "1000000000"),
        ]))
        connection.write([UInt8](repeating: 0x42, count: 16 << 10))
        let answer = try #require(connection.response(within: 5), "no answer within 5 s to a 1 GB Content-Length with 16 KB sent")
        #expect(Date().timeIntervalSince(started) < 5)
        Self.expectRefusal(answer, 413, "too-large")

        Self.expectRefusal(try await probe.push([UInt8](repeating: 0x42, count: 65_537)), 413, "too-large", "one byte over")
        // At the limit the body is read, and refused for what it is.
        Self.expectRefusal(try await probe.push([UInt8](repeating: 0x42, count: 65_536)), 400, "bad-batch", "at the limit")
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    @Test(arguments: ClusterStore.available) func chunkedBodyGrowingPastTheLimitIsRefused(store: ClusterStore) async throws {
        let cluster = try Self.cluster("chunked", hubExtra: "max_body_bytes = 65536", store: store)
        let credential = try SiteIdentity.credential(cluster, "lpk-a")
        let replica = try SiteIdentity.replicaID(cluster, "lpk-a")
        let before = try HubSnapshot.take(cluster)

        let connection = try RawTLSConnection(port: cluster.hubPort, caFile: cluster.path("tls/ca.crt"))
        defer { connection.close() }
        connection.write(RawTLSConnection.head("POST", "/v1/push", [
            ("Authorization", "Bearer \(credential)"), ("Begawi-Replica", replica),
            ("Content-Type", "application/vnd.begawi.batch"), ("Transfer-Encoding", "chunked"),
        ]))
        // 160 KB in 8 KB chunks, and no final chunk: the body never ends.
        let chunk = Array("2000\r\n".utf8) + [UInt8](repeating: 0x42, count: 0x2000) + Array("\r\n".utf8)
        let started = Date()
        for _ in 0..<20 where connection.write(chunk) == chunk.count {}
        let answer = try #require(connection.response(within: 5), "no answer within 5 s to a chunked body past the limit")
        #expect(Date().timeIntervalSince(started) < 5)
        Self.expectRefusal(answer, 413, "too-large")
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    /// 1.3 MB of gzip that inflates to 200 MB: refused as soon as it passes max_batch_bytes.
    @Test(arguments: ClusterStore.available) func gzipBombIsRefused(store: ClusterStore) async throws {
        let maxBatch = 4 << 20
        let cluster = try Self.cluster("gzip-bomb", hubExtra: "max_body_bytes = \(2 << 20)\nmax_batch_bytes = \(maxBatch)", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let bomb = GzipBomb.make()
        #expect(bomb.count < 2 << 20)
        // It is a real bomb: it inflates to all of its 200 MB, CRC and size checked.
        #expect(try GzipDecoder.decode(bomb, limit: GzipBomb.expandedSize).count == GzipBomb.expandedSize)

        // The hub takes gzip: a valid batch, gzipped, from another replica of the site, is applied.
        let control = try HubProbe(cluster, site: "lpk-a", replica: SiteIdentity.freshReplicaID())
        let (_, valid) = try Self.validBatch(control, keys: ["gzipped-row"])
        let accepted = try await control.push(valid, gzip: true)
        #expect(accepted.status == 200, "\(accepted)")
        #expect(try cluster.rows("hub", "participants")["gzipped-row"] != nil)

        let before = try HubSnapshot.take(cluster)
        let started = Date()
        let answer = try await probe.push(bomb, headers: [("Content-Encoding", "gzip")])
        #expect(Date().timeIntervalSince(started) < 5)
        Self.expectRefusal(answer, 400, "bad-batch")
        // The reason is the size: the message names the limit.
        #expect(answer.field("message")?.contains("\(maxBatch)") == true, "\(answer)")
        // An encoding the hub does not decode is refused as such.
        Self.expectRefusal(try await probe.push(valid, headers: [("Content-Encoding", "br")]), 415, "bad-encoding")
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    // MARK: batches the hub's schema does not match

    @Test(arguments: ClusterStore.available) func unknownTableOrColumnIsABadBatch(store: ClusterStore) async throws {
        let cluster = try Self.cluster("unknown-names", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let now = CraftedBatch.nowMilliseconds
        let unknownTable = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["s1"], milliseconds: now,
                                                     table: BatchTable(name: "salaries", columns: ["amount"]))
        let unknownColumn = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["c1"], milliseconds: now,
                                                      table: BatchTable(name: "participants", columns: ["nik", "shoe_size"]))
        // A known table's row beside an unknown table's: the whole batch is refused.
        var mixed = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["m1"], milliseconds: now)
        var stranger = unknownTable.rows[0]
        stranger.table = 1
        stranger.state.vector = VersionVector([("crafted", 2)])
        stranger.state.deleted?.stamp.counter = 2
        stranger.state.columns[0]?.stamp.counter = 2
        mixed.tables.append(unknownTable.tables[0])
        mixed.rows.append(stranger)
        mixed.throughSeq = 2
        let duplicateColumn = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["d1"], milliseconds: now,
                                                        table: BatchTable(name: "participants", columns: ["nik", "nik"]))

        let before = try HubSnapshot.take(cluster)
        for (what, batch) in [("unknown table", unknownTable), ("unknown column", unknownColumn), ("known and unknown table", mixed),
                              ("a column twice", duplicateColumn)] {
            let answer = try await probe.push(try BatchCodec.encode(batch))
            Self.expectRefusal(answer, 400, "bad-batch", what)
        }
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    /// Stamps and vectors the codec refuses to encode, made by changing the encoded streams.
    @Test(arguments: ClusterStore.available) func malformedStampsAreABadBatch(store: ClusterStore) async throws {
        let cluster = try Self.cluster("bad-stamps", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        // Row 1 written by "crafted", row 2 by "lpk-z": the batch names both sites.
        // One clock for both rows, so that the stamp stream's clock delta is known (0).
        let now = CraftedBatch.nowMilliseconds
        var batch = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["r1", "r2"], milliseconds: now)
        let other = CraftedBatch.participants(replicaID: probe.replicaID, site: "lpk-z", keys: ["r2"], milliseconds: now)
        batch.rows[1] = other.rows[0]
        let valid = try WireBatch(try BatchCodec.encode(batch))
        // Taken apart and put together again unchanged, it is the same valid batch.
        #expect(try BatchCodec.decode(valid.encoded) == batch)
        // The stamp stream ends with row 2's stamp: distinct count, clock delta, logical counter, site, gap to the vector.
        #expect(valid.streams[WireBatch.stamps].suffix(5) == [1, 0, 0, 1, 0])
        #expect(valid.streams[WireBatch.vectors].suffix(3) == [1, 1, 2])  // row 2: one entry, site 1, counter +1

        var uncovered = valid  // row 2's stamp names "crafted", which row 2's vector does not cover
        uncovered.streams[WireBatch.stamps][uncovered.streams[WireBatch.stamps].count - 2] = 0
        var counterZero = valid  // row 2's stamp counter 0 (gap 1 below its vector's counter 1)
        counterZero.streams[WireBatch.stamps][counterZero.streams[WireBatch.stamps].count - 1] = 1
        var vectorZero = valid  // row 2's vector entry has counter 0
        vectorZero.streams[WireBatch.vectors][vectorZero.streams[WireBatch.vectors].count - 1] = 0
        var deletedWithoutRegister = valid  // row 2 says "deleted" without a deleted register
        #expect(deletedWithoutRegister.streams[WireBatch.masks] == [0b1101, 0b1101])
        deletedWithoutRegister.streams[WireBatch.masks][1] = 0b1110

        let before = try HubSnapshot.take(cluster)
        for (what, wire) in [("stamp not covered by the vector", uncovered), ("stamp counter 0", counterZero),
                             ("vector counter 0", vectorZero), ("deleted flag without its register", deletedWithoutRegister)] {
            Self.expectRefusal(try await probe.push(wire.encoded), 400, "bad-batch", what)
        }
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    /// Stamps an hour ahead of the hub's clock are refused with the hub's time, and the hub's
    /// clock does not move: a site with a wrong clock cannot drag everyone's stamps into the future.
    /// On both stores: the PostgreSQL hub keeps its clock in the database (`PostgresHubClock`).
    @Test(arguments: ClusterStore.available) func stampsFromTheFutureAreRefusedAndNotAdopted(store: ClusterStore) async throws {
        let cluster = try Self.cluster("clock-ahead", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let future = CraftedBatch.nowMilliseconds + 3_600_000
        let batch = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["from-the-future"], milliseconds: future)
        let before = try HubSnapshot.take(cluster)
        #expect(before.hlc != nil)
        let answer = try await probe.push(try BatchCodec.encode(batch))
        Self.expectRefusal(answer, 422, "clock-ahead")
        let hubTime = try #require(answer.field("hub_time_ms").flatMap(UInt64.init), "\(answer)")
        #expect(hubTime < future - 3_000_000)
        let after = try HubSnapshot.take(cluster)
        #expect(after.hlc == before.hlc)
        #expect(after == before)
        // The far end of the clock's range, too.
        let farthest = CraftedBatch.participants(replicaID: probe.replicaID, site: "crafted", keys: ["from-the-future"],
                                                 milliseconds: HybridTimestamp.millisecondMask)
        Self.expectRefusal(try await probe.push(try BatchCodec.encode(farthest)), 422, "clock-ahead", "year 10889")
        #expect(try HubSnapshot.take(cluster) == before)

        // The same batch stamped now, from another replica of the site, is applied: only the clock was wrong.
        let control = try HubProbe(cluster, site: "lpk-a", replica: SiteIdentity.freshReplicaID())
        let present = CraftedBatch.participants(replicaID: control.replicaID, site: "crafted", keys: ["from-the-future"],
                                                milliseconds: CraftedBatch.nowMilliseconds)
        let accepted = try await control.push(try BatchCodec.encode(present))
        #expect(accepted.status == 200, "\(accepted)")
        #expect(try cluster.rows("hub", "participants")["from-the-future"] != nil)
        try Self.expectServiceUnharmed(cluster)
    }

    @Test(arguments: ClusterStore.available) func batchFromAnotherSourceThanTheHeaderIsRefused(store: ClusterStore) async throws {
        let cluster = try Self.cluster("wrong-source", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let batch = CraftedBatch.participants(replicaID: SiteIdentity.freshReplicaID(), site: "crafted", keys: ["elsewhere"],
                                              milliseconds: CraftedBatch.nowMilliseconds)
        let before = try HubSnapshot.take(cluster)
        Self.expectRefusal(try await probe.push(try BatchCodec.encode(batch)), 400, "bad-batch")
        // Nor may a header name a replica that is not a UUID.
        let notAUUID = try HubProbe(cluster, site: "lpk-a", replica: "lpk-a-replica")
        Self.expectRefusal(try await notAUUID.push(try BatchCodec.encode(batch)), 400, "bad-request", "replica header not a UUID")
        Self.expectRefusal(try await probe.send("POST", "/v1/push", body: try BatchCodec.encode(batch), replicaHeader: false),
                           400, "bad-request", "no replica header")
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    // MARK: pull

    @Test(arguments: ClusterStore.available) func pullWithAWrongEpochOrMissingParametersIsRefused(store: ClusterStore) async throws {
        let cluster = try Self.cluster("bad-pull", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let session = try await probe.session()
        let hubReplicaID = try #require(session.field("epoch"), "\(session)")
        let before = try HubSnapshot.take(cluster)

        let stale = try await probe.pull("?epoch=\(SiteIdentity.freshReplicaID())&base=0&position=0")
        Self.expectRefusal(stale, 409, "epoch-changed")
        #expect(stale.field("epoch") == hubReplicaID)

        for query in ["", "?epoch=\(hubReplicaID)", "?epoch=\(hubReplicaID)&base=0", "?epoch=\(hubReplicaID)&position=0", "?base=0&position=0",
                      "?epoch=\(hubReplicaID)&base=x&position=0", "?epoch=\(hubReplicaID)&base=0&position=-1", "?epoch=\(hubReplicaID)&base=2&position=1",
                      "?epoch=\(hubReplicaID)&base=0&position=0&max_rows=0"] {
            Self.expectRefusal(try await probe.pull(query), 400, "bad-request", "pull\(query)")
        }
        // The same request with every parameter right is answered.
        #expect(try await probe.pull("?epoch=\(hubReplicaID)&base=0&position=0").status == 200)
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }

    /// The crash reported in issue 12: one pull with a position past Int64.max killed the hub. Each
    /// number of a pull and of a session's headers, at and past its edges, is answered or refused.
    @Test(arguments: ClusterStore.available) func numbersAtTheirEdgesNeverStopTheHub(store: ClusterStore) async throws {
        let cluster = try Self.cluster("number-edges", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let session = try await probe.session()
        let hubReplicaID = try #require(session.field("epoch"), "\(session)")
        let before = try HubSnapshot.take(cluster)

        let reported = try await probe.pull("?epoch=\(hubReplicaID)&base=0&position=9223372036854775808")
        Self.expectRefusal(reported, 400, "bad-request", "the reported pull")
        #expect(reported.field("message")?.contains("9223372036854775807") == true, "\(reported)")
        #expect(cluster.hub?.isRunning == true, "the hub exited: \(cluster.hubLog())")
        #expect(try await probe.send("GET", "/v1/health").status == 200)

        let past = ["9223372036854775808", "18446744073709551615", "18446744073709551616", "99999999999999999999999999", "-1", "x", "", "1e3"]
        for position in past {
            Self.expectRefusal(try await probe.pull("?epoch=\(hubReplicaID)&base=0&position=\(position)"), 400, "bad-request", "position \(position)")
        }
        for base in past {
            Self.expectRefusal(try await probe.pull("?epoch=\(hubReplicaID)&base=\(base)&position=9223372036854775807"), 400, "bad-request", "base \(base)")
        }
        for rows in ["0", "-1", "x", "", "99999999999999999999999999"] {
            Self.expectRefusal(try await probe.pull("?epoch=\(hubReplicaID)&base=0&position=0&max_rows=\(rows)"), 400, "bad-request", "max_rows \(rows)")
        }
        // At the edges, answered.
        for query in ["base=0&position=9223372036854775807", "base=9223372036854775807&position=9223372036854775807",
                      "base=0&position=0&max_rows=9223372036854775807", "base=0&position=0&max_rows=1"] {
            #expect(try await probe.pull("?epoch=\(hubReplicaID)&\(query)").status == 200, "\(query)")
        }

        // What a site reports about itself in a session's headers.
        for (header, value) in [("Begawi-Pending", "-1"), ("Begawi-Pending", "x"), ("Begawi-Pending", "9223372036854775808"),
                                ("Begawi-Pending", "18446744073709551616"), ("Begawi-Site-Time", "-1"), ("Begawi-Site-Time", "281474976710656"),
                                ("Begawi-Site-Time", "9223372036854775808"), ("Begawi-Site-Time", "1.5")] {
            Self.expectRefusal(try await probe.send("GET", "/v1/session", headers: [(header, value)]), 400, "bad-request", "\(header): \(value)")
        }
        for (header, value) in [("Begawi-Pending", "0"), ("Begawi-Pending", "9223372036854775807"), ("Begawi-Site-Time", "0"),
                                ("Begawi-Site-Time", "281474976710655")] {
            #expect(try await probe.send("GET", "/v1/session", headers: [(header, value)]).status == 200, "\(header): \(value)")
        }
        #expect(try HubSnapshot.take(cluster) == before)
        #expect(try await probe.send("GET", "/v1/health").status == 200)
        try Self.expectServiceUnharmed(cluster)
    }

    /// Content-Length at and past its edges: answered with a 4xx (or the connection closed), never a
    /// crash, and the hub serves on.
    @Test(arguments: ClusterStore.available) func contentLengthAtItsEdges(store: ClusterStore) async throws {
        let cluster = try Self.cluster("content-length", hubExtra: "max_body_bytes = 65536", store: store)
        let probe = try HubProbe(cluster, site: "lpk-a")
        let credential = try SiteIdentity.credential(cluster, "lpk-a")
        let before = try HubSnapshot.take(cluster)
        for length in ["-1", "x", "", "1e3", "9223372036854775807", "9223372036854775808", "18446744073709551616",
                       "99999999999999999999999999", "0x10", "65537"] {
            let connection = try RawTLSConnection(port: cluster.hubPort, caFile: cluster.path("tls/ca.crt"))
            defer { connection.close() }
            connection.write(RawTLSConnection.head("POST", "/v1/push", [
                ("Authorization", "Bearer \(credential)"), ("Begawi-Replica", probe.replicaID),
                ("Content-Type", "application/vnd.begawi.batch"), ("Content-Length", length),
            ]))
            connection.write([UInt8](repeating: 0x42, count: 16))
            if let answer = connection.response(within: 3) {
                #expect((400..<500).contains(answer.status), "Content-Length \(length): \(answer)")
            }
            #expect(cluster.hub?.isRunning == true, "Content-Length \(length) stopped the hub: \(cluster.hubLog())")
            #expect(try await probe.send("GET", "/v1/health").status == 200, "Content-Length \(length)")
        }
        #expect(try HubSnapshot.take(cluster) == before)
        try Self.expectServiceUnharmed(cluster)
    }
}
