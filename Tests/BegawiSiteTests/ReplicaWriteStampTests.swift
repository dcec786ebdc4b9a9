@testable import BegawiSite
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// The idle daemon's cheap look for local writes: any program's commit changes the stamp, and
/// nothing else does.
@Suite struct ReplicaWriteStampTests {
    @Test func aCommitByAnotherConnectionChangesTheStampAndAReadDoesNot() throws {
        let folder = TemporaryFolder("begawi-stamp")
        let path = folder.file("r.sqlite")
        try Replica.create(at: path, siteID: "lpk-a", schema: SiteValueCheckTests.schema).close()
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        let before = ReplicaWriteStamp(path: path)
        #expect(ReplicaWriteStamp(path: path) == before)
        _ = try replica.pendingCaptureCount()
        #expect(ReplicaWriteStamp(path: path) == before, "a read must not look like a write")
        try SiteValueCheckTests.sqlite(path, "INSERT INTO programs(id, title) VALUES ('stamp-1', 'Welding')")
        let after = ReplicaWriteStamp(path: path)
        #expect(after != before, "a staff write did not change the stamp")
        try SiteValueCheckTests.sqlite(path, "INSERT INTO programs(id, title) VALUES ('stamp-2', 'Sewing')")
        #expect(ReplicaWriteStamp(path: path) != after)
    }
}
