import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import Testing

/// Seeded randomized runs: four replicas write, and exchange batches that the network drops,
/// duplicates and reorders; afterwards every replica holds the same rows and every overwritten
/// concurrent write is in a ledger.
///
/// `BEGAWI_SIM_SEEDS=100000` runs more seeds; `BEGAWI_SIM_SEED=N` replays one.
@Suite(.blocking) struct SimulationTests {
    static let chunks = 8
    static var seedCount: Int { Int(ProcessInfo.processInfo.environment["BEGAWI_SIM_SEEDS"] ?? "") ?? 2000 }

    @Test(arguments: 0..<chunks)
    func randomizedExchangeConverges(chunk: Int) throws {
        if let one = ProcessInfo.processInfo.environment["BEGAWI_SIM_SEED"].flatMap(UInt64.init) {
            if chunk == 0 { try Simulation(seed: one).run() }
            return
        }
        var totals = Simulation.Totals()
        for seed in stride(from: chunk, to: Self.seedCount, by: Self.chunks) {
            do {
                let simulation = try Simulation(seed: UInt64(seed))
                try simulation.run()
                totals.add(simulation.totals)
            } catch {
                Issue.record("simulation failed at seed \(seed): \(error)\nreplay: BEGAWI_SIM_SEED=\(seed) swift test --filter SimulationTests")
                return
            }
        }
        // The runs must exercise what they check: conflicts, deletes, and a network that misbehaves.
        if Self.seedCount / Self.chunks >= 50 {
            #expect(totals.conflicts > 0 && totals.deleteConflicts > 0 && totals.deletes > 0)
            #expect(totals.dropped > 0 && totals.duplicated > 0 && totals.outOfOrder > 0)
        }
    }
}

struct SimulationFailure: Error, CustomStringConvertible {
    let description: String
}

/// Replica files made once per test process and copied for each seed: creating them is the slow part.
enum ReplicaTemplates {
    static let sites = ["s0", "s1", "s2", "s3"]
    static let folder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = base + "/begawi-sim-templates-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for site in sites {
            let replica = try! Replica.create(at: path + "/\(site).sqlite", siteID: site, schema: testSchema)
            try! replica.close()
        }
        return path
    }()
}

final class Simulation {
    /// What a run exercised, so that a suite of runs can check it tested something.
    struct Totals {
        var conflicts = 0, deleteConflicts = 0, deletes = 0, dropped = 0, duplicated = 0, refused = 0, outOfOrder = 0
        mutating func add(_ o: Totals) {
            conflicts += o.conflicts
            deleteConflicts += o.deleteConflicts
            deletes += o.deletes
            dropped += o.dropped
            duplicated += o.duplicated
            refused += o.refused
            outOfOrder += o.outOfOrder
        }
    }

    struct Dot: Hashable { let site: Int; let counter: UInt64 }
    struct Write {
        let dot: Dot
        let key: String
        let columns: [Int: String]
        let isDelete: Bool
        let context: Set<Dot>
    }
    struct InFlight {
        let source: Int
        let target: Int
        let bytes: [UInt8]
        let knowledge: [String: Set<Dot>]
    }

    let seed: UInt64
    var rng: SplitMix64
    let folder: TemporaryFolder
    var replicas: [Replica] = []
    var apps: [StaffApp] = []
    var time: UInt64 = 1_780_000_000_000
    var skew: [Int64] = []
    var counters = [UInt64](repeating: 0, count: 4)
    var knowledge = [[String: Set<Dot>]](repeating: [:], count: 4)
    var writes: [Dot: Write] = [:]
    var network: [InFlight] = []
    var totals = Totals()
    let keys = ["r0", "r1", "r2", "r3", "r4", "r5"]

    init(seed: UInt64) throws {
        self.seed = seed
        rng = SplitMix64(seed: seed)
        folder = TemporaryFolder("begawi-sim")
        for site in ReplicaTemplates.sites {
            let path = folder.file("\(site).sqlite")
            try FileManager.default.copyItem(atPath: ReplicaTemplates.folder + "/\(site).sqlite", toPath: path)
            replicas.append(try Replica.open(at: path))
            apps.append(try StaffApp(path: path))
        }
        // Clocks disagree: most by up to two seconds, sometimes one site by an hour.
        skew = (0..<4).map { _ in Int64.random(in: -2000...2000, using: &rng) }
        if Int.random(in: 0..<4, using: &rng) == 0 { skew[Int.random(in: 0..<4, using: &rng)] += 3_600_000 }
    }

