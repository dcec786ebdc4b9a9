import BegawiCore
import Foundation
import Testing

/// The wire contract in Core: refusal reasons and request refusals keep their bytes, and what a
/// newer hub may send (an unknown code) still decodes and gets an action.
@Suite struct WireContractTests {
    /// The hub's encoder for its JSON answers (BegawiHub's `HubAnswer.encoder`).
    static let hubEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    @Test func aRowRefusalIsWrittenWithItsReasonAsABareCode() throws {
        let outcome = PushOutcome(cursor: ExchangeCursor(baseSeq: 1, seq: 2), rowsChanged: 0, conflicts: 0,
                                  refused: [RowRefusal(table: "t", key: "k", reason: .notOwner, message: "m")])
        let text = String(decoding: try Self.hubEncoder.encode(outcome), as: UTF8.self)
        #expect(text == #"{"conflicts":0,"cursor":{"base":1,"position":2},"refused":[{"key":"k","message":"m","reason":"not-owner","table":"t"}],"rows_changed":0}"#)
    }

    @Test func aReasonFromANewerHubDecodesAndIsEvicted() throws {
        let json = #"{"table":"t","key":"k","reason":"some-future-rule","message":"m"}"#
        let refusal = try JSONDecoder().decode(RowRefusal.self, from: Data(json.utf8))
        #expect(refusal.reason.code == "some-future-rule")
        #expect(refusal.reason.action == .evict)
        #expect(!RefusalReason.known.contains(refusal.reason))
    }

    @Test func eachKnownReasonCarriesItsAction() {
        let actions = Dictionary(uniqueKeysWithValues: RefusalReason.known.map { ($0.code, $0.action) })
        #expect(actions.count == RefusalReason.known.count, "a code is listed twice")
        #expect(actions["erased"] == .erase)
        #expect(actions["unknown-reference"] == .requeue)
        #expect(actions["awaiting-reference"] == .keep)
        let evicted = actions.filter { $0.value == .evict }.keys.sorted()
        #expect(evicted == ["already-registered", "bad-value", "forged-stamp", "invalid-nik", "key-mismatch", "not-owner",
                            "not-writer", "office-only", "owner-change", "purged", "unknown-row"])
    }

    @Test func aRefusalBodyKeepsTheKeysAndOrderOfTheWire() throws {
        var refusal = HubRefusal(status: 409, code: .outOfOrder, message: "resend")
        refusal.cursor = ExchangeCursor(baseSeq: 3, seq: 7)
        let text = String(decoding: try Self.hubEncoder.encode(refusal.body), as: UTF8.self)
        #expect(text == #"{"cursor_base":"3","cursor_position":"7","error":"out-of-order","message":"resend"}"#)
        var ahead = HubRefusal(status: 422, code: .clockAhead, message: "m")
        ahead.hubTime = 1_700_000_000_000
        #expect(String(decoding: try Self.hubEncoder.encode(ahead.body), as: UTF8.self)
                == #"{"error":"clock-ahead","hub_time_ms":"1700000000000","message":"m"}"#)
    }

    @Test func aRefusalDecodesWithWhatTheSiteNeeds() throws {
        let json = #"{"cursor_base":"3","cursor_position":"7","epoch":"e","error":"out-of-order","message":"resend","retry_after_seconds":"5"}"#
        let body = try JSONDecoder().decode(HubRefusal.Body.self, from: Data(json.utf8))
        let refusal = HubRefusal(status: 409, body: body, offset: 12)
        #expect(refusal.code == .outOfOrder && refusal.message == "resend" && refusal.offset == 12)
        #expect(refusal.cursor == ExchangeCursor(baseSeq: 3, seq: 7) && refusal.hubReplicaID == "e" && refusal.retryAfter == 5)
        #expect(HubRefusal(status: 409, body: body, offset: nil).body == body)
    }

    @Test func aSessionKeepsTheKeysOfTheWire() throws {
        let session = HubSession(site: "s", hubReplicaID: "e2", lineage: [LineageLink(replicaID: "e1", throughSeq: 9)],
                                 pushCursor: ExchangeCursor(baseSeq: 1, seq: 2), maxClockSkewMilliseconds: 3, maxBodyBytes: 4, pageRows: 5)
        let text = String(decoding: try Self.hubEncoder.encode(session), as: UTF8.self)
        #expect(text == #"{"epoch":"e2","lineage":[{"epoch":"e1","through":9}],"max_body_bytes":4,"max_clock_skew_milliseconds":3,"page_rows":5,"push_cursor":{"base":1,"position":2},"site":"s"}"#)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(HubSession.self, from: Data(text.utf8)) == session)
    }

    @Test func anAnswerWithoutARefusalBodyIsNamedByItsStatus() {
        let refusal = HubRefusal(status: 502, body: nil, offset: nil)
        #expect(refusal.code == .http(502) && refusal.code.description == "http-502")
        #expect(refusal.message == "the hub answered HTTP 502")
    }
}
