import BegawiCore
import BegawiHub
import BegawiTestSupport
import Foundation
import Testing

/// A push's refusals are kept until the replica's next push, so that a site whose answer was lost
/// hears them at its next session (`HubSession.unsettled`): the same on both stores.
@Suite(.blocking) struct HubStoreUnsettledTests {
    @Test(arguments: StoreKind.available)
    func aPushsRefusalsAreRepeatedUntilTheNextPush(kind: StoreKind) throws {
        try kind.withHub { (hub) throws in
            var a = try hub.site("lpk-a", clock: 1_000)
            let good = a.write("c1", ["title": .text("Las"), "quota": .integer(10)], insert: true)
            let first = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([good]), schemaVersion: nil)
            #expect(first.refused.isEmpty)
            #expect(try hub.store.unsettledRefusals(site: a.record, replica: a.replica, schemaVersion: nil) == nil)

            // A refused change of a row the hub holds; its answer is lost.
            let long = a.write("c1", ["title": .text(String(repeating: "x", count: 5_000))])
            let answer = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([long]), schemaVersion: nil)
            #expect(answer.refused.map(\.key) == ["c1"] && answer.restore != nil)
            let repeated = try #require(try hub.store.unsettledRefusals(site: a.record, replica: a.replica, schemaVersion: nil))
            #expect(repeated.refused == answer.refused && repeated.cursor == answer.cursor)
            #expect(repeated.restore == answer.restore, "the rows to restore differ from the answer's")
            // Another process of the hub says the same.
            let other = try hub.another()
            #expect(try other.unsettledRefusals(site: a.record, replica: a.replica, schemaVersion: nil)?.refused == answer.refused)

            // Another site hears nothing of it.
            let b = try hub.site("lpk-b", clock: 2_000)
            #expect(try hub.store.unsettledRefusals(site: b.record, replica: b.replica, schemaVersion: nil) == nil)

            // The replica's next push, refusing nothing, replaces it.
            let fine = a.write("c3", ["title": .text("Jahit")], insert: true)
            let next = try hub.store.push(site: a.record, replica: a.replica, batch: a.batch([fine]), schemaVersion: nil)
            #expect(next.refused.isEmpty)
            #expect(try hub.store.unsettledRefusals(site: a.record, replica: a.replica, schemaVersion: nil) == nil)
        }
    }
}
