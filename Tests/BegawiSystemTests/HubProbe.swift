import BegawiCore
import BegawiReplica
import BegawiSite
import Foundation
import GRDB
import Testing

/// Crafted requests to a cluster's hub, sent as one site over libcurl: what a misbehaving or
/// hostile client could send, with the credential and replica id chosen by the test.
struct HubProbe {
    let transport: CurlTransport
    /// The value of the Begawi-Replica header.
    let replicaID: String

    /// A probe for `site` (its credential file and its replica's id), or with either replaced; to
    /// the cluster's hub, or to another hub process's `url`.
    init(_ cluster: Cluster, site: String, credential: String? = nil, replica: String? = nil, url: String? = nil) throws {
        let token = try credential ?? SiteIdentity.credential(cluster, site)
        transport = try CurlTransport(baseURL: url ?? cluster.hubURL, caFile: cluster.path("tls/ca.crt"), credential: token,
                                      options: .init(connectTimeoutMs: 3000, lowSpeedTimeSeconds: 10))
        replicaID = try replica ?? SiteIdentity.replicaID(cluster, site)
    }

    /// Sends one request with the Begawi-Replica header (unless `replicaHeader` is false).
    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              gzip: Bool = false, replicaHeader: Bool = true) async throws -> ProbeAnswer {
        let all = (replicaHeader ? [("Begawi-Replica", replicaID)] : []) + headers
        let response = try await transport.send(HubRequest(method: method, path: path, headers: all, body: body, gzipBody: gzip))
        return ProbeAnswer(status: response.status, headers: response.headers, body: response.body)
    }

    func session() async throws -> ProbeAnswer { try await send("GET", "/v1/session") }

    /// POSTs bytes to /v1/push as a batch.
    func push(_ body: [UInt8], headers: [(String, String)] = [], gzip: Bool = false) async throws -> ProbeAnswer {
        try await send("POST", "/v1/push", headers: [("Content-Type", "application/vnd.begawi.batch")] + headers, body: body, gzip: gzip)
    }

    func pull(_ query: String) async throws -> ProbeAnswer { try await send("GET", "/v1/pull" + query) }
}

/// An HTTP answer with its JSON body, when it has one.
struct ProbeAnswer: CustomStringConvertible {
    let status: Int
    /// Header names in lowercase.
    let headers: [String: String]
    let body: [UInt8]

    /// A top-level field of a JSON object body, as text.
    func field(_ name: String) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let value = object[name] else { return nil }
        return value as? String ?? "\(value)"
    }

    /// The refusal code (`error` in the JSON body).
    var error: String? { field("error") }

    /// Whether this is a JSON refusal with a code and a non-empty message, and the hub's time.
    var isJSONRefusal: Bool {
        headers["content-type"]?.hasPrefix("application/json") == true && error?.isEmpty == false
            && field("message")?.isEmpty == false && headers["begawi-hub-time"].flatMap(Int64.init) != nil
    }

    var description: String { "HTTP \(status) \(String(decoding: body.prefix(600), as: UTF8.self))" }
}