    func fail(_ message: String) -> SimulationFailure { SimulationFailure(description: message) }

    func run() throws {
        let steps = Int.random(in: 20...60, using: &rng)
        for _ in 0..<steps {
            time += UInt64.random(in: 0...40, using: &rng)
            let r = Double.random(in: 0..<1, using: &rng)
            if r < 0.45 {
                try localWrite(at: Int.random(in: 0..<4, using: &rng))
            } else if r < 0.75 {
                let p = Int.random(in: 0..<4, using: &rng)
                var q = Int.random(in: 0..<3, using: &rng)
                if q >= p { q += 1 }
                try export(from: p, to: q, maxRows: Int.random(in: 1...4, using: &rng))
            } else if !network.isEmpty {
                let i = Int.random(in: 0..<network.count, using: &rng)
                let fate = Int.random(in: 0..<10, using: &rng)
                let message = network[i]
                if fate < 2 {
                    network.remove(at: i) // dropped
                    totals.dropped += 1
                } else if fate < 4 {
                    try deliver(message) // duplicated: delivered now and again later
                    totals.duplicated += 1
                } else {
                    network.remove(at: i)
                    try deliver(message)
                }
            }
        }
        // Then the network heals: every pair syncs until nothing is left to send.
        for _ in 0..<2 {
            for p in 0..<4 {
                for q in 0..<4 where p != q {
                    var rounds = 0
                    while true {
                        let batch = try export(from: p, to: q, maxRows: 7, queue: false)
                        try deliver(batch)
                        rounds += 1
                        if try BatchCodec.decode(batch.bytes).complete { break }
                        guard rounds < 1000 else { throw fail("sync from s\(p) to s\(q) does not finish") }
                    }
                }
            }
        }
        try verify()
        for r in replicas { try r.close() }
    }

    func value(_ dot: Dot, _ column: Int) -> String { "s\(dot.site)w\(dot.counter)c\(column)" }

    func localWrite(at i: Int) throws {
        let visible = Set(try replicas[i].rows(of: "t").keys)
        let wall = UInt64(Int64(time) + skew[i])
        let dot = Dot(site: i, counter: counters[i] + 1)
        let context = knowledge[i]
        var columns: [Int: String] = [:]
        var isDelete = false
        let key: String
        let absent = keys.filter { !visible.contains($0) }
        if visible.isEmpty || (!absent.isEmpty && Int.random(in: 0..<10, using: &rng) < 3) {
            guard let k = absent.randomElement(using: &rng) else { return }
            key = k
            for c in 0..<3 { columns[c] = value(dot, c) }
            try apps[i].execute("INSERT INTO t (id, a, b, c) VALUES (?, ?, ?, ?)", [key, columns[0], columns[1], columns[2]])
        } else {
            key = visible.sorted().randomElement(using: &rng)!
            if Int.random(in: 0..<10, using: &rng) < 3 {
                isDelete = true
                totals.deletes += 1
                try apps[i].execute("DELETE FROM t WHERE id = ?", [key])
            } else {
                var chosen = (0..<3).filter { _ in Bool.random(using: &rng) }
                if chosen.isEmpty { chosen = [Int.random(in: 0..<3, using: &rng)] }
                for c in chosen { columns[c] = value(dot, c) }
                let names = ["a", "b", "c"]
                try apps[i].execute("UPDATE t SET " + chosen.map { "\(names[$0]) = ?" }.joined(separator: ", ") + " WHERE id = ?",
                                    .init(chosen.map { columns[$0]! } + [key]))
            }
        }
        let captured = try replicas[i].captureLocalChanges(clock: .wall(wall))
        guard captured == 1 else { throw fail("one write at s\(i) was captured \(captured) times") }
        counters[i] += 1
        writes[dot] = Write(dot: dot, key: key, columns: columns, isDelete: isDelete, context: context[key] ?? [])
        knowledge[i][key, default: []].insert(dot)
    }

