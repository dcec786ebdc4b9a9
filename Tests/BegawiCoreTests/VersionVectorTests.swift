import BegawiCore
import Testing

@Suite struct VersionVectorTests {
    static let sites = ["a", "b", "c", "d", "site-10", "site-9"]

    static func randomVector(_ rng: inout SplitMix64) -> VersionVector {
        var v = VersionVector()
        for site in sites where Int.random(in: 0..<3, using: &rng) != 0 {
            v.raise(site, to: UInt64.random(in: 0...6, using: &rng))
        }
        return v
    }

    @Test func anAbsentSiteCountsAsZero() {
        let v = VersionVector([("a", 3)])
        #expect(v["a"] == 3)
        #expect(v["b"] == 0)
        #expect(VersionVector()["a"] == 0)
    }

    @Test func coversExactlyTheDotsAtOrBelowItsCounter() {
        let v = VersionVector([("a", 3), ("b", 1)])
        #expect(v.covers(stamp(1, "a", 1)))
        #expect(v.covers(stamp(1, "a", 3)))
        #expect(!v.covers(stamp(1, "a", 4)))
        #expect(v.covers(stamp(1, "b", 1)))
        #expect(!v.covers(stamp(1, "b", 2)))
        #expect(!v.covers(stamp(1, "c", 1)))
        // Coverage depends on the dot only, not on the clock.
        #expect(v.covers(stamp(999_999, "a", 2)))
    }

    @Test func raiseNeverLowersACounter() {
        var v = VersionVector()
        v.raise("a", to: 5)
        v.raise("a", to: 2)
        #expect(v["a"] == 5)
        v.raise("a", to: 9)
        #expect(v["a"] == 9)
    }

    @Test func raisingToZeroAddsNoEntry() {
        var v = VersionVector()
        v.raise("a", to: 0)
        #expect(v.entries.isEmpty)
        #expect(v == VersionVector())
    }

    @Test func entriesStaySortedBySiteWithoutDuplicates() {
        let v = VersionVector([("d", 1), ("b", 2), ("c", 3), ("a", 4), ("b", 7), ("d", 0)])
        #expect(v.entries.map(\.site) == ["a", "b", "c", "d"])
        #expect(v.entries.map(\.counter) == [4, 7, 3, 1])
        #expect(v.description == "{a:4,b:7,c:3,d:1}")
    }

    @Test func repeatedSitesKeepTheirMaximum() {
        let v = VersionVector([("a", 2), ("a", 8), ("a", 5)])
        #expect(v == VersionVector([("a", 8)]))
    }

    @Test func mergeIsThePointwiseMaximum() {
        var v = VersionVector([("a", 3), ("b", 1)])
        v.merge(VersionVector([("b", 4), ("c", 2), ("a", 1)]))
        #expect(v == VersionVector([("a", 3), ("b", 4), ("c", 2)]))
    }

    @Test func mergeMatchesAPointwiseMaximumOnRandomVectors() {
        var rng = SplitMix64(seed: 0x7EC7)
        for _ in 0..<2_000 {
            let x = Self.randomVector(&rng), y = Self.randomVector(&rng)
            var m = x
            m.merge(y)
            for site in Self.sites + ["absent"] {
                #expect(m[site] == max(x[site], y[site]))
            }
            #expect(m.dominates(x) && m.dominates(y))
        }
    }

    @Test func mergeIsCommutativeAssociativeAndIdempotent() {
        var rng = SplitMix64(seed: 0x1A77)
        func join(_ p: VersionVector, _ q: VersionVector) -> VersionVector {
            var r = p
            r.merge(q)
            return r
        }
        for _ in 0..<3_000 {
            let x = Self.randomVector(&rng), y = Self.randomVector(&rng), z = Self.randomVector(&rng)
            #expect(join(x, y) == join(y, x))
            #expect(join(join(x, y), z) == join(x, join(y, z)))
            #expect(join(x, x) == x)
            #expect(join(join(x, y), y) == join(x, y))
        }
    }

    @Test func equalityAndHashIgnoreInsertionOrder() {
        var rng = SplitMix64(seed: 0xE0)
        for _ in 0..<500 {
            let pairs = Self.sites.map { ($0, UInt64.random(in: 0...9, using: &rng)) }
            let forward = VersionVector(pairs)
            let shuffled = VersionVector(pairs.shuffled(using: &rng))
            var raised = VersionVector()
            for (site, counter) in pairs.reversed() { raised.raise(site, to: counter) }
            #expect(forward == shuffled)
            #expect(forward == raised)
            #expect(forward.hashValue == shuffled.hashValue)
            #expect(Set([forward, shuffled, raised]).count == 1)
        }
    }

    @Test func vectorsThatDifferInOneCounterAreNotEqual() {
        #expect(VersionVector([("a", 1), ("b", 2)]) != VersionVector([("a", 1), ("b", 3)]))
        #expect(VersionVector([("a", 1)]) != VersionVector([("a", 1), ("b", 1)]))
        #expect(VersionVector([("a", 1)]) != VersionVector([("b", 1)]))
    }

    @Test func dominatesIsCoverageOfEveryEntry() {
        let big = VersionVector([("a", 3), ("b", 2)])
        #expect(big.dominates(VersionVector([("a", 3)])))
        #expect(big.dominates(VersionVector()))
        #expect(big.dominates(big))
        #expect(!big.dominates(VersionVector([("a", 4)])))
        #expect(!big.dominates(VersionVector([("c", 1)])))
        #expect(!VersionVector().dominates(big))
    }
}
