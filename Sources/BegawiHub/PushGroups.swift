import BegawiCore
import BegawiReplica
import Foundation

/// Group commit of the hub's pushes: a push that finds the store's one writer busy waits, and the
/// next push to take the writer applies every push waiting then (up to `maxRows` rows) in one
/// transaction, each in a savepoint of its own (`Replica.applyGroup`). Under the rules most rows
/// land in indexes keyed by hashes, where a commit writes about a page per row and index; a commit
/// of several pushes writes each such page once for all of them. Each push still succeeds or fails
/// alone, and learns its outcome only once the group has committed.
///
/// `@unchecked Sendable`: the queue and the leader flag are read and written under `condition`
/// only; a job's gate and companion are used by the one thread that leads its group.
final class PushGroups: @unchecked Sendable {
    /// One push waiting for the writer.
    final class Job: @unchecked Sendable {
        let batch: ChangeBatch
        let gate: (any ApplyGate)?
        let companion: ApplyCompanion
        /// Set by the group's leader once the group committed (or failed).
        var result: Result<ApplyResult, any Error>?

        init(batch: ChangeBatch, gate: (any ApplyGate)?, companion: ApplyCompanion) {
            self.batch = batch
            self.gate = gate
            self.companion = companion
        }
    }

    /// Rows one group takes at most (a push larger than this goes alone): the transaction, and the
    /// write-ahead log it leaves, stay bounded.
    static let maxRows = 20_000

    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var leading = false
    /// The most pushes one transaction held so far (for tests and figures).
    private var largest = 0

    /// Pushes waiting for a leader now, and the most pushes one transaction held so far.
    var counts: (waiting: Int, largestGroup: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (waiting.count, largest)
    }

    /// Applies one push, alone or with the pushes waiting beside it; returns its own result.
    func apply(_ replica: Replica, _ batch: ChangeBatch, gate: (any ApplyGate)?, companion: ApplyCompanion) throws -> ApplyResult {
        let job = Job(batch: batch, gate: gate, companion: companion)
        condition.lock()
        waiting.append(job)
        while job.result == nil {
            guard !leading else {
                condition.wait()
                continue
            }
            leading = true
            var group: [Job] = []
            var rows = 0
            while let next = waiting.first, group.isEmpty || rows + next.batch.rows.count <= PushGroups.maxRows {
                group.append(waiting.removeFirst())
                rows += next.batch.rows.count
            }
            largest = max(largest, group.count)
            condition.unlock()
            let results: [Result<ApplyResult, any Error>]
            do {
                results = try replica.applyGroup(group.map { ($0.batch, $0.gate, $0.companion) })
            } catch {
                results = group.map { _ in .failure(error) }
            }
            condition.lock()
            for (member, result) in zip(group, results) { member.result = result }
            leading = false
            condition.broadcast()
        }
        let result = job.result
        condition.unlock()
        guard let result else { throw BegawiError(.storage, "a push lost its place in the hub's writer queue; this is a bug, please report it") }
        return try result.get()
    }
}
