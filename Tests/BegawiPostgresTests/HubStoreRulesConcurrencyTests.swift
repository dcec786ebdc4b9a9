import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// Under the rules, two hub processes (two store instances on one database) take pushes at once:
/// sites enroll, move and end enrollments of each other's participants, each site through the
/// process it is given, while the others do the same. Afterwards, and after every site's rounds,
/// no site holds a row it may not see, and once all are synced each holds every row it may.
@Suite(.blocking) struct HubStoreRulesConcurrencyTests {
    /// `@unchecked Sendable`: each thread touches only its own site's replica and the stores, which
    /// are safe to share.
    final class Run: @unchecked Sendable {
        let h: RulesHarness
        let stores: [any RulesHubStore]
        init(h: RulesHarness, stores: [any RulesHubStore]) {
            self.h = h
            self.stores = stores
        }
    }

    @Test(arguments: StoreKind.available)
    func twoProcessesPushingAtOnceLeakNoRow(kind: StoreKind) throws {
        let sites = ["lpk-a", "lpk-b", "lpk-c", "lpk-d"]
        let h = try RulesHarness.withPartners(kind, [("disnaker", .office)] + sites.map { ($0, SiteKind.lpk) })
        var people: [String: [String]] = [:]
        for (n, site) in sites.enumerated() {
            try h.staff(site, "INSERT INTO programs(id, provider, title) VALUES (?, ?, 'Las')", ["prog-\(site)", site])
            people[site] = try (0..<6).map { try h.register(site, Person.make(100 * (n + 1) + $0)) }
        }
        try h.syncAll()
        let run = Run(h: h, stores: [h.store, try h.another()])
        let failures = Shared<[String]>([])
        let everyone = people
        concurrently(sites.enumerated().map { n, site in
            { @Sendable in
                var generator = SplitMix64(seed: UInt64(n + 1))
                let others = everyone.filter { $0.key != site }.flatMap(\.value).sorted()
                for round in 0..<8 {
                    do {
                        // Enroll another site's person, move an earlier enrollment, end another.
                        let person = others[Int(generator.next() % UInt64(others.count))]
                        try run.h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')",
                                        ["enr-\(site)-\(round)", person, "prog-\(site)"])
                        if round >= 2 {
                            let moved = others[Int(generator.next() % UInt64(others.count))]
                            try run.h.staff(site, "UPDATE enrollments SET participant_id = ? WHERE id = ?", [moved, "enr-\(site)-\(round - 2)"])
                        }
                        if round >= 4, generator.next() % 2 == 0 {
                            try run.h.staff(site, "DELETE FROM enrollments WHERE id = ?", ["enr-\(site)-\(round - 4)"])
                        }
                        let exchange = try run.h.sync(site, through: run.stores[(n + round) % 2])
                        if !exchange.refused.isEmpty { failures.with { $0.append("\(site) round \(round): refused \(exchange.refused.map(\.reason.code))") } }
                    } catch {
                        failures.with { $0.append("\(site) round \(round): \(error)") }
                    }
                }
            }
        })
        #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")
        // Quiet: every site syncs until nothing moves; then each holds exactly what it may see.
        try h.syncAll(rounds: 2)
        let (leaked, missing) = try h.sightProblems()
        #expect(leaked.isEmpty, "\(leaked)")
        #expect(missing.isEmpty, "\(missing)")
        // Sites hold participants of others through their enrollments (the test exercises sight).
        let held = try sites.reduce(0) { $0 + (try h.siteRows($1, "participants").count) }
        #expect(held > sites.count * 6)
    }

    /// The narrowest race of sight: a site's last two links to a person end in two pushes of two
    /// sites at once (the site ends one enrollment, the office the other), through two processes.
    /// Each push sees the other's link still live, so, unless pushes under the rules take turns,
    /// neither revokes the site's sight and it keeps the person for good. Repeated for many people
    /// per push, a few times.
    @Test(arguments: StoreKind.available)
    func twoSitesEndingTheLastLinksAtOnceLeaveNoSight(kind: StoreKind) throws {
        let h = try RulesHarness.withPartners(kind, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.syncAll()
        let run = Run(h: h, stores: [h.store, try h.another()])
        for round in 0..<3 {
            let people = try (0..<30).map { try h.register("lpk-b", Person.make(1_000 * (round + 1) + $0)) }
            try h.sync("lpk-b")
            for (i, person) in people.enumerated() {
                for n in 1...2 {
                    try h.staff("lpk-a", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-a', 'registered')",
                                ["enr-\(round)-\(i)-\(n)", person])
                }
            }
            try h.syncAll()
            #expect(try h.siteStateKeys("lpk-a", "participants").isSuperset(of: people))
            try h.staff("lpk-a", "DELETE FROM enrollments WHERE id LIKE ?", ["enr-\(round)-%-1"])
            try h.staff("disnaker", "DELETE FROM enrollments WHERE id LIKE ?", ["enr-\(round)-%-2"])
            let failures = Shared<[String]>([])
            concurrently([("lpk-a", 0), ("disnaker", 1)].map { site, process in
                { @Sendable in
                    do {
                        let exchange = try run.h.sync(site, through: run.stores[process])
                        if !exchange.refused.isEmpty { failures.with { $0.append("\(site): refused \(exchange.refused.map(\.reason.code))") } }
                    } catch {
                        failures.with { $0.append("\(site): \(error)") }
                    }
                }
            })
            #expect(failures.with { $0 }.isEmpty, "\(failures.with { $0 })")
            try h.syncAll()
            #expect(try h.hubRows("enrollments").isEmpty)
            let (leaked, missing) = try h.sightProblems()
            #expect(leaked.isEmpty, "round \(round): \(leaked.count) rows leaked, first \(leaked.prefix(3))")
            #expect(missing.isEmpty, "\(missing)")
        }
    }
}
