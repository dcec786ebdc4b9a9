import BegawiCore
import Foundation
import Testing

/// The daemon's release as sites name it and the hub compares it: three bounded whole numbers, read
/// without a trap from any header, and the `User-Agent` of daemons that send no version header.
@Suite struct DaemonVersionTests {
    @Test func releasesCompareByTheirParts() throws {
        let v = try #require(DaemonVersion("0.10.2"))
        #expect(v == DaemonVersion(0, 10, 2) && v.description == "0.10.2")
        #expect(DaemonVersion(0, 9, 99) < v && v < DaemonVersion(1, 0, 0) && DaemonVersion(0, 10, 1) < v)
        #expect(DaemonVersion(userAgent: "begawi/0.1.0") == DaemonVersion(0, 1, 0))
        #expect(DaemonVersion(userAgent: DaemonVersion.current.userAgent) == .current)
        #expect(DaemonVersion(userAgent: "begawi/0.1.0 extra") == DaemonVersion(0, 1, 0))
    }

    @Test func anythingElseIsNoVersion() {
        for text in ["", "1", "1.2", "1.2.3.4", "1..3", "+1.2.3", "-1.2.3", "1.2.3 ", " 1.2.3", "1.2.x", "123456.0.0",
                     "99999999999999999999.0.0", "١.٢.٣", "1.2.3\u{0}"] {
            #expect(DaemonVersion(text) == nil, "\(text.debugDescription)")
        }
        #expect(DaemonVersion("99999.0.0") == DaemonVersion(DaemonVersion.maxPart, 0, 0))
        #expect(DaemonVersion(userAgent: "curl/8.0.1") == nil && DaemonVersion(userAgent: "begawi/") == nil)
    }

    @Test func theSessionCarriesTheHubsProtocolAndAnOldHubsAnswerStillDecodes() throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var session = HubSession(site: "s", hubReplicaID: "e", lineage: [], pushCursor: .start, maxClockSkewMilliseconds: 1000,
                                 maxBodyBytes: 1, pageRows: 1)
        session.protocolVersion = Wire.protocolVersion
        let text = String(decoding: try WireContractTests.hubEncoder.encode(session), as: UTF8.self)
        #expect(text.contains(#""protocol_version":2"#), "\(text)")
        #expect(try decoder.decode(HubSession.self, from: Data(text.utf8)) == session)
        let old = text.replacingOccurrences(of: #","protocol_version":2"#, with: "")
        #expect(try decoder.decode(HubSession.self, from: Data(old.utf8)).protocolVersion == nil)
        #expect(Wire.oldestProtocolServed == Wire.protocolVersion - 1)
    }
}
