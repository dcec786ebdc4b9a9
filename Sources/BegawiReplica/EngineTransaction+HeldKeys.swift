import BegawiCore
internal import GRDB

extension EngineTransaction {
    /// Keys per statement of `heldKeys`.
    static let heldChunk = 64

    /// Of the keys a batch names, those the file holds a row for (live or tombstone), by this
    /// replica's table index: read set-wise, 64 keys per statement in key order, so that a row the
    /// file does not hold (nearly every row of an ingest) is merged as new without a lookup of its own.
    func heldKeys(_ batch: ChangeBatch, mapping: [(Int, [Int])], tableIDs: [Int64]) throws -> [Set<String>] {
        var keys = [[String]](repeating: [], count: tableIDs.count)
        for row in batch.rows { keys[mapping[row.table].0].append(row.key) }
        var held = [Set<String>](repeating: [], count: tableIDs.count)
        let n = EngineTransaction.heldChunk
        let select = try statement("SELECT key FROM _begawi_rows WHERE tbl = ? AND key IN (" + Array(repeating: "?", count: n).joined(separator: ", ") + ")")
        for (table, names) in keys.enumerated() where !names.isEmpty {
            let sorted = Array(Set(names)).sorted()
            for start in stride(from: 0, to: sorted.count, by: n) {
                let chunk = sorted[start..<min(sorted.count, start + n)]
                select.reset()
                select.bind(1, tableIDs[table])
                // A short last chunk names its last key again in the free places.
                for i in 0..<n { select.bind(Int32(i + 2), chunk[min(chunk.startIndex + i, chunk.endIndex - 1)]) }
                while try select.step() { held[table].insert(select.text(0)) }
                select.reset()
            }
        }
        return held
    }
}
