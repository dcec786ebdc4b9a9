import BegawiCore
import BegawiReplica

/// Space given back at the hub (issue 15, item 5), as the last step of a housekeeping pass, after the
/// steps that delete: free pages leave the file in short writes, then the log is truncated.
extension SQLiteHubStore {
    /// Pages given back per write (1 MiB of 4 KiB pages): each holds the write lock a few ms.
    static let vacuumStepPages = 256
    /// Writes per pass at most (64 MiB): the rest goes at the next pass.
    static let vacuumStepsPerPass = 64

    /// Gives free pages back in short steps, then folds and truncates the write-ahead log; returns the
    /// pages given back and those still free (a file made before incremental vacuum keeps its free
    /// pages until `begawi replica compact`), for the pass's log line.
    public func giveSpaceBack() throws -> [String: Int] {
        var freed = 0
        for _ in 0..<Self.vacuumStepsPerPass {
            let step = try replica.vacuumStep(pages: Self.vacuumStepPages)
            freed += step
            if step < Self.vacuumStepPages { break }
        }
        try replica.truncateLog(waitMilliseconds: 1_000)
        let space = try replica.space()
        return ["pages.freed": freed, "pages.free": space.freePages]
    }
}
