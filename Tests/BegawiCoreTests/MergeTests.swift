import BegawiCore
import Testing

/// The merge rule on hand-built histories of two or three sites editing one row of two columns.
@Suite struct MergeTests {
    static func reg(_ value: SQLValue, _ s: Stamp) -> Register { Register(value: value, stamp: s) }
    static func live(_ s: Stamp) -> Register { Register(value: RowState.liveMarker, stamp: s) }
    static func gone(_ s: Stamp) -> Register { Register(value: RowState.deletedMarker, stamp: s) }

    /// The row as site "a" inserted it at clock 10: the base every scenario starts from.
    static let insert = stamp(10, "a", 1)
    static let base = RowState(
        vector: VersionVector([("a", 1)]), deleted: live(insert),
        columns: [reg(.text("x0"), insert), reg(.text("x1"), insert)])

    /// `state` after its site wrote `values` (nil leaves a column alone) with stamp `s`.
    static func edit(_ state: RowState, _ s: Stamp, _ values: [SQLValue?]) -> RowState {
        var next = state
        for (i, value) in values.enumerated() {
            if let value { next.columns[i] = reg(value, s) }
        }
        next.vector.raise(s.site, to: s.counter)
        return next
    }

    static func delete(_ state: RowState, _ s: Stamp) -> RowState {
        var next = state
        next.deleted = gone(s)
        next.vector.raise(s.site, to: s.counter)
        return next
    }

    // MARK: columns

