import BegawiCore
import BegawiReplica
import BegawiTestSupport
import Foundation
import GRDB
import Testing

/// SIGKILL of the site, and of the hub, at random moments of `begawi site sync`, with staff editing
/// between and during the kills; at the end every replica equals the hub, and the hub holds exactly
/// what the staff wrote: nothing acknowledged was lost, nothing was applied twice.
///
/// Seeded: the seed is printed; `BEGAWI_CRASH_SEED=N` replays the same choices (sites, edits,
/// delays; the moment a delay lands in a sync still depends on the machine's speed).
/// `BEGAWI_CRASH_POINTS` (default 32) is the number of kills that hit a running process, split
/// between the two tests; `BEGAWI_CRASH_MAX_DELAY_MS` (default 3000) bounds the delay before a kill.
@Suite(.blocking) struct CrashTests {
    static let sites = ["lpk-a", "lpk-b", "blki"]
    static let rowsPerSite = 2000

    /// One seed for the suite, so that the printed one replays both tests.
    static let seed: UInt64 = {
        if let text = ProcessInfo.processInfo.environment["BEGAWI_CRASH_SEED"], let value = UInt64(text) { return value }
        return UInt64.random(in: 1...UInt64(UInt32.max))
    }()

    static var points: Int {
        ProcessInfo.processInfo.environment["BEGAWI_CRASH_POINTS"].flatMap { Int($0) }.map { max(2, $0) } ?? 32
    }

    static var maxDelay: Double {
        Double(ProcessInfo.processInfo.environment["BEGAWI_CRASH_MAX_DELAY_MS"].flatMap { Int($0) } ?? 3000) / 1000
    }

    /// A hub and three sites with a few thousand unsynced rows each, small batches and pages.
    static func makeCluster(_ label: String, store: ClusterStore) throws -> (Cluster, OwnedRows) {
        let cluster = try Cluster(label: label, hubExtra: "page_rows = 50", store: store)
        try cluster.startHub()
        for s in sites { try cluster.addSite(s, kind: s == "blki" ? "blki" : "lpk", extra: "batch_rows = 50") }
        let model = OwnedRows(cluster: cluster)
        for s in sites { try model.insert(s, count: rowsPerSite) }
        return (cluster, model)
    }

