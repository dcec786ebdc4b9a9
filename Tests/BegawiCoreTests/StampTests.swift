import BegawiCore
import Testing

@Suite struct StampTests {
    @Test func theGreaterClockWinsWhateverTheSites() {
        let early = stamp(100, "z", 9)
        let late = stamp(101, "a", 1)
        #expect(late.beats(early))
        #expect(!early.beats(late))
    }

    @Test func theCounterPartOfTheClockCounts() {
        #expect(stamp(100, "a", 1, logical: 2).beats(stamp(100, "b", 1, logical: 1)))
    }

    @Test func equalClocksAreBrokenByTheGreaterSiteString() {
        let a = stamp(100, "a", 5)
        let b = stamp(100, "b", 1)
        #expect(b.beats(a))
        #expect(!a.beats(b))
        // Strings compare as strings, not as numbers.
        #expect(stamp(100, "site-9", 1).beats(stamp(100, "site-10", 1)))
    }

    @Test func aStampDoesNotBeatItselfOrTheSameClockAndSite() {
        let s = stamp(100, "a", 3)
        #expect(!s.beats(s))
        // The write counter takes no part in the order.
        #expect(!stamp(100, "a", 4).beats(s))
        #expect(!s.beats(stamp(100, "a", 4)))
    }

    @Test func beatsIsAStrictTotalOrderOnClockAndSite() {
        var rng = SplitMix64(seed: 0x57A)
        let sites = ["a", "b", "c", "aa"]
        func random() -> Stamp {
            stamp(UInt64.random(in: 1...3, using: &rng), sites.randomElement(using: &rng)!, UInt64.random(in: 1...3, using: &rng),
                  logical: UInt16.random(in: 0...1, using: &rng))
        }
        for _ in 0..<3_000 {
            let x = random(), y = random(), z = random()
            let sameKey = x.clock == y.clock && x.site == y.site
            // Exactly one of: x beats y, y beats x, or they share clock and site.
            #expect([x.beats(y), y.beats(x), sameKey].filter { $0 }.count == 1)
            if x.beats(y), y.beats(z) { #expect(x.beats(z)) }
        }
    }

    @Test func sameWriteComparesTheDotOnly() {
        #expect(stamp(100, "a", 3).sameWrite(stamp(200, "a", 3)))
        #expect(!stamp(100, "a", 3).sameWrite(stamp(100, "a", 4)))
        #expect(!stamp(100, "a", 3).sameWrite(stamp(100, "b", 3)))
    }

    @Test func descriptionShowsClockSiteAndCounter() {
        #expect(stamp(100, "a", 3, logical: 2).description == "100.2@a#3")
    }
}