    @discardableResult
    func export(from p: Int, to q: Int, maxRows: Int, queue: Bool = true) throws -> InFlight {
        let cursor = try replicas[q].cursor(for: replicas[p].replicaID)
        let (batch, bytes) = try replicas[p].exportEncoded(after: cursor, for: replicas[q].replicaID, limits: BatchLimits(maxRows: maxRows))
        var sent: [String: Set<Dot>] = [:]
        for row in batch.rows { sent[row.key] = knowledge[p][row.key] ?? [] }
        let message = InFlight(source: p, target: q, bytes: bytes, knowledge: sent)
        if queue { network.append(message) }
        return message
    }

    func deliver(_ message: InFlight) throws {
        do {
            // A batch that does not continue the cursor is merged but moves nothing.
            if try !replicas[message.target].apply(encoded: message.bytes).advancedCursor { totals.outOfOrder += 1 }
        } catch let error as BegawiError where error.code == .outOfOrder {
            totals.refused += 1
            return // refused whole: its rows could be incomplete here; it will be exported again
        }
        for (key, dots) in message.knowledge { knowledge[message.target][key, default: []].formUnion(dots) }
    }

    func siteIndex(_ site: String) throws -> Int {
        guard let i = ReplicaTemplates.sites.firstIndex(of: site) else { throw fail("unknown site \(site)") }
        return i
    }

    func verify() throws {
        let reference = try replicas[0].rows(of: "t")
        let states = try replicas[0].rowStates(of: "t")
        for i in 1..<4 {
            guard try replicas[i].rows(of: "t") == reference else { throw fail("s\(i) holds other rows than s0") }
            guard try replicas[i].rowStates(of: "t") == states else { throw fail("s\(i) holds other merge state than s0") }
        }
        var ledger: [String: Set<[String]>] = [:] // "key/col/site/counter" → winner kinds
        var entries: [ConflictLedgerEntry] = []
        for r in replicas { entries += try r.conflicts() }
        for e in entries {
            let loser = Dot(site: try siteIndex(e.loser.site), counter: e.loser.counter)
            let winner = Dot(site: try siteIndex(e.winner.site), counter: e.winner.counter)
            guard let l = writes[loser], let w = writes[winner] else { throw fail("a ledger entry names a write that never happened") }
            let column = ["a", "b", "c"].firstIndex(of: e.column)!
            guard e.loserValue == .text(value(loser, column)), l.key == e.key else { throw fail("a ledger entry's losing value is not its write's") }
            guard !l.context.contains(winner), !w.context.contains(loser), loser != winner else {
                throw fail("the ledger records \(e.key).\(e.column) of \(loser) losing to \(winner), but they were not concurrent")
            }
            guard e.winnerIsDelete == w.isDelete else { throw fail("a ledger entry's winner kind is wrong") }
            ledger["\(e.key)/\(column)/\(loser.site)/\(loser.counter)", default: []].insert([e.winnerIsDelete ? "delete" : "write"])
            if e.winnerIsDelete { totals.deleteConflicts += 1 } else { totals.conflicts += 1 }
        }
        for key in keys {
            let rowWrites = writes.values.filter { $0.key == key }
            guard !rowWrites.isEmpty else { continue }
            guard let state = states[key] else { throw fail("row \(key) was written but has no merge state") }
            for column in 0..<3 {
                let written = rowWrites.filter { $0.columns[column] != nil }
                let heads = written.filter { w in !written.contains { $0.context.contains(w.dot) } }
                guard let final = state.columns[column] else { continue }
                let f = Dot(site: try siteIndex(final.stamp.site), counter: final.stamp.counter)
                guard heads.contains(where: { $0.dot == f }) else { throw fail("\(key) column \(column): the final write is not a head") }
                for h in heads where h.dot != f && h.columns[column] != writes[f]!.columns[column] {
                    guard ledger["\(key)/\(column)/\(h.dot.site)/\(h.dot.counter)"] != nil else {
                        throw fail("\(key) column \(column): \(h.dot) lost to the concurrent \(f) but no ledger has it")
                    }
                }
                if let deleted = state.deleted, deleted.value == RowState.deletedMarker {
                    let d = Dot(site: try siteIndex(deleted.stamp.site), counter: deleted.stamp.counter)
                    let fw = writes[f]!, dw = writes[d]!
                    if !fw.context.contains(d), !dw.context.contains(f) {
                        guard ledger["\(key)/\(column)/\(f.site)/\(f.counter)"]?.contains(["delete"]) == true else {
                            throw fail("\(key) column \(column): \(f) was concurrent with the winning delete \(d) but no ledger has it")
                        }
                    }
                }
            }
        }
    }
}