    @Test(arguments: ClusterStore.available) func siteKilledAtRandomPointsOfSync(store: ClusterStore) throws {
        let seed = CrashTests.seed
        let target = (CrashTests.points + 1) / 2
        print("CrashTests.siteKilledAtRandomPointsOfSync: seed \(seed), \(target) kills (replay: BEGAWI_CRASH_SEED=\(seed))")
        var rng = SplitMix64(seed: seed)
        let (cluster, model) = try CrashTests.makeCluster("crash-site", store: store)
        var kills = 0, missed = 0, iterations = 0
        var phases: [String: Int] = [:]
        var timing = KillTiming(cap: CrashTests.maxDelay)
        let start = Date()
        while kills < target, iterations < target * 4 {
            iterations += 1
            let site = CrashTests.sites.randomElement(using: &rng)!
            if Int.random(in: 0..<10, using: &rng) < 7 { try model.edit(site, rng: &rng) }
            let delay = timing.delay(using: &rng)
            // Staff keep working while the sync runs: at this site or another.
            let concurrent = Int.random(in: 0..<10, using: &rng) < 4 ? CrashTests.sites.randomElement(using: &rng) : nil
            let before = try CrashTests.progress(cluster, site)
            let run = try cluster.startSync(site)
            if let concurrent { try model.edit(concurrent, rng: &rng) }
            let remaining = delay - run.elapsed
            if remaining > 0 { Thread.sleep(forTimeInterval: remaining) }
            if run.killNow() {
                kills += 1
                timing.killed()
                phases[CrashTests.phase(before, try CrashTests.progress(cluster, site)), default: 0] += 1
            } else {
                missed += 1
                timing.finished(after: run.elapsed)
                // A round that ran to its end must have succeeded (2: writes arrived during the round).
                let status = run.process.terminationStatus
                #expect(status == 0 || status == 2, "seed \(seed): an unkilled sync of \(site) failed after earlier kills:\n\(run.output)")
            }
        }
        print("CrashTests.siteKilledAtRandomPointsOfSync: \(kills) kills (by phase of the round: \(phases.sorted { $0.key < $1.key })), \(missed) syncs ended before their kill, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        #expect(kills >= target, "seed \(seed): only \(kills) of \(target) kills landed in a running sync; raise BEGAWI_CRASH_MAX_DELAY_MS or the data")
        try CrashTests.settleAndVerify(cluster, model, seed: seed)
    }

    @Test(arguments: ClusterStore.available) func hubKilledAtRandomPointsOfSync(store: ClusterStore) throws {
        let seed = CrashTests.seed
        let target = CrashTests.points / 2
        print("CrashTests.hubKilledAtRandomPointsOfSync: seed \(seed), \(target) kills (replay: BEGAWI_CRASH_SEED=\(seed))")
        var rng = SplitMix64(seed: seed ^ 0x5EED_0F_4B)
        let (cluster, model) = try CrashTests.makeCluster("crash-hub", store: store)
        var kills = 0, missed = 0, iterations = 0
        var phases: [String: Int] = [:]
        var timing = KillTiming(cap: CrashTests.maxDelay)
        let start = Date()
        while kills < target, iterations < target * 4 {
            iterations += 1
            // One or two sites sync at once, so that the hub may die with two pushes in flight.
            var syncing = [CrashTests.sites.randomElement(using: &rng)!]
            if Bool.random(using: &rng), let other = CrashTests.sites.filter({ $0 != syncing[0] }).randomElement(using: &rng) { syncing.append(other) }
            for s in syncing where Int.random(in: 0..<10, using: &rng) < 7 { try model.edit(s, rng: &rng) }
            let delay = timing.delay(using: &rng)
            let before = try CrashTests.progress(cluster, syncing[0])
            let runs = try syncing.map { try cluster.startSync($0) }
            let remaining = delay - runs[0].elapsed
            if remaining > 0 { Thread.sleep(forTimeInterval: remaining) }
            let running = runs.contains { $0.isRunning }
            cluster.stopHub(signal: SIGKILL)
            if running {
                kills += 1
                timing.killed()
                for run in runs { _ = run.wait(timeout: 30) }
                phases[CrashTests.phase(before, try CrashTests.progress(cluster, syncing[0])), default: 0] += 1
            } else {
                missed += 1
                timing.finished(after: runs.map { $0.elapsed }.max() ?? 0)
            }
            // Staff keep working while the hub is down.
            if Int.random(in: 0..<10, using: &rng) < 4 { try model.edit(CrashTests.sites.randomElement(using: &rng)!, rng: &rng) }
            for (site, run) in zip(syncing, runs) {
                // With the hub gone, a sync must give up promptly (connection refused or reset).
                guard let status = run.wait(timeout: 30) else {
                    Issue.record("seed \(seed): begawi site sync for \(site) still ran 30 s after the hub was killed:\n\(run.output)")
                    run.killNow()
                    continue
                }
                if status != 0, status != 2, !run.output.contains("the hub at") {
                    Issue.record("seed \(seed): a sync of \(site) failed for a reason other than the lost hub:\n\(run.output)")
                }
            }
            try cluster.startHub()
        }
        print("CrashTests.hubKilledAtRandomPointsOfSync: \(kills) kills (by phase of the first round: \(phases.sorted { $0.key < $1.key })), \(missed) kills after the syncs ended, \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        #expect(kills >= target, "seed \(seed): only \(kills) of \(target) hub kills landed during a sync; raise BEGAWI_CRASH_MAX_DELAY_MS or the data")
        try CrashTests.settleAndVerify(cluster, model, seed: seed)
    }

    /// The keys of participants that have a merge record in a replica (the hub's is "hub"): on
    /// PostgreSQL the hub's `_begawi_rows` names the table, in a SQLite replica a number does.
    static func mergeKeys(_ cluster: Cluster, _ replica: String) throws -> [String] {
        if replica == "hub", cluster.postgres != nil {
            return try cluster.query("hub", "SELECT key FROM _begawi_rows WHERE tbl = 'participants' AND state IS NOT NULL").map { $0[0] }
        }
        let table = try cluster.query(replica, "SELECT id FROM _begawi_tables WHERE name = 'participants'")[0][0]
        return try cluster.query(replica, "SELECT key FROM _begawi_rows WHERE tbl = ?", StatementArguments([Int(table) ?? -1])).map { $0[0] }
    }

    /// How far a site's exchange got: the hub's push cursor for it and its pull cursor for the hub.
    static func progress(_ cluster: Cluster, _ site: String) throws -> (push: Int, pull: Int) {
        let epoch = try cluster.replicaID("hub")
        let pull = try cluster.query(site, "SELECT position FROM _begawi_cursors WHERE source = ?", [epoch]).first?.first
        return (try cluster.hubCursor(for: site).seq, Int(pull ?? "0") ?? 0)
    }

    /// Where in the round a kill landed, judged by which cursors moved: "pull" (the push had
    /// finished), "push", or "session" (before the first acknowledged batch).
    static func phase(_ before: (push: Int, pull: Int), _ after: (push: Int, pull: Int)) -> String {
        after.pull > before.pull ? "pull" : after.push > before.push ? "push" : "session/first batch"
    }

    /// Syncs every site to quiescence, then checks every replica against the model.
    static func settleAndVerify(_ cluster: Cluster, _ model: OwnedRows, seed: UInt64) throws {
        if cluster.hub?.isRunning != true { try cluster.startHub() }
        for _ in 0..<2 { for s in cluster.sites { try cluster.syncUntilDone(s) } }
        // Quiet: a further round moves nothing either way.
        for s in cluster.sites {
            let summary = SyncSummary(try cluster.syncUntilDone(s))
            #expect(summary?.sent == 0 && summary?.received == 0, "seed \(seed): \(s) was not quiet after two full passes: \(String(describing: summary))")
        }

        let expected = model.expectedRows()
        let hub = try model.participants("hub")
        let missing = expected.keys.filter { hub[$0] == nil }.sorted()
        let extra = hub.keys.filter { expected[$0] == nil }.sorted()
        let wrong = expected.keys.filter { hub[$0] != nil && hub[$0] != expected[$0] }.sorted()
        let (lost, unwanted, stale) = (missing.count, extra.count, wrong.count)
        #expect(lost == 0, "seed \(seed): the hub lost \(lost) acknowledged rows, e.g. \(missing.prefix(5))")
        #expect(unwanted == 0, "seed \(seed): the hub holds \(unwanted) rows that should not exist (deleted?), e.g. \(extra.prefix(5))")
        #expect(stale == 0, "seed \(seed): \(stale) rows at the hub hold another value than the last one written, e.g. \(wrong.prefix(3).map { "\($0): hub \(hub[$0]!) expected \(expected[$0]!)" })")
        let (hubCount, modelCount) = (hub.count, model.live.count)
        #expect(hubCount == modelCount, "seed \(seed): the hub has \(hubCount) rows, the model \(modelCount)")

        // A row born and deleted between two of its site's pushes reached no one: a tombstone at its
        // site alone. Every other deleted key is a tombstone everywhere.
        let hubKeys = Set(try CrashTests.mergeKeys(cluster, "hub"))
        let unsent = model.dead.subtracting(hubKeys)
        let acknowledgedLost = unsent.subtracting(model.unpushedAtDelete).sorted()
        let acknowledgedLostCount = acknowledgedLost.count
        #expect(acknowledgedLostCount == 0, "seed \(seed): the hub has no record of \(acknowledgedLostCount) keys deleted after a push could have delivered them, e.g. \(acknowledgedLost.prefix(5))")
        if !unsent.isEmpty { print("CrashTests: seed \(seed): \(unsent.count) rows were born and deleted between two pushes of their site (tombstones there alone)") }
        let spread = model.dead.subtracting(unsent)
        for replica in ["hub"] + cluster.sites {
            let ownUnsent = replica == "hub" ? [] : unsent.filter { $0.hasPrefix(replica + "/") }
            let deadHere = spread.union(ownUnsent)
            if replica != "hub" {
                let rows = try model.participants(replica)
                let (keysDiffer, valuesDiffer) = (Set(rows.keys).symmetricDifference(hub.keys).count, rows.keys.filter { hub[$0] != nil && hub[$0] != rows[$0] }.count)
                #expect(keysDiffer == 0 && valuesDiffer == 0, "seed \(seed): \(replica) differs from the hub in \(keysDiffer) keys and \(valuesDiffer) values")
            }
            let doubled = try cluster.query(replica, "SELECT tbl, key, count(*) FROM _begawi_rows GROUP BY tbl, key HAVING count(*) > 1")
            let doubledCount = doubled.count
            #expect(doubledCount == 0, "seed \(seed): \(replica) holds two merge records for a key: \(doubled.prefix(5))")
            let records = try CrashTests.mergeKeys(cluster, replica).count
            #expect(records == model.live.count + deadHere.count,
                    "seed \(seed): \(replica) has \(records) merge records for participants; \(model.live.count) live and \(deadHere.count) deleted keys were written (\(unsent.count) of \(model.dead.count) deletes never left their sites)")
            let twins = Set(try cluster.query(replica, "SELECT id FROM _begawi_dead_participants").map { $0[0] })
            let twinsDiffer = twins.symmetricDifference(deadHere).sorted()
            let twinsDifferCount = twinsDiffer.count
            #expect(twinsDifferCount == 0, "seed \(seed): \(replica)'s deleted rows differ from the deletes made in \(twinsDifferCount) keys, e.g. \(twinsDiffer.prefix(5))")
            // The hub on PostgreSQL has no outbox: it writes nothing of its own.
            let outbox = replica == "hub" && cluster.postgres != nil ? "0" : try cluster.query(replica, "SELECT count(*) FROM _begawi_outbox")[0][0]
            #expect(outbox == "0", "seed \(seed): \(replica) still has \(outbox) unstamped writes after a quiet round")
            // Each row has one writer: no write is concurrent with another, so the ledger stays empty;
            // an entry here (or the same entry twice) means a change was merged against itself.
            let ledger = try cluster.query(replica, """
                SELECT tbl, key, col, loser_site, loser_counter, winner_site, winner_counter, count(*) FROM _begawi_conflicts
                GROUP BY tbl, key, col, loser_site, loser_counter, winner_site, winner_counter
                """)
            let ledgerCount = ledger.count
            #expect(ledgerCount == 0, "seed \(seed): \(replica)'s ledger has conflicts between writes of one site: \(ledger.prefix(5))")
        }

        // The merge state (vectors and stamps) is the same everywhere: each change was applied once.
        // The PostgreSQL hub's merge state is in its own encoding: there the sites are compared with
        // the first site (those rows came to it through the hub), the hub's values having matched above.
        cluster.stopHub()
        let reference = cluster.postgres == nil ? cluster.path("hub.sqlite") : cluster.replicaPath(cluster.sites[0])
        let hubStates = try Replica.withOpen(reference) { try $0.rowStates(of: "participants") }.filter { !unsent.contains($0.key) }
        for s in cluster.sites {
            let states = try Replica.withOpen(cluster.replicaPath(s)) { try $0.rowStates(of: "participants") }.filter { !unsent.contains($0.key) }
            let differing = hubStates.keys.filter { states[$0] != hubStates[$0] }.sorted()
            let (differingCount, siteCount, hubCount) = (differing.count, states.count, hubStates.count)
            #expect(differingCount == 0 && siteCount == hubCount,
                    "seed \(seed): \(s)'s merge state differs from the hub's for \(differing.count) rows, e.g. \(differing.first.map { "\($0): site \(String(describing: states[$0])) hub \(String(describing: hubStates[$0]))" } ?? "-")")
        }
    }
}

