/// What one merge did to a row.
public struct MergeOutcome: Sendable, Equatable {
    /// Column positions whose register changed, as a bit mask (bit i for column i).
    public var changedMask: UInt64 = 0
    /// Whether the deleted register changed.
    public var deletedChanged = false
    /// Concurrent writes that lost in this merge.
    public var conflicts: [Conflict] = []

    /// Whether anything changed.
    public var changed: Bool { deletedChanged || changedMask != 0 }

    /// Column positions whose register changed.
    public var changedColumns: [Int] { (0..<64).filter { changedMask & (1 << UInt64($0)) != 0 } }
}

extension RowState {
    /// Merges an incoming row state (all or some of its registers, with its vector) into this one.
    ///
    /// Per register the greater (clock, site) wins; vectors merge by pointwise maximum. Two writes are
    /// concurrent when neither side's vector covered the other's dot before the merge; a concurrent
    /// loser with a different value is reported, whichever side it was on. When the row ends deleted,
    /// newly met column writes concurrent with the winning delete are reported with the delete as winner.
    /// Commutative, associative and idempotent in the resulting state.
    public mutating func merge(_ incoming: RowState) -> MergeOutcome {
        var outcome = MergeOutcome()
        let localVector = vector
        let incomingVector = incoming.vector
        func concurrent(_ local: Stamp, _ remote: Stamp) -> Bool {
            !incomingVector.covers(local) && !localVector.covers(remote)
        }

        if let theirs = incoming.deleted {
            if let ours = deleted {
                if theirs.stamp.beats(ours.stamp) {
                    deleted = theirs
                    outcome.deletedChanged = true
                }
            } else {
                deleted = theirs
                outcome.deletedChanged = true
            }
        }
        let count = min(columns.count, incoming.columns.count)
        for index in 0..<count {
            guard let theirs = incoming.columns[index] else { continue }
            guard let ours = columns[index] else {
                columns[index] = theirs
                outcome.changedMask |= 1 << UInt64(index)
                continue
            }
            if theirs.stamp.beats(ours.stamp) {
                columns[index] = theirs
                outcome.changedMask |= 1 << UInt64(index)
                if !ours.value.same(as: theirs.value), concurrent(ours.stamp, theirs.stamp) {
                    outcome.conflicts.append(Conflict(column: index, loser: ours, winner: theirs, winnerIsDelete: false))
                }
            } else if ours.stamp.beats(theirs.stamp) {
                if !ours.value.same(as: theirs.value), concurrent(ours.stamp, theirs.stamp) {
                    outcome.conflicts.append(Conflict(column: index, loser: theirs, winner: ours, winnerIsDelete: false))
                }
            }
        }
        vector.merge(incomingVector)

        if let delete = deleted, delete.value == RowState.deletedMarker {
            let deleteCameIn = incoming.deleted?.stamp.sameWrite(delete.stamp) ?? false
            for index in 0..<columns.count {
                guard let register = columns[index] else { continue }
                let columnCameIn = index < incoming.columns.count
                    && (incoming.columns[index]?.stamp.sameWrite(register.stamp) ?? false)
                let met: Bool
                if deleteCameIn, !columnCameIn {
                    met = !incomingVector.covers(register.stamp) && !localVector.covers(delete.stamp)
                } else if columnCameIn, !deleteCameIn {
                    met = !localVector.covers(register.stamp) && !incomingVector.covers(delete.stamp)
                } else {
                    met = false
                }
                if met {
                    outcome.conflicts.append(Conflict(column: index, loser: register, winner: delete, winnerIsDelete: true))
                }
            }
        }
        return outcome
    }
}
