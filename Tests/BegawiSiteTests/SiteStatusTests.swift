import BegawiCore
import BegawiSite
import BegawiTestSupport
import Foundation
import Testing

/// The status file outlives an upgrade: its keys stay when the Swift names move.
@Suite struct SiteStatusTests {
    @Test func theStatusFileKeepsItsKeys() throws {
        let folder = TemporaryFolder("site-status")
        var status = SiteStatus()
        status.hubReplicaID = "hub-replica"
        status.acknowledged = ExchangeCursor(baseSeq: 3, seq: 7)
        try status.save(to: folder.file("status.json"))
        let text = try String(contentsOfFile: folder.file("status.json"), encoding: .utf8)
        #expect(text.contains(#""hubEpoch" : "hub-replica""#), "\(text)")
        #expect(text.contains(#""base" : 3"#) && text.contains(#""position" : 7"#), "\(text)")
        #expect(SiteStatus.load(from: folder.file("status.json")) == status)
    }
}
