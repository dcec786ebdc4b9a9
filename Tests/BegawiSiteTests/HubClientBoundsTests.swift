@testable import BegawiSite
import BegawiCore
import Testing

/// The hub's answers are input too: a hub time at or past the edges of the clock gives an offset or
/// none, never a trap (`hub - midpoint` overflowed for Int64.min).
@Suite struct HubClientBoundsTests {
    static func offset(_ hubTime: String, local: UInt64 = 1_780_000_000_000) -> Int64? {
        HubClient.offset(HubResponse(status: 200, headers: ["begawi-hub-time": hubTime], body: [], sentAt: local, receivedAt: local))
    }

    @Test func hubTimesAtTheEdges() {
        #expect(Self.offset("1780000001000") == 1000)
        #expect(Self.offset("0") == -1_780_000_000_000)
        let largest: Int64 = 281_474_976_710_655, local: Int64 = 1_780_000_000_000
        #expect(Self.offset("281474976710655") == largest - local)
        for bad in ["-1", "281474976710656", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "x", "", "1e3"] {
            #expect(Self.offset(bad) == nil, "\(bad)")
        }
        // A local clock at the edge of UInt64 does not overflow either.
        #expect(HubClient.offset(HubResponse(status: 200, headers: ["begawi-hub-time": "0"], body: [], sentAt: .max, receivedAt: .max)) != nil)
    }

    @Test func pushAnswersAtTheEdges() throws {
        func outcome(_ changed: Int, _ conflicts: Int, _ cursor: ExchangeCursor = ExchangeCursor(baseSeq: 1, seq: 2)) -> PushOutcome {
            PushOutcome(cursor: cursor, rowsChanged: changed, conflicts: conflicts)
        }
        _ = try HubClient.checked(outcome(0, 0))
        _ = try HubClient.checked(outcome(HubClient.maxCount, HubClient.maxCount, ExchangeCursor(baseSeq: 0, seq: ExchangeCursor.maxSeq)))
        for bad in [outcome(-1, 0), outcome(0, -1), outcome(Int.max, 0), outcome(0, Int.min), outcome(0, 0, ExchangeCursor(baseSeq: 3, seq: 2)),
                    outcome(0, 0, ExchangeCursor(baseSeq: 0, seq: ExchangeCursor.maxSeq + 1))] {
            #expect(throws: BegawiError.self) { try HubClient.checked(bad) }
        }
    }

    /// A hub that answers every request with one session, and keeps the headers it was sent.
    final class OneSession: HubTransport, @unchecked Sendable {
        let body: String
        var sent: [[(String, String)]] = []
        init(_ body: String) { self.body = body }
        func send(_ request: HubRequest) async throws -> HubResponse {
            sent.append(request.headers)
            return HubResponse(status: 200, headers: [:], body: Array(body.utf8))
        }
    }

    static func session(protocol version: String?) -> String {
        #"{"site":"lpk-a","epoch":"e","lineage":[],"push_cursor":{"base":0,"position":0},"max_clock_skew_milliseconds":1000,"max_body_bytes":65536,"page_rows":10"#
            + (version.map { #","protocol_version":\#($0)"# } ?? "") + "}"
    }

    @Test func everyRequestNamesTheVersionsAndAHubTooOldForThisSiteIsRefusedBeforeAnythingIsSent() async throws {
        for (version, served) in [(nil, true), ("1", true), ("2", true), ("3", true), ("0", false), ("-5", false)] as [(String?, Bool)] {
            let hub = OneSession(Self.session(protocol: version))
            let client = HubClient(transport: hub, replicaID: "r")
            do {
                let (session, _, _) = try await client.session()
                #expect(served && session.protocolVersion == version.flatMap { Int($0) }, "\(version ?? "none")")
            } catch let error as BegawiError {
                #expect(!served && error.code == .refused && error.message.contains("upgrade the begawi package at the hub"), "\(error)")
            }
            let headers = Dictionary(uniqueKeysWithValues: try #require(hub.sent.first))
            #expect(headers[WireHeader.protocolVersion] == String(Wire.protocolVersion))
            #expect(headers[WireHeader.daemonVersion] == DaemonVersion.current.description)
            #expect(hub.sent.count == 1)
        }
    }
}
