import BegawiCore
import BegawiSite
import Testing

@Suite struct BackoffTests {
    @Test func delaysDoubleWithJitterUpToTheCap() {
        var rng = SplitMix64(seed: 7)
        var backoff = Backoff(initialMilliseconds: 1000, capMilliseconds: 30_000)
        var ceilings: [UInt64] = []
        for _ in 0..<12 {
            let delay = backoff.fail(random: &rng)
            let ceiling: UInt64 = min(30_000, 1000 << UInt64(backoff.failures - 1))
            #expect(delay >= ceiling / 2 && delay <= ceiling, "failure \(backoff.failures): \(delay) ms")
            ceilings.append(ceiling)
        }
        #expect(Array(ceilings.prefix(6)) == [1000, 2000, 4000, 8000, 16_000, 30_000] as [UInt64])
        backoff.succeed()
        #expect(backoff.fail(random: &rng) <= 1000)
    }

    @Test func aFailureOnlyAnUpgradeMendsWaitsAtTheCapFromTheFirst() {
        var rng = SplitMix64(seed: 3)
        var backoff = Backoff(initialMilliseconds: 100, capMilliseconds: 60_000)
        for n in 1...5 {
            let delay = backoff.failAtCap(random: &rng)
            #expect(delay >= 30_000 && delay <= 60_000 && backoff.failures == n, "failure \(n): \(delay) ms")
        }
        backoff.succeed()
        #expect(backoff.fail(random: &rng) <= 100)
    }

    @Test func jitterSpreadsSitesThatFailTogether() {
        var rng = SplitMix64(seed: 11)
        var delays = Set<UInt64>()
        for _ in 0..<50 {
            var b = Backoff(initialMilliseconds: 1000, capMilliseconds: 120_000)
            for _ in 0..<4 { _ = b.fail(random: &rng) }
            delays.insert(b.fail(random: &rng))
        }
        #expect(delays.count > 40)
    }

    @Test func hugeFailureCountsNeitherOverflowNorExceedTheCap() {
        var rng = SplitMix64(seed: 3)
        var b = Backoff(initialMilliseconds: 5000, capMilliseconds: 600_000)
        for _ in 0..<200 { #expect(b.fail(random: &rng) <= 600_000) }
    }
}
