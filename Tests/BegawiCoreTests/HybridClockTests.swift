import BegawiCore
import Testing

@Suite struct HybridTimestampTests {
    @Test func packsMillisecondsAboveA16BitCounter() {
        let t = HybridTimestamp(milliseconds: 1_780_000_000_123, counter: 0xBEEF)
        #expect(t.milliseconds == 1_780_000_000_123)
        #expect(t.counter == 0xBEEF)
        #expect(t.rawValue == 1_780_000_000_123 << 16 | 0xBEEF)
        #expect(t.description == "1780000000123.48879")
    }

    @Test func millisecondsKeepOnly48Bits() {
        let t = HybridTimestamp(milliseconds: (1 << 48) + 5, counter: 1)
        #expect(t.milliseconds == 5)
        #expect(t.counter == 1)
    }

    @Test func ordersByMillisecondsThenCounter() {
        #expect(HybridTimestamp(milliseconds: 10, counter: 0xFFFF) < HybridTimestamp(milliseconds: 11, counter: 0))
        #expect(HybridTimestamp(milliseconds: 10, counter: 1) < HybridTimestamp(milliseconds: 10, counter: 2))
        #expect(!(HybridTimestamp(milliseconds: 10, counter: 2) < HybridTimestamp(milliseconds: 10, counter: 2)))
    }
}

@Suite struct HybridClockTests {
    @Test func followsAWallClockThatMovesForward() throws {
        var clock = HybridClock()
        #expect(try clock.tick(wallMilliseconds: 1_000) == HybridTimestamp(milliseconds: 1_000, counter: 0))
        #expect(try clock.tick(wallMilliseconds: 1_005) == HybridTimestamp(milliseconds: 1_005, counter: 0))
        #expect(clock.last == HybridTimestamp(milliseconds: 1_005, counter: 0))
    }

    @Test func equalWallTimesAdvanceTheCounter() throws {
        var clock = HybridClock()
        for expected in UInt16(0)..<100 {
            let t = try clock.tick(wallMilliseconds: 42)
            #expect(t.milliseconds == 42)
            #expect(t.counter == expected)
        }
    }

    @Test func aWallClockSteppingBackNeverMovesItBackwards() throws {
        var clock = HybridClock()
        let first = try clock.tick(wallMilliseconds: 10_000)
        let second = try clock.tick(wallMilliseconds: 4_000)
        let third = try clock.tick(wallMilliseconds: 9_999)
        #expect(second > first)
        #expect(third > second)
        #expect(second == HybridTimestamp(milliseconds: 10_000, counter: 1))
        #expect(third == HybridTimestamp(milliseconds: 10_000, counter: 2))
        // Once the wall clock catches up, the clock follows it again with a fresh counter.
        #expect(try clock.tick(wallMilliseconds: 10_001) == HybridTimestamp(milliseconds: 10_001, counter: 0))
    }

    @Test func strictlyIncreasesAndNeverLagsTheWallClockOverManyTicks() throws {
        var rng = SplitMix64(seed: 0xC10C)
        var clock = HybridClock()
        var wall: UInt64 = 1_780_000_000_000
        var previous = clock.last
        for _ in 0..<50_000 {
            // Mostly forward, sometimes stuck, sometimes a step back of up to a second.
            switch Int.random(in: 0..<10, using: &rng) {
            case 0: wall -= UInt64.random(in: 1...1_000, using: &rng)
            case 1...4: break
            default: wall += UInt64.random(in: 1...3, using: &rng)
            }
            let t = try clock.tick(wallMilliseconds: wall)
            #expect(t > previous)
            #expect(t >= HybridTimestamp(milliseconds: wall, counter: 0))
            #expect(clock.last == t)
            previous = t
        }
    }

