import BegawiCore
import Foundation

/// A wall clock stuck at one instant.
struct FixedWallClock: WallClock {
    let milliseconds: UInt64
    func nowMilliseconds() -> UInt64 { milliseconds }
}

/// A wall clock that replays a list of readings, then repeats the last one.
final class ScriptedWallClock: WallClock, @unchecked Sendable {
    private let lock = NSLock()
    private var readings: [UInt64]

    init(_ readings: [UInt64]) {
        precondition(!readings.isEmpty)
        self.readings = readings
    }

    func nowMilliseconds() -> UInt64 {
        lock.withLock { readings.count > 1 ? readings.removeFirst() : readings[0] }
    }
}

/// Shorthand for a stamp at `ms.counter` made by `site` as its `counter`-th write.
func stamp(_ ms: UInt64, _ site: String, _ counter: UInt64, logical: UInt16 = 0) -> Stamp {
    Stamp(clock: HybridTimestamp(milliseconds: ms, counter: logical), site: site, counter: counter)
}

/// Several sites editing one row the way real replicas do.
///
/// Every write ticks the site's hybrid clock and write counter and stamps the registers it sets, so
/// a register's dot is always covered by its state's vector and one (clock, site) names one write.
/// Syncs merge a whole state and let the receiver observe the clocks it met. Wall clocks are skewed
/// and coarse, so equal clocks on different sites (ties broken by site) happen often.
struct RowSimulation {
    struct Site {
        let id: String
        var clock = HybridClock()
        var counter: UInt64 = 0
        var skew: Int64
        var state: RowState
    }

    static let valuePool: [SQLValue] = [
        .null, .integer(0), .integer(1), .integer(-7), .real(1.5), .text("x"), .text("y"), .blob([1, 2]),
    ]

    private(set) var sites: [Site]
    let columnCount: Int
    private var wall: UInt64 = 1_000_000
    /// Every state any site has held, in order: later ones of a site descend from earlier ones.
    private(set) var snapshots: [RowState] = []

    init(siteIDs: [String], columnCount: Int, rng: inout SplitMix64) {
        self.columnCount = columnCount
        sites = siteIDs.map { Site(id: $0, skew: Int64.random(in: -3...3, using: &rng), state: RowState(columnCount: columnCount)) }
        snapshots.append(RowState(columnCount: columnCount))
    }

    /// One random event: a local write at some site, or a sync between two sites.
    mutating func step(_ rng: inout SplitMix64) {
        wall += UInt64.random(in: 0...2, using: &rng)
        let i = Int.random(in: 0..<sites.count, using: &rng)
        if Int.random(in: 0..<10, using: &rng) < 6 {
            write(at: i, &rng)
        } else {
            var j = Int.random(in: 0..<sites.count, using: &rng)
            if j == i { j = (j + 1) % sites.count }
            _ = sync(from: j, to: i)
        }
    }

    /// A local write at site `i`: an insert when the site does not see the row live, else an update or a delete.
    mutating func write(at i: Int, _ rng: inout SplitMix64) {
        var site = sites[i]
        // A wall clock that sometimes steps back: the hybrid clock must absorb it.
        let reading = Int64(wall) + site.skew - (Int.random(in: 0..<8, using: &rng) == 0 ? 5 : 0)
        let clock = try! site.clock.tick(wallMilliseconds: UInt64(max(0, reading)))
        // Writes to other rows use up counter values too.
        site.counter += UInt64.random(in: 1...3, using: &rng)
        let s = Stamp(clock: clock, site: site.id, counter: site.counter)
        func value() -> SQLValue { RowSimulation.valuePool.randomElement(using: &rng)! }
        if !site.state.isLive {
            site.state.deleted = Register(value: RowState.liveMarker, stamp: s)
            for c in 0..<columnCount { site.state.columns[c] = Register(value: value(), stamp: s) }
        } else if Int.random(in: 0..<5, using: &rng) == 0 {
            site.state.deleted = Register(value: RowState.deletedMarker, stamp: s)
        } else {
            var touched = false
            for c in 0..<columnCount where Bool.random(using: &rng) {
                site.state.columns[c] = Register(value: value(), stamp: s)
                touched = true
            }
            if !touched {
                site.state.columns[Int.random(in: 0..<columnCount, using: &rng)] = Register(value: value(), stamp: s)
            }
        }
        site.state.vector.raise(site.id, to: site.counter)
        sites[i] = site
        snapshots.append(site.state)
    }

    /// Site `to` merges the whole state of site `from`, and observes the clocks it met.
    @discardableResult
    mutating func sync(from j: Int, to i: Int) -> MergeOutcome {
        let incoming = sites[j].state
        let outcome = sites[i].state.merge(incoming)
        for register in [incoming.deleted] + incoming.columns {
            if let register { sites[i].clock.observe(register.stamp.clock) }
        }
        snapshots.append(sites[i].state)
        return outcome
    }

    /// A random state some site held at some point.
    func randomSnapshot(_ rng: inout SplitMix64) -> RowState { snapshots.randomElement(using: &rng)! }

    /// A simulation run for a random number of steps.
    static func random(seed: UInt64, sites: [String] = ["a", "b", "c"], columnCount: Int = 3, steps: ClosedRange<Int> = 1...30) -> (RowSimulation, SplitMix64) {
        var rng = SplitMix64(seed: seed)
        var simulation = RowSimulation(siteIDs: sites, columnCount: columnCount, rng: &rng)
        for _ in 0..<Int.random(in: steps, using: &rng) { simulation.step(&rng) }
        return (simulation, rng)
    }
}

/// Merges `b` into a copy of `a`.
func merged(_ a: RowState, _ b: RowState) -> RowState {
    var x = a
    _ = x.merge(b)
    return x
}