    @Test func eachColumnTakesTheGreaterClock() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("a0"), nil])
        let atB = Self.edit(Self.base, stamp(25, "b", 1), [nil, .text("b1")])
        var merged = atA
        let outcome = merged.merge(atB)
        #expect(merged.columns[0]?.value == .text("a0"))
        #expect(merged.columns[1]?.value == .text("b1"))
        #expect(merged.columns[1]?.stamp == stamp(25, "b", 1))
        #expect(merged.vector == VersionVector([("a", 2), ("b", 1)]))
        #expect(outcome.changedColumns == [1])
        #expect(!outcome.deletedChanged)
    }

    @Test func theLaterOfTwoConcurrentWritesWinsInBothDirections() {
        let atA = Self.edit(Self.base, stamp(30, "a", 2), [.text("A"), nil])
        let atB = Self.edit(Self.base, stamp(20, "b", 1), [.text("B"), nil])
        for (local, incoming) in [(atA, atB), (atB, atA)] {
            var merged = local
            _ = merged.merge(incoming)
            #expect(merged.columns[0] == Self.reg(.text("A"), stamp(30, "a", 2)))
        }
    }

    @Test func equalClocksAreWonByTheGreaterSite() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("A"), nil])
        let atB = Self.edit(Self.base, stamp(20, "b", 1), [.text("B"), nil])
        for (local, incoming) in [(atA, atB), (atB, atA)] {
            var merged = local
            let outcome = merged.merge(incoming)
            #expect(merged.columns[0]?.value == .text("B"))
            #expect(outcome.conflicts.map(\.loser.value) == [.text("A")])
        }
    }

    @Test func aConcurrentEditOfOneColumnReportsOneConflictWithTheLoser() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("A"), nil])
        let atB = Self.edit(Self.base, stamp(21, "b", 1), [.text("B"), nil])
        let expected = Conflict(
            column: 0, loser: Self.reg(.text("A"), stamp(20, "a", 2)), winner: Self.reg(.text("B"), stamp(21, "b", 1)),
            winnerIsDelete: false)

        // At a, the incoming write wins.
        var onA = atA
        let outcomeA = onA.merge(atB)
        #expect(outcomeA.conflicts == [expected])
        #expect(outcomeA.changedColumns == [0])

        // At b, the local write wins: the loser is reported all the same.
        var onB = atB
        let outcomeB = onB.merge(atA)
        #expect(outcomeB.conflicts == [expected])
        #expect(!outcomeB.changed)
        #expect(onA == onB)
    }

    @Test func editsOfDifferentColumnsDoNotConflict() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("A"), nil])
        let atB = Self.edit(Self.base, stamp(21, "b", 1), [nil, .text("B")])
        var onA = atA
        var onB = atB
        #expect(onA.merge(atB).conflicts.isEmpty)
        #expect(onB.merge(atA).conflicts.isEmpty)
        #expect(onA == onB)
        #expect(onA.columns.map { $0?.value } == [.text("A"), .text("B")])
    }

    @Test func anEditMadeAfterSeeingTheOtherDoesNotConflict() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("A"), nil])
        // b received a's edit, then overwrote the same column.
        var seen = Self.base
        _ = seen.merge(atA)
        let atB = Self.edit(seen, stamp(21, "b", 1), [.text("B"), nil])
        #expect(atB.vector.covers(stamp(20, "a", 2)))

        var onA = atA
        let outcome = onA.merge(atB)
        #expect(outcome.conflicts.isEmpty)
        #expect(outcome.changedColumns == [0])
        #expect(onA.columns[0]?.value == .text("B"))

        // And the older write arriving again at b is no conflict either.
        var onB = atB
        let back = onB.merge(atA)
        #expect(back.conflicts.isEmpty)
        #expect(!back.changed)
    }

    @Test func concurrentWritesOfTheSameValueDoNotConflict() {
        for value in [SQLValue.text("same"), .integer(3), .real(.nan), .blob([1, 2, 3]), .null] {
            let atA = Self.edit(Self.base, stamp(20, "a", 2), [value, nil])
            let atB = Self.edit(Self.base, stamp(21, "b", 1), [value, nil])
            var onA = atA
            let outcome = onA.merge(atB)
            #expect(outcome.conflicts.isEmpty, "\(value)")
            // The greater stamp is still taken, so every site ends with the same register.
            #expect(onA.columns[0]?.stamp == stamp(21, "b", 1))
            var onB = atB
            #expect(onB.merge(atA).conflicts.isEmpty, "\(value)")
        }
    }

    @Test func valuesOfDifferentTypesAreDifferentValues() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.integer(1), nil])
        let atB = Self.edit(Self.base, stamp(21, "b", 1), [.real(1), nil])
        var onA = atA
        #expect(onA.merge(atB).conflicts.count == 1)
    }

    // MARK: deletes

    @Test func aDeleteBeatsAConcurrentOlderUpdateAndReportsIt() {
        let updateStamp = stamp(20, "b", 1)
        let deleteStamp = stamp(30, "a", 2)
        let atB = Self.edit(Self.base, updateStamp, [.text("B"), nil])
        let atA = Self.delete(Self.base, deleteStamp)
        let expected = Conflict(column: 0, loser: Self.reg(.text("B"), updateStamp), winner: Self.gone(deleteStamp), winnerIsDelete: true)

        var onA = atA
        let outcomeA = onA.merge(atB)
        #expect(!onA.isLive)
        #expect(outcomeA.conflicts == [expected])

        var onB = atB
        let outcomeB = onB.merge(atA)
        #expect(!onB.isLive)
        #expect(outcomeB.deletedChanged)
        #expect(outcomeB.conflicts == [expected])
        #expect(onA == onB)
    }

    @Test func aDeleteThatSawTheUpdateReportsNothing() {
        let atB = Self.edit(Self.base, stamp(20, "b", 1), [.text("B"), nil])
        var seen = Self.base
        _ = seen.merge(atB)
        let atA = Self.delete(seen, stamp(30, "a", 2))

        var onB = atB
        let outcome = onB.merge(atA)
        #expect(!onB.isLive)
        #expect(outcome.deletedChanged)
        #expect(outcome.conflicts.isEmpty)
    }

    @Test func aConflictIsReportedOnceWhereTheTwoWritesFirstMeet() {
        let atA = Self.delete(Self.base, stamp(30, "a", 2))
        let atC = Self.edit(Self.base, stamp(20, "c", 1), [.text("C"), nil])
        // b meets the delete, then the concurrent update: b reports it.
        var onB = Self.base
        _ = onB.merge(atA)
        let met = onB.merge(atC)
        #expect(met.conflicts.count == 1)
        #expect(met.conflicts.first?.winnerIsDelete == true)

        // b then sends a its row, whole or without the deleted register a already holds:
        // a meets the update through b, which saw both writes, so nothing is reported again.
        var partial = onB
        partial.deleted = nil
        partial.columns[1] = nil
        for incoming in [onB, partial] {
            var onA = atA
            let outcome = onA.merge(incoming)
            #expect(outcome.conflicts.isEmpty)
            #expect(outcome.changedColumns == [0])
            #expect(!onA.isLive)
        }
    }

    @Test func aColumnConflictIsReportedOnceWhereTheTwoWritesFirstMeet() {
        let atA = Self.edit(Self.base, stamp(20, "a", 2), [.text("A"), nil])
        let atC = Self.edit(Self.base, stamp(21, "c", 1), [.text("C"), nil])
        var onB = Self.base
        _ = onB.merge(atA)
        #expect(onB.merge(atC).conflicts.count == 1)
        var partial = onB
        partial.deleted = nil
        partial.columns[1] = nil
        for incoming in [onB, partial] {
            var onA = atA
            let outcome = onA.merge(incoming)
            #expect(outcome.conflicts.isEmpty)
            #expect(onA.columns[0]?.value == .text("C"))
        }
    }

    @Test func aLateOlderUpdateNeverRevivesADeletedRow() {
        let atB = Self.edit(Self.base, stamp(20, "b", 1), [.text("B"), .text("B1")])
        let atC = Self.delete(Self.base, stamp(30, "c", 1))

        var onA = Self.base
        _ = onA.merge(atC)
        #expect(!onA.isLive)
        // b's update, made before the delete but unseen by it, arrives late.
        let outcome = onA.merge(atB)
        #expect(!onA.isLive)
        #expect(!outcome.deletedChanged)
        #expect(onA.deleted == Self.gone(stamp(30, "c", 1)))
        #expect(outcome.conflicts.count == 2)
        #expect(outcome.conflicts.allSatisfy { $0.winnerIsDelete && $0.winner.stamp == stamp(30, "c", 1) })
        #expect(Set(outcome.conflicts.map(\.column)) == [0, 1])
    }

    @Test func aConcurrentNewerUpdateDoesNotReviveADeletedRowEither() {
        let atB = Self.edit(Self.base, stamp(50, "b", 1), [.text("B"), nil])
        var onA = Self.delete(Self.base, stamp(30, "a", 2))
        let outcome = onA.merge(atB)
        #expect(!onA.isLive)
        #expect(onA.columns[0]?.value == .text("B"))
        #expect(outcome.conflicts.count == 1)
        #expect(outcome.conflicts.first?.winnerIsDelete == true)
    }

    @Test func aLaterInsertRevivesTheRow() {
        let deleted = Self.delete(Self.base, stamp(30, "a", 2))
        var seen = Self.base
        _ = seen.merge(deleted)
        // b saw the delete and inserts the same key again.
        var reinserted = Self.edit(seen, stamp(40, "b", 1), [.text("new0"), .text("new1")])
        reinserted.deleted = Self.live(stamp(40, "b", 1))

        var onA = deleted
        let outcome = onA.merge(reinserted)
        #expect(onA.isLive)
        #expect(outcome.deletedChanged)
        #expect(outcome.changedColumns == [0, 1])
        #expect(outcome.conflicts.isEmpty)
    }

    @Test func aConcurrentInsertOlderThanTheDeleteDoesNotRevive() {
        let deleted = Self.delete(Self.base, stamp(30, "a", 2))
        var reinserted = Self.edit(Self.base, stamp(25, "b", 1), [.text("n0"), nil])
        reinserted.deleted = Self.live(stamp(25, "b", 1))
        var onA = deleted
        _ = onA.merge(reinserted)
        #expect(!onA.isLive)
        var onB = reinserted
        _ = onB.merge(deleted)
        #expect(!onB.isLive)
        #expect(onA == onB)
    }

    // MARK: bookkeeping

    @Test func mergingIntoAnEmptyStateTakesEverything() {
        var empty = RowState(columnCount: 2)
        #expect(!empty.isLive)
        let outcome = empty.merge(Self.base)
        #expect(empty == Self.base)
        #expect(empty.isLive)
        #expect(outcome.deletedChanged)
        #expect(outcome.changedColumns == [0, 1])
        #expect(outcome.conflicts.isEmpty)
    }

    @Test func mergingAnEmptyStateChangesNothing() {
        var state = Self.base
        let outcome = state.merge(RowState(columnCount: 2))
        #expect(state == Self.base)
        #expect(!outcome.changed)
    }

    @Test func absentIncomingRegistersLeaveLocalOnesAlone() {
        // A batch may carry only the registers the receiver lacks.
        var partial = RowState(columnCount: 2)
        partial.vector = VersionVector([("a", 1), ("b", 1)])
        partial.columns[1] = Self.reg(.integer(5), stamp(20, "b", 1))
        var state = Self.base
        let outcome = state.merge(partial)
        #expect(state.deleted == Self.base.deleted)
        #expect(state.columns[0] == Self.base.columns[0])
        #expect(state.columns[1]?.value == .integer(5))
        #expect(outcome.changedColumns == [1])
        #expect(state.vector == VersionVector([("a", 1), ("b", 1)]))
    }

    @Test func aVectorOnlyChangeIsNotAChange() {
        var news = Self.base
        news.vector.raise("b", to: 4)
        var state = Self.base
        let outcome = state.merge(news)
        #expect(!outcome.changed)
        #expect(state.vector["b"] == 4)
    }

    @Test func changedColumnsCoverTheWidestTable() {
        let width = TableSpec.maximumColumns
        let s = stamp(10, "a", 1)
        let full = RowState(
            vector: VersionVector([("a", 1)]), deleted: Self.live(s),
            columns: (0..<width).map { Self.reg(.integer(Int64($0)), s) })
        var empty = RowState(columnCount: width)
        let outcome = empty.merge(full)
        #expect(outcome.changedColumns == Array(0..<width))
        #expect(empty == full)

        var lastOnly = RowState(columnCount: width)
        lastOnly.vector = VersionVector([("a", 2)])
        lastOnly.columns[width - 1] = Self.reg(.null, stamp(20, "a", 2))
        var state = full
        #expect(state.merge(lastOnly).changedColumns == [width - 1])
    }
}

