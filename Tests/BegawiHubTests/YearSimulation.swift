import BegawiCore
import BegawiHub
import BegawiReplica
import BegawiRules
import Foundation
import GRDB

/// A year of Bontang's traffic, in process: the hub and 28 sites (10 LPKs, the BLKI, 5 BPLK, 11
/// companies, the office) on real SQLite files, exchanging as the routes do (`HubHarness`), on a
/// simulated clock. Each workday every site writes a fifth of its week's work and syncs; the hub's
/// housekeeping pass (`SQLiteHubStore.housekeep`) runs at each simulated day's end if asked.
final class YearSimulation {
    /// Work per site and week (the training sites register people and move enrollments; the companies
    /// place them; the office verifies).
    struct Load {
        var registrations = 50
        var statusChanges = 200
        var deletes = 20
    }

    static let kinds: [(prefix: String, kind: SiteKind, count: Int)] = [
        ("lpk", .lpk, 10), ("blki", .blki, 1), ("bplk", .bplk, 5), ("pt", .company, 11), ("disnaker", .office, 1),
    ]
    static let day: UInt64 = 86_400_000
    static let statuses = ["registered", "active", "completed", "certified", "dropped"]

    let h: HubHarness
    let clock: SimulatedClock
    let load: Load
    let housekeeping: Bool
    /// The hub's retention settings for its housekeeping pass.
    let retention: HubRetention
    var random = SystemRandomNumberGenerator()
    private(set) var sites: [(id: String, kind: SiteKind)] = []
    private var serial = 0
    /// Per training site: its live participants nobody placed (the oldest first; only these leave),
    /// and those placed.
    private(set) var unplaced: [String: [String]] = [:]
    private(set) var placed: [String: [String]] = [:]
    private var enrollmentOf: [String: String] = [:]
    private var placements: [String: [String]] = [:]
    private var nextSource = 0
    private(set) var housekept: [String: Int] = [:]

    /// The live participants the simulation expects at the hub.
    var liveParticipants: Set<String> { Set(unplaced.values.joined()).union(placed.values.joined()) }

    init(load: Load, housekeeping: Bool, retention: HubRetention = HubRetention()) throws {
        // 2026-01-05, a Monday.
        clock = SimulatedClock(start: 1_767_571_200_000)
        h = try HubHarness(clock: clock)
        self.load = load
        self.housekeeping = housekeeping
        self.retention = retention
        for (prefix, kind, count) in YearSimulation.kinds {
            for i in 1...count {
                let id = count == 1 ? prefix : "\(prefix)-\(i)"
                try h.addSite(id, kind: kind)
                sites.append((id, kind))
                if kind != .company && kind != .office {
                    try h.staff(id, "INSERT INTO programs(id, provider, title) VALUES (?, ?, 'Program')", ["prog-\(id)", id])
                }
            }
        }
        try h.syncAll(rounds: 1)
    }

    /// Runs `weeks` weeks of five workdays and a weekend.
    func run(weeks: Int) throws {
        for _ in 0..<weeks {
            for day in 0..<7 {
                if day < 5 {
                    for site in sites { try work(site.id, site.kind) }
                    for site in sites {
                        // A real round opens with a session, which records the site's contact and
                        // replica: the horizon counts a site's acknowledged pulls by that replica.
                        let replica = h.site(site.id).replica.replicaID
                        try h.store.noteSession(site: site.id, replica: replica, report: SiteReport())
                        let exchange = try h.sync(site.id, purge: housekeeping)
                        if exchange.purged > 0 { housekept["site tombstones", default: 0] += exchange.purged }
                    }
                }
                clock.advance(milliseconds: YearSimulation.day)
                if housekeeping {
                    let done = try h.store.housekeep(now: clock.nowMilliseconds(), retention: retention)
                    housekept.merge(done) { $0 + $1 }
                    for site in sites { try siteHousekeeping(site.id) }
                }
            }
        }
    }