/// When to kill: a seeded fraction of a horizon that follows how long syncs take, so that kills
/// land all through a round (session, push, pull) whether the round is long or short.
struct KillTiming {
    private(set) var horizon = 1.2
    let cap: Double

    init(cap: Double) { self.cap = max(0.2, cap) }

    func delay(using rng: inout SplitMix64) -> Double { Double.random(in: 0...1, using: &rng) * horizon }
    /// The process was still running: look a little later next time.
    mutating func killed() { horizon = min(cap, horizon * 1.25) }
    /// The process ended on its own after `seconds`: that is how long a round takes now.
    mutating func finished(after seconds: Double) { horizon = max(0.2, min(horizon, seconds)) }
}

extension Replica {
    /// Opens a replica file, runs `body`, closes it.
    static func withOpen<T>(_ path: String, _ body: (Replica) throws -> T) throws -> T {
        let replica = try Replica.open(at: path)
        defer { try? replica.close() }
        return try body(replica)
    }
}

/// The participants that the staff wrote, each row written by one site only, so the final value of
/// every row is known exactly. Edits go through `Cluster.staff` and update the model only once the
/// write committed.
final class OwnedRows {
    struct Person: Equatable {
        var nik: String
        var fullName: String
        var phone: String
        var registeredBy: String
    }