@Suite struct RowStateTests {
    @Test func aRowIsLiveOnlyWhenItsDeletedRegisterSaysLive() {
        var state = RowState(columnCount: 1)
        #expect(!state.isLive)
        state.deleted = Register(value: RowState.liveMarker, stamp: stamp(1, "a", 1))
        #expect(state.isLive)
        state.deleted = Register(value: RowState.deletedMarker, stamp: stamp(2, "a", 2))
        #expect(!state.isLive)
        #expect(RowState(columnCount: 3).columns == [nil, nil, nil])
    }
}

@Suite struct SQLValueTests {
    @Test func sameTreatsNaNAsEqualAndTypesAsDistinct() {
        #expect(SQLValue.real(.nan).same(as: .real(.nan)))
        #expect(SQLValue.real(0).same(as: .real(-0.0)))
        #expect(!SQLValue.real(1).same(as: .integer(1)))
        #expect(!SQLValue.text("1").same(as: .integer(1)))
        #expect(!SQLValue.null.same(as: .text("")))
        #expect(SQLValue.blob([]).same(as: .blob([])))
        #expect(!SQLValue.blob([0]).same(as: .blob([])))
    }

    @Test func descriptionsNeverShowTheValue() {
        let secret = "3201234567890001"
        #expect(!SQLValue.text(secret).description.contains(secret))
        #expect(SQLValue.text(secret).description == "text(16 bytes)")
        #expect(!SQLValue.integer(3_201_234_567).description.contains("3201234567"))
        #expect(SQLValue.blob([1, 2, 3]).description == "blob(3 bytes)")
    }
}
