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
        let (c, changes) = try conflictingChanges(source: a, batch: batch, name: "profile-conflict", trial: 0)
        let t = try seconds { _ = try c.apply(changes) }
        print(String(format: "conflicting apply: %.3f s", t))
    }
}
