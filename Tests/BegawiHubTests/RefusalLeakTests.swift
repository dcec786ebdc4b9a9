import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// A refused row reveals nothing beyond its reason: a site that registers a person known elsewhere,
/// guessing a field, gets the same answer whether the guess is right or wrong.
@Suite(.blocking) struct RefusalLeakTests {
    static let truePhone = "0811-5400-111"

    /// lpk-b's push answer (as the hub encodes it) when it registers the person lpk-a registered,
    /// with this phone number; and the office's ledger entries for the person.
    func attempt(phone: String) throws -> (outcome: PushOutcome, json: String, ledger: [String]) {
        let h = try HubHarness()
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let p = Person.make(11)
        let key = p.key(h.policy)
        let insert = "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, ?, ?)"
        try h.staff("lpk-a", insert, [key, p.nik, p.name, p.birth, RefusalLeakTests.truePhone, "lpk-a"])
        try h.sync("lpk-a")
        try h.staff("lpk-b", insert, [key, p.nik, p.name, p.birth, phone, "lpk-b"])
        let site = h.site("lpk-b")
        let session = try h.store.session(site: site.record, replica: site.replica.replicaID, configuration: HubConfiguration())
        let batch = try site.replica.export(after: session.pushCursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: 100))
        let outcome = try h.store.push(site: site.record, replica: site.replica.replicaID, batch: try BatchCodec.decode(try BatchCodec.encode(batch)))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(outcome), as: UTF8.self)
        let ledger = try h.store.conflicts().filter { $0.key == key }.map(\.column).sorted()
        return (outcome, json, ledger)
    }

    @Test func aWrongGuessAndTheTrueValueGetTheSameAnswer() throws {
        let wrong = try attempt(phone: "0811-5400-999")
        let right = try attempt(phone: RefusalLeakTests.truePhone)
        #expect(wrong.outcome.refused.map(\.reason) == ["already-registered"])
        #expect(wrong.json == right.json, "the answer tells the phone number apart:\n\(wrong.json)\n\(right.json)")
        #expect(wrong.outcome.conflicts == 0)
        // The office still gets its ledger: the owner differs either way, the phone only when wrong.
        #expect(wrong.ledger == ["phone", "registered_by"])
        #expect(right.ledger == ["registered_by"])
    }
}