/// A site's credential and replica id, read from the cluster's files.
enum SiteIdentity {
    static func credential(_ cluster: Cluster, _ site: String) throws -> String {
        try String(contentsOfFile: cluster.path("\(site).credential"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The id of the site's replica (opened and closed again; no daemon may hold it).
    static func replicaID(_ cluster: Cluster, _ site: String) throws -> String {
        let replica = try Replica.open(at: cluster.replicaPath(site))
        defer { try? replica.close() }
        return replica.replicaID
    }

    /// A new random replica id (a UUID), for pushes that must not touch a real replica's cursor.
    static func freshReplicaID() -> String { UUID().uuidString.lowercased() }
}

/// Everything a request could change in the hub's database: the synced tables, the cursors, the registry
/// and the clock state. Equal before and after a refused request, or the refusal changed something.
struct HubSnapshot: Equatable, CustomStringConvertible {
    let tables: [String: [String: [String]]]
    let bookkeeping: [String: [[String]]]

    static let synced = ["participants", "programs", "enrollments"]

    static func take(_ cluster: Cluster) throws -> HubSnapshot {
        var tables: [String: [String: [String]]] = [:]
        for t in synced { tables[t] = try cluster.rows("hub", t) }
        var bookkeeping: [String: [[String]]] = [:]
        // The hub on PostgreSQL keeps its clock ('hlc', 'counter') in _begawi_state but no sequence:
        // its feed's head and its rows' merge state stand for it.
        var queries = [
            ("state", "SELECT name, value FROM _begawi_state WHERE name IN ('hlc', 'counter', 'seq', 'remote_max') ORDER BY name"),
            ("cursors", "SELECT * FROM _begawi_cursors ORDER BY 1"),
            ("replicas", "SELECT replica, site FROM _hub_replicas ORDER BY 1"),
            ("sites", "SELECT id, revoked_at FROM _hub_sites ORDER BY 1"),
        ]
        if cluster.postgres != nil {
            queries.append(("feed", "SELECT pos FROM _begawi_feed_head"))
            queries.append(("rows", "SELECT tbl, key, pos, pending FROM _begawi_rows ORDER BY 1, 2"))
        }
        for (name, sql) in queries { bookkeeping[name] = try cluster.query("hub", sql) }
        return HubSnapshot(tables: tables, bookkeeping: bookkeeping)
    }

    /// The hub's hybrid clock as stored ('hlc' in `_begawi_state`).
    var hlc: String? { bookkeeping["state"]?.first { $0.first == "hlc" }?.last }

    var description: String { "tables \(tables.mapValues(\.count)), \(bookkeeping)" }
}

/// Valid batches built in memory, to be sent whole or broken on purpose.
enum CraftedBatch {
    static let participants = BatchTable(name: "participants", columns: ["nik", "full_name"])

    /// A batch from replica `replicaID` with one new participant row per key, written by `site` at `milliseconds`
    /// (wall clock, ms since the Unix epoch); row i carries counter i+1.
    static func participants(replicaID: String, site: String, keys: [String], milliseconds: UInt64,
                             table: BatchTable = participants) -> ChangeBatch {
        var rows: [RowChange] = []
        for (i, key) in keys.enumerated() {
            let stamp = Stamp(clock: HybridTimestamp(milliseconds: milliseconds, counter: 0), site: site, counter: UInt64(i + 1))
            var state = RowState(columnCount: table.columns.count)
            state.vector = VersionVector([(site, UInt64(i + 1))])
            state.deleted = Register(value: RowState.liveMarker, stamp: stamp)
            for c in table.columns.indices { state.columns[c] = Register(value: .text("value \(c) of \(key)"), stamp: stamp) }
            rows.append(RowChange(table: 0, key: key, state: state))
        }
        return ChangeBatch(replicaID: replicaID, baseSeq: 0, afterSeq: 0, throughSeq: UInt64(keys.count), complete: true, tables: [table], rows: rows)
    }

    static var nowMilliseconds: UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
}

/// An encoded batch taken apart into its payload streams, so that a test can change one byte of
/// one stream and frame it again as `BatchCodec.encode` would (valid compression, valid size).
struct WireBatch {
    /// Stream 0 the header, 1 tables, 2 keys, 3 vectors, 4 masks, 5 stamps, then one per column.
    var streams: [[UInt8]]

    static let vectors = 3, masks = 4, stamps = 5

    init(_ encoded: [UInt8]) throws {
        var frame = ByteReader(encoded, what: "frame")
        _ = try frame.raw(4)
        let size = try frame.count(max: Int.max)
        let payload = try Deflate.decompress(encoded[(encoded.count - frame.remaining)...], expectedSize: size, limit: size)
        var outer = ByteReader(payload, what: "payload")
        let count = try outer.count(max: 1000)
        var lengths: [Int] = []
        for _ in 0..<count { lengths.append(try outer.count(max: payload.count)) }
        var start = payload.count - outer.remaining
        streams = []
        for length in lengths {
            streams.append(Array(payload[start..<start + length]))
            start += length
        }
    }

    var encoded: [UInt8] {
        var payload = ByteWriter()
        payload.varint(UInt64(streams.count))
        for s in streams { payload.varint(UInt64(s.count)) }
        for s in streams { payload.raw(s) }
        var out = ByteWriter()
        out.raw(Array("BGW".utf8))
        out.byte(BatchCodec.format)
        out.varint(UInt64(payload.bytes.count))
        out.raw(try! Deflate.compress(payload.bytes))
        return out.bytes
    }
}

/// A gzip member built by hand: `1 + 258 × matches` zero bytes as one fixed-Huffman deflate block
/// (a literal 0, then length-258 distance-1 matches at 13 bits each), about 160:1. Built in
/// milliseconds, where zlib would take seconds to compress 200 MB.
enum GzipBomb {
    /// 209,702,401 zero bytes, and their CRC-32 (python3 -c 'import zlib; print(hex(zlib.crc32(bytes(209702401))))').
    static let matches = 812_800
    static var expandedSize: Int { 1 + 258 * matches }
    static let crc32: UInt32 = 0x9988_0E94

    static func make() -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]
        out.reserveCapacity(matches * 13 / 8 + 64)
        var bits: UInt64 = 0
        var count = 0
        func put(_ value: UInt64, _ n: Int) {
            bits |= value << UInt64(count)
            count += n
            while count >= 8 {
                out.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
                count -= 8
            }
        }
        put(1, 1)  // BFINAL
        put(1, 2)  // BTYPE 01: fixed Huffman codes
        put(0x0C, 8)  // literal 0: code 00110000, sent most significant bit first
        for _ in 0..<matches { put(0xA3, 13) }  // length 258 (code 285, 11000101) and distance 1 (code 0, 5 bits)
        put(0, 7)  // end of block (code 256)
        if count > 0 { put(0, 8 - count) }
        for v in [crc32, UInt32(truncatingIfNeeded: expandedSize)] {
            for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
        }
        return out
    }
}
