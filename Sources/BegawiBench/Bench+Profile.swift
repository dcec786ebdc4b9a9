import BegawiCore
import BegawiReplica
import Foundation

/// Single runs for a profiler: `valgrind --tool=callgrind begawi-bench profile-… --rows 10000`.
extension Bench {
    /// One capture run, plain or synced; with `--toggle-collect='*RawDatabase*insert*'` callgrind
    /// counts only the inserts, so the two counts give the overhead without this machine's noise.
    func profileCapture(synced: Bool) throws {
        _ = try timedInsert(synced: synced, data: fixtureRows(rows, seed: 1))
    }

    /// Applies one batch into fresh replicas several times.
    func profileApply() throws {
        let (_, batch) = try source("profile-source", rows: rows, seed: 2)
        for trial in 0..<5 {
            let p = path("profile-\(trial)")
            removeDatabase(p)
            let b = try Replica.create(at: p, siteID: "hub", schema: EnrollmentFixture.schema)
            let t = try seconds { _ = try b.apply(batch) }
            print(String(format: "apply: %.3f s", t))
            try b.close()
            removeDatabase(p)
        }
    }

    /// One apply where every change conflicts.
    func profileConflict() throws {
        let (a, batch) = try source("profile-conflict-source", rows: rows, seed: 2)
        let p = path("profile-conflict")
        removeDatabase(p)
        let c = try Replica.create(at: p, siteID: "lpk-b", schema: EnrollmentFixture.schema)
        _ = try c.apply(batch)
        try RawDatabase(path: p).execute("UPDATE enrollments SET status = 'active'")
        try c.captureLocalChanges()
        try RawDatabase(path: a.path).execute("UPDATE enrollments SET status = 'completed'")
        let changes = try a.export(after: try c.cursor(for: a.replicaID), limits: BatchLimits(maxRows: rows, maxValueBytes: Int.max))
        let t = try seconds { _ = try c.apply(changes) }
        print(String(format: "conflicting apply: %.3f s", t))
    }
}