    let cluster: Cluster
    private(set) var live: [String: Person] = [:]
    private(set) var dead: Set<String> = []
    /// Deleted keys that no push could have delivered when they were deleted (see `unpushed`).
    private(set) var unpushedAtDelete: Set<String> = []
    private var serial: [String: Int] = [:]
    private var round = 0

    init(cluster: Cluster) { self.cluster = cluster }

    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    func keys(of site: String, in set: some Collection<String>) -> [String] {
        set.filter { $0.hasPrefix(site + "/") }.sorted()
    }

    /// Inserts `count` new rows at `site`, in one transaction.
    func insert(_ site: String, count: Int) throws {
        guard count > 0 else { return }
        var people: [(String, Person)] = []
        for _ in 0..<count {
            let n = serial[site, default: 0]
            serial[site] = n + 1
            let key = "\(site)/\(n)"
            people.append((key, Person(nik: String(format: "6474%012d", n), fullName: "Peserta \(key)", phone: "08\(n)", registeredBy: site)))
        }
        try write(site, people)
    }

    /// Writes whole rows (insert, or re-insert of deleted keys).
    private func write(_ site: String, _ people: [(String, Person)]) throws {
        let values = people.map { key, p in
            "(\(OwnedRows.literal(key)), \(OwnedRows.literal(p.nik)), \(OwnedRows.literal(p.fullName)), \(OwnedRows.literal(p.phone)), \(OwnedRows.literal(p.registeredBy)))"
        }
        try cluster.staff(site, "INSERT INTO participants(id, nik, full_name, phone, registered_by) VALUES " + values.joined(separator: ", "))
        for (key, p) in people {
            live[key] = p
            dead.remove(key)
            unpushedAtDelete.remove(key)
        }
    }

