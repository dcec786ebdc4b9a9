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
}