    @Test func aFullCounterCarriesIntoTheMillisecondInsteadOfWrapping() throws {
        var clock = HybridClock(last: HybridTimestamp(milliseconds: 1_000, counter: 0xFFFF))
        let t = try clock.tick(wallMilliseconds: 1_000)
        #expect(t == HybridTimestamp(milliseconds: 1_001, counter: 0))
        #expect(t > HybridTimestamp(milliseconds: 1_000, counter: 0xFFFF))
        // The wall clock has not reached 1001 yet, so the next event counts on within 1001.
        #expect(try clock.tick(wallMilliseconds: 1_000) == HybridTimestamp(milliseconds: 1_001, counter: 1))
        #expect(try clock.tick(wallMilliseconds: 1_001) == HybridTimestamp(milliseconds: 1_001, counter: 2))
    }

    @Test func moreThan65536EventsInOneMillisecondStayOrdered() throws {
        var clock = HybridClock()
        var previous = try clock.tick(wallMilliseconds: 500)
        for _ in 0..<70_000 {
            let t = try clock.tick(wallMilliseconds: 500)
            #expect(t.rawValue == previous.rawValue + 1)
            previous = t
        }
        #expect(previous.milliseconds == 501)
        #expect(previous.counter == UInt16(70_000 - 65_536))
    }

    @Test func theLargestValueThrowsAClockErrorAndKeepsTheState() throws {
        let top = HybridTimestamp(rawValue: .max)
        var clock = HybridClock(last: top)
        let error = try #require(throws: BegawiError.self) { try clock.tick(wallMilliseconds: 1_000) }
        #expect(error.code == .clock)
        #expect(clock.last == top)
    }

    @Test func observingARemoteTimestampOrdersLaterEventsAfterIt() throws {
        var clock = HybridClock()
        _ = try clock.tick(wallMilliseconds: 1_000)
        let remote = HybridTimestamp(milliseconds: 60_000, counter: 7)
        clock.observe(remote)
        #expect(clock.last == remote)
        let next = try clock.tick(wallMilliseconds: 1_001)
        #expect(next > remote)
        #expect(next == HybridTimestamp(milliseconds: 60_000, counter: 8))
    }

    @Test func observingAnOlderTimestampChangesNothing() throws {
        var clock = HybridClock()
        let t = try clock.tick(wallMilliseconds: 5_000)
        clock.observe(HybridTimestamp(milliseconds: 4_000, counter: 3))
        #expect(clock.last == t)
        #expect(try clock.tick(wallMilliseconds: 5_000) == HybridTimestamp(milliseconds: 5_000, counter: 1))
    }

    @Test func observedRemotesAreAlwaysBeatenByTheNextTick() throws {
        var rng = SplitMix64(seed: 0x0B5E)
        var clock = HybridClock()
        var wall: UInt64 = 1_000_000
        for _ in 0..<10_000 {
            wall += UInt64.random(in: 0...2, using: &rng)
            let remote = HybridTimestamp(
                milliseconds: wall + UInt64.random(in: 0...50, using: &rng) - 25,
                counter: UInt16.random(in: 0...UInt16.max, using: &rng))
            clock.observe(remote)
            #expect(try clock.tick(wallMilliseconds: wall) > remote)
        }
    }

    @Test func aForcedTickReturnsExactlyTheForcedValue() throws {
        var clock = HybridClock()
        let forced = HybridTimestamp(milliseconds: 9_000, counter: 3)
        #expect(clock.tick(forced: forced) == forced)
        #expect(clock.last == forced)
        // The clock keeps counting from the forced value.
        #expect(try clock.tick(wallMilliseconds: 100) == HybridTimestamp(milliseconds: 9_000, counter: 4))
    }

    @Test func aForcedTickInThePastDoesNotMoveTheClockBack() throws {
        var clock = HybridClock()
        let now = try clock.tick(wallMilliseconds: 9_000)
        let past = HybridTimestamp(milliseconds: 10, counter: 0)
        #expect(clock.tick(forced: past) == past)
        #expect(clock.last == now)
        #expect(try clock.tick(wallMilliseconds: 9_000) > now)
    }

    @Test func restartingFromThePersistedStateContinuesAfterIt() throws {
        var clock = HybridClock()
        for wall in [UInt64(100), 100, 100] { _ = try clock.tick(wallMilliseconds: wall) }
        var restarted = HybridClock(last: clock.last)
        #expect(try restarted.tick(wallMilliseconds: 50) > clock.last)
        #expect(restarted != clock)
    }
}
