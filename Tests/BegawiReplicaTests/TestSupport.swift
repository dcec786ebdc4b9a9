import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB

/// A wall clock the test steps by hand.
final class ManualClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: UInt64

    init(_ start: UInt64 = 1_780_000_000_000) { now = start }

    func nowMilliseconds() -> UInt64 { lock.withLock { now } }
    func set(_ value: UInt64) { lock.withLock { now = value } }
    func advance(_ ms: UInt64) { lock.withLock { now += ms } }
}

/// A staff application: its own SQLite connection to the replica file, knowing nothing of Begawi.
struct StaffApp {
    let queue: DatabaseQueue

    init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        queue = try DatabaseQueue(path: path, configuration: config)
    }

    func execute(_ sql: String, _ arguments: StatementArguments = []) throws {
        try queue.write { db in try db.execute(sql: sql, arguments: arguments) }
    }
}

/// Locates files of the repository and of ../shared beside it.
enum Repository {
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    static var shared: URL {
        if let override = ProcessInfo.processInfo.environment["BEGAWI_SHARED"] { return URL(fileURLWithPath: override) }
        return root.deletingLastPathComponent().appendingPathComponent("shared")
    }
}

/// Repeatedly exports from `source` what `target` lacks, and applies it, until `target` is caught up.
@discardableResult
func sync(from source: Replica, to target: Replica, limits: BatchLimits = BatchLimits(maxRows: 50), viaWire: Bool = true) throws -> Int {
    var batches = 0
    while true {
        let cursor = try target.cursor(for: source.replicaID)
        let batch = try source.export(after: cursor, limits: limits)
        if viaWire {
            _ = try target.apply(encoded: try BatchCodec.encode(batch))
        } else {
            _ = try target.apply(batch)
        }
        batches += 1
        if batch.complete { return batches }
        precondition(batches < 100_000, "sync does not converge")
    }
}

let testTable = TableSpec(name: "t", columns: [ColumnSpec(name: "a"), ColumnSpec(name: "b"), ColumnSpec(name: "c")])
let testSchema = Schema(tables: [testTable])
