import BegawiCore
import Testing

/// Lattice laws of `RowState.merge` on random states as real writes and syncs produce them.
///
/// 4,000 seeded histories of four sites, simulated once and shared; each law is checked on several
/// picks of each history's states. A failure names the seed that replays it.
@Suite struct MergeLawTests {
    static let historyCount = 4_000
    static let histories: [RowSimulation] = (0..<UInt64(historyCount)).map {
        RowSimulation.random(seed: $0, sites: ["a", "b", "c", "d"]).0
    }

    /// Each history with its seed and a generator for picking states, salted per law.
    static func cases(_ salt: UInt64) -> some Sequence<(seed: UInt64, sim: RowSimulation, rng: SplitMix64)> {
        histories.enumerated().lazy.map { (UInt64($0.offset), $0.element, SplitMix64(seed: UInt64($0.offset) &* 0x9E37 ^ salt)) }
    }

    @Test func theSimulationMakesRealisticStates() {
        // The laws below only mean something if the generator makes varied, well-formed states.
        var deletedSeen = 0, conflictsSeen = 0, tiesSeen = 0, uncovered = 0
        for (_, sim, rng) in Self.cases(1) {
            var rng = rng
            for state in sim.snapshots {
                for register in [state.deleted] + state.columns {
                    if let register, !state.vector.covers(register.stamp) { uncovered += 1 }
                }
                if state.deleted?.value == RowState.deletedMarker { deletedSeen += 1 }
            }
            let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)
            for (x, y) in zip(a.columns, b.columns) {
                if let x, let y, x.stamp.clock == y.stamp.clock, x.stamp.site != y.stamp.site { tiesSeen += 1 }
            }
            var m = a
            conflictsSeen += m.merge(b).conflicts.count
        }
        #expect(uncovered == 0)
        #expect(deletedSeen > 1_000)
        #expect(conflictsSeen > 1_000)
        #expect(tiesSeen > 50)
    }

    @Test func mergeIsCommutative() throws {
        for (seed, sim, rng) in Self.cases(11) {
            var rng = rng
            for _ in 0..<3 {
                let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)
                try #require(merged(a, b) == merged(b, a), "seed \(seed)")
            }
            // The current states of every pair of sites.
            for i in sim.sites.indices {
                for j in sim.sites.indices where i < j {
                    let a = sim.sites[i].state, b = sim.sites[j].state
                    try #require(merged(a, b) == merged(b, a), "seed \(seed)")
                }
            }
        }
    }

    @Test func mergeIsAssociative() throws {
        for (seed, sim, rng) in Self.cases(12) {
            var rng = rng
            for _ in 0..<3 {
                let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng), c = sim.randomSnapshot(&rng)
                try #require(merged(merged(a, b), c) == merged(a, merged(b, c)), "seed \(seed)")
            }
        }
    }

    @Test func mergeIsIdempotent() throws {
        for (seed, sim, rng) in Self.cases(13) {
            var rng = rng
            let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)

            var self_ = a
            let same = self_.merge(a)
            try #require(self_ == a, "seed \(seed)")
            try #require(!same.changed && same.conflicts.isEmpty, "seed \(seed)")

            var twice = a
            _ = twice.merge(b)
            let afterFirst = twice
            let again = twice.merge(b)
            try #require(twice == afterFirst, "seed \(seed)")
            try #require(!again.changed, "seed \(seed): the second merge of the same state changed \(again.changedColumns)")
            try #require(again.conflicts.isEmpty, "seed \(seed): the second merge reported its conflicts again")

            // Absorption: what a state already contributed changes nothing when it comes back.
            try #require(merged(afterFirst, a) == afterFirst, "seed \(seed)")
        }
    }

    @Test func theResultIsTheJoinOfBothSides() throws {
        for (seed, sim, rng) in Self.cases(14) {
            var rng = rng
            let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)
            var m = a
            let outcome = m.merge(b)

            var vector = a.vector
            vector.merge(b.vector)
            try #require(m.vector == vector, "seed \(seed)")
            func greater(_ x: Register?, _ y: Register?) -> Register? {
                guard let x else { return y }
                guard let y else { return x }
                return y.stamp.beats(x.stamp) ? y : x
            }
            try #require(m.deleted == greater(a.deleted, b.deleted), "seed \(seed)")
            for i in 0..<sim.columnCount {
                try #require(m.columns[i] == greater(a.columns[i], b.columns[i]), "seed \(seed) column \(i)")
                try #require((outcome.changedMask >> UInt64(i)) & 1 == (m.columns[i] != a.columns[i] ? 1 : 0), "seed \(seed) column \(i)")
            }
            try #require(outcome.deletedChanged == (m.deleted != a.deleted), "seed \(seed)")
        }
    }

    @Test func aDeltaOfWhatTheReceiverLacksGivesTheSameStateAsTheWholeRow() throws {
        // Batches leave out the registers the receiver already holds; the outcome must not differ.
        for (seed, sim, rng) in Self.cases(7) {
            var rng = rng
            let receiver = sim.randomSnapshot(&rng)
            let sender = merged(receiver, sim.randomSnapshot(&rng))
            var delta = sender
            if delta.deleted == receiver.deleted { delta.deleted = nil }
            for i in delta.columns.indices where delta.columns[i] == receiver.columns[i] { delta.columns[i] = nil }
            var whole = receiver, partial = receiver
            let wholeOutcome = whole.merge(sender)
            let partialOutcome = partial.merge(delta)
            try #require(whole == sender && partial == sender, "seed \(seed)")
            try #require(wholeOutcome == partialOutcome, "seed \(seed)")
        }
    }

    @Test func theSameConflictsAreReportedWhicheverSideMerges() throws {
        for (seed, sim, rng) in Self.cases(15) {
            var rng = rng
            let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)
            var onA = a, onB = b
            let fromB = onA.merge(b).conflicts
            let fromA = onB.merge(a).conflicts
            try #require(fromB == fromA, "seed \(seed)")
            for conflict in fromB {
                // A loser is a real loser: a different value, and a stamp that does not win.
                try #require(!conflict.winner.stamp.sameWrite(conflict.loser.stamp), "seed \(seed)")
                if !conflict.winnerIsDelete {
                    try #require(conflict.winner.stamp.beats(conflict.loser.stamp), "seed \(seed)")
                    try #require(!conflict.winner.value.same(as: conflict.loser.value), "seed \(seed)")
                } else {
                    try #require(conflict.winner.value == RowState.deletedMarker, "seed \(seed)")
                }
            }
        }
    }

    @Test func causallyOrderedStatesNeverConflict() throws {
        var checked = 0
        for (seed, sim, rng) in Self.cases(16) {
            var rng = rng
            for _ in 0..<4 {
                let a = sim.randomSnapshot(&rng), b = sim.randomSnapshot(&rng)
                guard b.vector.dominates(a.vector) else { continue }
                checked += 1
                var onA = a, onB = b
                try #require(onA.merge(b).conflicts.isEmpty, "seed \(seed): b saw everything a did")
                try #require(onB.merge(a).conflicts.isEmpty, "seed \(seed): b saw everything a did")
                // b saw all of a, so a has nothing to give it.
                try #require(onB == b, "seed \(seed)")
            }
        }
        #expect(checked > Self.historyCount)
    }

    @Test func sitesConvergeWhateverTheSyncOrder() throws {
        for (seed, sim, rng) in Self.cases(17) {
            var sim = sim, rng = rng
            // Random pairwise syncs, then one full round trip through site 0.
            for _ in 0..<Int.random(in: 0...6, using: &rng) {
                let i = Int.random(in: 0..<4, using: &rng), j = Int.random(in: 0..<4, using: &rng)
                if i != j { sim.sync(from: i, to: j) }
            }
            for i in 1..<4 { sim.sync(from: i, to: 0) }
            for i in 1..<4 { sim.sync(from: 0, to: i) }
            let first = sim.sites[0].state
            for site in sim.sites {
                try #require(site.state == first, "seed \(seed)")
            }
        }
    }
}