    /// A site's housekeeping pass as `SiteHousekeeping` makes it (its steps run here back to back):
    /// handled ledger entries older than the ledger retention, free pages, the log.
    func siteHousekeeping(_ id: String) throws {
        let replica = h.site(id).replica
        let now = clock.nowMilliseconds(), span = UInt64(retention.ledgerRetentionDays) * YearSimulation.day
        var after: Int64 = 0
        while true {
            let step = try replica.clearHandledLedgers(before: now > span ? now - span : 0, keeping: [], afterRefusal: after, limit: 200)
            housekept["site ledger entries", default: 0] += step.conflicts + step.refusals
            guard step.more else { break }
            if let last = step.lastRefusal { after = last }
        }
        while try replica.vacuumStep(pages: 64) == 64 {}
        try replica.truncateLog(waitMilliseconds: 20)
    }

    /// A fifth of a site's week, as its staff application writes it (one transaction).
    func work(_ id: String, _ kind: SiteKind) throws {
        let share = { (n: Int) in n / 5 }
        let queue = try DatabaseQueue(path: h.folder.file("\(id).sqlite"))
        defer { try? queue.close() }
        try queue.write { db in
            switch kind {
            case .office:
                let everyone = Array(liveParticipants)
                for _ in 0..<share(load.statusChanges) {
                    guard let key = everyone.randomElement(using: &random) else { break }
                    try db.execute(sql: "UPDATE participants SET verified_on = date(?, 'unixepoch') WHERE id = ?",
                                   arguments: [clock.nowMilliseconds() / 1000, key])
                }
            case .company:
                // People registered at the training sites, in turn (synced before the companies each day).
                let sources = unplaced.keys.sorted()
                for _ in 0..<share(load.registrations) {
                    nextSource += 1
                    let source = sources[nextSource % sources.count]
                    guard let key = unplaced[source]?.popLast() else { continue }
                    placed[source, default: []].append(key)
                    serial += 1
                    try db.execute(sql: "INSERT INTO placements(id, participant_id, company, position, kind) VALUES (?, ?, ?, 'Operator', 'employment')",
                                   arguments: ["plc-\(serial)", key, id])
                    placements[id, default: []].append("plc-\(serial)")
                }
                for _ in 0..<share(load.statusChanges) {
                    guard let pid = placements[id]?.randomElement(using: &random) else { break }
                    serial += 1
                    try db.execute(sql: "UPDATE placements SET position = ? WHERE id = ?", arguments: ["Operator \(serial % 97)", pid])
                }
                for _ in 0..<share(load.deletes) {
                    guard let pid = placements[id]?.first else { break }
                    placements[id]?.removeFirst()
                    try db.execute(sql: "DELETE FROM placements WHERE id = ?", arguments: [pid])
                }
            default:
                for _ in 0..<share(load.registrations) {
                    serial += 1
                    let p = Person.make(serial)
                    let key = p.key(h.policy)
                    try db.execute(sql: "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, '0811-5400-000', ?)",
                                   arguments: [key, p.nik, p.name, p.birth, id])
                    try db.execute(sql: "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')",
                                   arguments: ["enr-\(serial)", key, "prog-\(id)"])
                    enrollmentOf[key] = "enr-\(serial)"
                    unplaced[id, default: []].append(key)
                }
                let own = (unplaced[id] ?? []) + (placed[id] ?? [])
                for _ in 0..<share(load.statusChanges) {
                    guard let key = own.randomElement(using: &random), let enrollment = enrollmentOf[key] else { break }
                    try db.execute(sql: "UPDATE enrollments SET status = ? WHERE id = ?",
                                   arguments: [YearSimulation.statuses.randomElement(using: &random)!, enrollment])
                }
                // The oldest unplaced registrations leave: the enrollment, then the person.
                for key in (unplaced[id] ?? []).prefix(share(load.deletes)) {
                    try db.execute(sql: "DELETE FROM enrollments WHERE id = ?", arguments: [enrollmentOf[key]!])
                    try db.execute(sql: "DELETE FROM participants WHERE id = ?", arguments: [key])
                    enrollmentOf[key] = nil
                }
                let leaving = min(share(load.deletes), unplaced[id]?.count ?? 0)
                unplaced[id]?.removeFirst(leaving)
            }
        }
    }
}
