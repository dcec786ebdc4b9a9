import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// Building a snapshot part reads the replica on a connection of its own, one per part. Many sites'
/// first syncs build parts at once while pushes commit: no part may fail on a lock (an ingest of 50
/// new sites under the rules saw "database is locked" on a fifth of them).
@Suite(.blocking) struct SnapshotExportTests {
    @Test func partsBuiltAtOnceBesideAWriterNeverMeetALock() throws {
        let folder = TemporaryFolder("snapshot-export")
        let path = folder.file("hub.sqlite")
        let hub = try Replica.create(at: path, siteID: "hub", schema: testSchema, clock: ManualClock())
        defer { try? hub.close() }
        let staff = try StaffApp(path: path)
        try staff.execute("INSERT INTO t(id, a, b, c) VALUES ('row-0', 'peserta', 'Las Listrik', 0)")
        _ = try hub.export(after: .start, limits: BatchLimits(maxRows: 10))  // the row taken into the merge state
        let done = ManagedAtomicFlag()
        let writer = Thread {
            var i = 1
            while !done.isSet {
                try? staff.queue.write { db in
                    for _ in 0..<20 {
                        try db.execute(sql: "INSERT INTO t(id, a, b, c) VALUES (?, 'peserta', 'Las Listrik', ?)", arguments: ["row-\(i)", i])
                        i += 1
                    }
                }
            }
        }
        writer.start()
        let failures = FailureTally()
        // As the hub's store does from its lane's threads (SQLiteHubStore is @unchecked Sendable so).
        nonisolated(unsafe) let shared = hub
        let builders = (0..<3).map { _ in
            Thread {
                for _ in 0..<100 {
                    do {
                        let (part, file) = try shared.snapshotPartFile(table: "t", after: nil, maxRows: 10, receiverReplicaID: nil, scope: .all)
                        if part.rows != 1 || file.isEmpty { failures.add("a part of \(part.rows) rows, \(file.count) bytes") }
                    } catch {
                        failures.add("\(error)")
                    }
                }
            }
        }
        builders.forEach { $0.start() }
        while builders.contains(where: { !$0.isFinished }) { Thread.sleep(forTimeInterval: 0.01) }
        done.set()
        while !writer.isFinished { Thread.sleep(forTimeInterval: 0.01) }
        try staff.queue.close()
        #expect(failures.all.isEmpty, "\(failures.all.count) of 300 parts failed, first: \(failures.all.first ?? "")")
    }
}

/// What the builder threads saw go wrong.
final class FailureTally: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String] = []
    var all: [String] { lock.withLock { failures } }
    func add(_ failure: String) { lock.withLock { failures.append(failure) } }
}