    /// Of `keys`, rows of `site`, those the hub cannot hold yet: still only in the site's outbox, or
    /// born there after the hub's push cursor for the site. Deleted now, such a row is sent to no
    /// one (a row born and deleted between two pushes; `Replica.export`), so it stays a tombstone at
    /// its site alone. A sync running meanwhile may still deliver it: the set may say too much, never
    /// too little (the hub's cursor only grows).
    func unpushed(_ site: String, _ keys: [String]) throws -> Set<String> {
        let cursor = try cluster.hubCursor(for: site).seq
        let table = try cluster.query(site, "SELECT id FROM _begawi_tables WHERE name = 'participants'")[0][0]
        var result: Set<String> = []
        for key in keys {
            let origin = try cluster.query(site, "SELECT origin FROM _begawi_rows WHERE tbl = ? AND key = ?", [Int(table) ?? -1, key]).first?.first
            guard let origin else {
                result.insert(key)
                continue
            }
            if let mark = Int(origin), mark <= -2, -(mark + 2) > cursor { result.insert(key) }
        }
        return result
    }

    /// A random mix of the staff's work at `site`: updates of existing rows (some of them rows
    /// updated before), deletes, new rows, and now and then a deleted row entered again.
    func edit(_ site: String, rng: inout SplitMix64) throws {
        round += 1
        let tag = "r\(round)"
        let own = keys(of: site, in: live.keys)
        if !own.isEmpty {
            let count = Int.random(in: 20...200, using: &rng)
            let chosen = Set((0..<count).map { _ in own.randomElement(using: &rng)! }).sorted()
            let both = Bool.random(using: &rng)
            let list = chosen.map(OwnedRows.literal).joined(separator: ", ")
            let set = both ? "phone = '\(tag)-' || id, full_name = 'Nama \(tag) ' || id" : "phone = '\(tag)-' || id"
            try cluster.staff(site, "UPDATE participants SET \(set) WHERE id IN (\(list))")
            for key in chosen {
                live[key]!.phone = "\(tag)-\(key)"
                if both { live[key]!.fullName = "Nama \(tag) \(key)" }
            }
        }
        let remaining = keys(of: site, in: live.keys)
        if remaining.count > 100, Int.random(in: 0..<10, using: &rng) < 6 {
            let count = Int.random(in: 1...30, using: &rng)
            let chosen = Set((0..<count).map { _ in remaining.randomElement(using: &rng)! }).sorted()
            let unpushed = try unpushed(site, chosen)
            try cluster.staff(site, "DELETE FROM participants WHERE id IN (\(chosen.map(OwnedRows.literal).joined(separator: ", ")))")
            for key in chosen {
                live[key] = nil
                dead.insert(key)
                if unpushed.contains(key) { unpushedAtDelete.insert(key) } else { unpushedAtDelete.remove(key) }
            }
        }
        if Int.random(in: 0..<10, using: &rng) < 5 { try insert(site, count: Int.random(in: 1...150, using: &rng)) }
        let buried = keys(of: site, in: dead)
        if !buried.isEmpty, Int.random(in: 0..<10, using: &rng) < 2 {
            let chosen = Set((0..<Int.random(in: 1...3, using: &rng)).map { _ in buried.randomElement(using: &rng)! }).sorted()
            try write(site, chosen.map { key in (key, Person(nik: "7100\(round)", fullName: "Kembali \(tag) \(key)", phone: "09\(round)", registeredBy: site)) })
        }
    }

    static let columns = ["nik", "full_name", "birth_date", "sex", "phone", "kelurahan", "kecamatan", "education", "registered_by"]

    /// The rows the model expects, as `participants(_:)` reads them.
    func expectedRows() -> [String: [String]] {
        live.mapValues { p in [p.nik, p.fullName, "NULL", "NULL", p.phone, "NULL", "NULL", "NULL", p.registeredBy] }
    }

    /// A replica's participants (the hub's is "hub"): key → values in declared column order, NULL as "NULL".
    func participants(_ replica: String) throws -> [String: [String]] {
        let rows = try cluster.query(replica, "SELECT id, \(OwnedRows.columns.joined(separator: ", ")) FROM participants")
        return Dictionary(uniqueKeysWithValues: rows.map { ($0[0], Array($0.dropFirst())) })
    }
}
