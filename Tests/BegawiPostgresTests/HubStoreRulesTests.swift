import BegawiCore
import BegawiHub
import BegawiPostgres
import BegawiReplica
import BegawiRules
import BegawiTestSupport
import Foundation
import Testing

/// The rules between agencies at the store level, one body against each store (BegawiHubTests'
/// `BatchVisibilityTests`, `PersonTests` and the key derivation, audit and rules-change checks):
/// what a site may write, which key a person gets, who sees what, and what the audit keeps do not
/// depend on where the hub keeps its data.
@Suite(.blocking) struct HubStoreRulesTests {
    func cluster(_ kind: StoreKind) throws -> RulesHarness {
        try RulesHarness.withPartners(kind, [("disnaker", .office), ("lpk-a", .lpk), ("lpk-b", .lpk)])
    }

    func enroll(_ h: RulesHarness, _ site: String, _ id: String, _ person: String, _ program: String) throws {
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')", [id, person, program])
    }

    func expectSightFollowsTheRules(_ h: RulesHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (leaked, missing) = try h.sightProblems()
        #expect(leaked.isEmpty, "\(leaked)", sourceLocation: sourceLocation)
        #expect(missing.isEmpty, "\(missing)", sourceLocation: sourceLocation)
    }

    /// More rows than one page, linked, moved and unlinked in one batch each; then the office hands a
    /// program over, which moves who sees every person enrolled in it (`BatchVisibilityTests`).
    @Test(arguments: StoreKind.available)
    func linksMadeMovedAndEndedInOneBatchEach(kind: StoreKind) throws {
        let h = try cluster(kind)
        let people = try (1...70).map { try h.register("lpk-a", Person.make($0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        for (i, p) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", p, "prog-a") }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        for i in 0..<5 { try enroll(h, "lpk-b", "enr-b-\(i)", people[i], "prog-b") }
        try h.sync("lpk-b")
        try h.syncAll()
        #expect(try h.hubRows("participants").count == 70)
        // Every insert audited once: 70 people, 70 enrollments, 3 partners, 2 programs and B's 5 enrollments.
        #expect(try h.store.auditCount(action: "inserted") == 70 + 70 + 3 + 2 + 5)
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people[0..<5]))
        try expectSightFollowsTheRules(h)

        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-0'", [people[10]])
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b-1'")
        try enroll(h, "lpk-b", "enr-b-9", people[20], "prog-b")
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-9'", [people[21]])
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set([people[2], people[3], people[4], people[10], people[21]]))
        try expectSightFollowsTheRules(h)

        try h.staff("disnaker", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people))
        #expect(try h.siteStateKeys("lpk-a", "participants") == Set(people))
        try expectSightFollowsTheRules(h)
    }

    /// Refused rows inside a batch leave nothing behind: no row, no sight; only their refusals in
    /// the audit trail, beside the rows of the batch that landed.
    @Test(arguments: StoreKind.available)
    func refusedRowsInABatchLeaveNoSight(kind: StoreKind) throws {
        let h = try cluster(kind)
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        let good = try h.register("lpk-b", Person.make(41))
        let forged = Person.make(42), forgedKey = forged.key(h.policy)
        try h.staff("lpk-b", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES (?, ?, ?, 'lpk-a')", [forgedKey, forged.nik, forged.name])
        try enroll(h, "lpk-b", "enr-good", good, "prog-b")
        try enroll(h, "lpk-b", "enr-forged", forgedKey, "prog-b")
        let exchange = try h.sync("lpk-b")
        #expect(Set(exchange.refused.map(\.key)) == [forgedKey, "enr-forged"])
        #expect(Set(exchange.refused.map(\.reason.code)) == ["not-owner", "awaiting-reference"])
        #expect(Set(try h.hubRows("participants").keys) == [good])
        #expect(Set(try h.hubRows("enrollments").keys) == ["enr-good"])
        #expect(try h.store.auditCount(action: "refused") >= 2)
        #expect(try h.store.auditCount(action: "inserted") == 3 + 3)
        try h.syncAll()
        #expect(try !h.siteStateKeys("lpk-a", "participants").contains(forgedKey))
        try expectSightFollowsTheRules(h)
    }

    /// A pull leaves out the rows the site may not see, a span of the feed per page: pages of one
    /// row each still reach the head, with the rows one large page holds.
    @Test(arguments: StoreKind.available)
    func smallPagesPassRowsTheSiteMayNotSee(kind: StoreKind) throws {
        let h = try cluster(kind)
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        let own = try h.register("lpk-b", Person.make(300))
        try h.syncAll()
        let starts = try ["lpk-a", "lpk-b"].map { try h.site($0).replica.cursor(for: h.store.hubReplicaID) }
        let people = try (1...150).map { try h.register("lpk-a", Person.make($0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.sync("lpk-a")
        try enroll(h, "lpk-b", "enr-b", people[140], "prog-b")
        try h.sync("lpk-b")
        try h.sync("disnaker")
        for key in [people[3], own] { try h.staff("disnaker", "UPDATE participants SET verified_on = '2026-03-01' WHERE id = ?", [key]) }
        try h.sync("disnaker")

        func keys(_ page: ChangeBatch) -> Set<RowKey> { Set(page.rows.map { RowKey(table: page.tables[$0.table].name, key: $0.key) }) }
        let expected = [
            "lpk-a": Set([RowKey(table: "participants", key: people[3])]),
            "lpk-b": Set([RowKey(table: "participants", key: people[140]), RowKey(table: "participants", key: own), RowKey(table: "programs", key: "prog-a")]),
        ]
        for (site, start) in zip(["lpk-a", "lpk-b"], starts) {
            let s = h.site(site)
            let whole = try h.store.pull(site: s.record, replica: s.replica.replicaID, after: start, maxRows: 10_000, schemaVersion: nil, fresh: false).batch
            #expect(whole.complete)
            #expect(keys(whole) == expected[site], "\(site)")
            var cursor = start, pages = 0, received = Set<RowKey>()
            while true {
                let page = try h.store.pull(site: s.record, replica: s.replica.replicaID, after: cursor, maxRows: 1, schemaVersion: nil, fresh: false).batch
                pages += 1
                #expect(page.rows.count <= 2 && page.throughSeq >= cursor.seq)
                received.formUnion(keys(page))
                cursor = ExchangeCursor(baseSeq: page.complete ? page.throughSeq : cursor.baseSeq, seq: page.throughSeq)
                if page.complete || pages > 400 { break }
            }
            #expect(received == keys(whole), "\(site)")
            #expect(cursor.seq == whole.throughSeq)
            #expect(pages >= 3)
        }
    }

    func personCluster(_ kind: StoreKind) throws -> RulesHarness {
        let h = try RulesHarness(kind: kind)
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        try h.addSite("pt-x", kind: .company)
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        return h
    }

    func register(_ h: RulesHarness, _ site: String, _ p: Person, phone: String, program: String) throws -> String {
        let key = p.key(h.policy)
        try h.staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, p.nik, p.name, p.birth, phone, site])
        try h.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, ?, 'registered')",
                    ["enr-\(site)-\(key.prefix(8))", key, program])
        return key
    }

    /// One person per NIK: the second registration is refused, its differing fields go to the
    /// ledger once (also when sent again), and its site sees the one participant (`PersonTests`).
    @Test(arguments: StoreKind.available)
    func theSamePersonRegisteredAtTwoSitesIsOneParticipant(kind: StoreKind) throws {
        let h = try personCluster(kind)
        let p = Person.make(7)
        let key = try register(h, "lpk-a", p, phone: "0811-5400-111", program: "prog-a")
        _ = try register(h, "lpk-b", p, phone: "0811-5400-222", program: "prog-b")
        try h.sync("lpk-a")
        let exchange = try h.sync("lpk-b")
        #expect(exchange.refused.map(\.reason) == ["already-registered"])
        let hub = try h.hubRows("participants")
        #expect(hub.count == 1)
        let phone = h.document.schema.table(named: "participants")!.position(of: "phone")!
        #expect(hub[key]?[phone] == .text("0811-5400-111"))
        let ledger = try h.store.conflicts().filter { $0.key == key }
        #expect(Set(ledger.map(\.column)) == ["phone", "registered_by"])
        #expect(ledger.first { $0.column == "phone" }?.loserValue == .text("0811-5400-222"))
        #expect(try h.siteRows("lpk-b", "participants")[key] == hub[key])
        try h.syncAll()
        #expect(try h.store.conflicts().filter { $0.key == key }.count == 2)
        #expect(try h.siteRows("lpk-a", "participants")[key] == hub[key])
        #expect(try h.site("lpk-b").replica.refusals().first?.reason == "already-registered")
        // The office's figures count the refused registration's ledger entries.
        #expect(try h.store.health().first { $0.site == "lpk-b" }?.conflicts == 2)
        try expectSightFollowsTheRules(h)
    }

    @Test(arguments: StoreKind.available)
    func movingAProgramMovesWhoSeesItsParticipants(kind: StoreKind) throws {
        let h = try personCluster(kind)
        let key = try register(h, "lpk-a", Person.make(9), phone: "0811", program: "prog-a")
        try h.syncAll()
        try h.staff("disnaker", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [key])
        #expect(try h.siteStateKeys("lpk-b", "enrollments").count == 1)
        #expect(try h.siteStateKeys("lpk-a", "enrollments").isEmpty)
        #expect(try h.siteStateKeys("lpk-a", "participants") == [key])
    }

    /// A key that is not the one `key_from` derives from the row's NIK, and an implausible NIK, are
    /// refused with their reasons, and no trace of either reaches another site; the derived key lands.
    @Test(arguments: StoreKind.available)
    func keysAreDerivedFromTheIdentityNumber(kind: StoreKind) throws {
        let h = try personCluster(kind)
        let p = Person.make(12), q = Person.make(13)
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES ('made-up-key', ?, ?, 'lpk-a')", [p.nik, p.name])
        try h.staff("lpk-a", "INSERT INTO participants(id, nik, full_name, registered_by) VALUES (?, '12345', ?, 'lpk-a')", [q.key(h.policy), q.name])
        let good = try h.register("lpk-a", Person.make(14))
        let exchange = try h.sync("lpk-a")
        #expect(Dictionary(uniqueKeysWithValues: exchange.refused.map { ($0.key, $0.reason.code) }) == ["made-up-key": "key-mismatch", q.key(h.policy): "invalid-nik"])
        #expect(exchange.refused.allSatisfy { !$0.message.contains(p.nik) && !$0.message.contains("12345") })
        #expect(Set(try h.hubRows("participants").keys) == [good])
        #expect(try h.siteStateKeys("lpk-a", "participants") == [good])
        #expect(try h.store.auditCount(action: "refused") == 2)
    }

    /// The Handak Begawi schema without the link through enrollments (a training site does not
    /// receive the participants enrolled in its programs), as version 1; and the full one as version 2.
    static func narrowed() throws -> (narrow: Data, full: Data) {
        var root = try #require(try JSONSerialization.jsonObject(with: RulesHarness.handakBegawi) as? [String: Any])
        root["version"] = 2
        let full = try JSONSerialization.data(withJSONObject: root)
        var tables = try #require(root["tables"] as? [[String: Any]])
        let i = try #require(tables.firstIndex { $0["name"] as? String == "participants" })
        var access = try #require(tables[i]["access"] as? [String: Any])
        let links = try #require(access["linked_by"] as? [[String: Any]])
        access["linked_by"] = links.filter { $0["table"] as? String != "enrollments" }
        tables[i]["access"] = access
        root["tables"] = tables
        root["version"] = 1
        return (try JSONSerialization.data(withJSONObject: root), full)
    }

    /// A hub that ran with rules remembers them; restarted with rules that let a site see more (a
    /// version published with them), it recomputes who may see what, counts the rows newly granted
    /// per site (`rulesRecomputed`, RulesWideningTests' count), and the site then receives them.
    @Test(arguments: StoreKind.available)
    func aRulesChangeIsRecomputedAtTheNextStart(kind: StoreKind) throws {
        let (narrowText, fullText) = try Self.narrowed()
        let h = try RulesHarness(kind: kind, schemaText: narrowText)
        #expect(try h.store.installedRulesDigest() == h.policy.digest)
        try h.addSite("disnaker", kind: .office)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let people = try (1...3).map { try h.register("lpk-a", Person.make($0)) }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Operator Forklift')")
        for (n, key) in people.prefix(2).enumerated() {
            try h.staff("lpk-b", "INSERT INTO enrollments(id, participant_id, program_id, status) VALUES (?, ?, 'prog-b', 'registered')", ["enr-\(n)", key])
        }
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants").isEmpty)
        // The same rules again: nothing recomputed.
        try h.reopen(policy: h.policy)
        #expect(h.store.rulesRecomputed == nil)
        let full = try #require(try SchemaDocument.parse(fullText).policy)
        try h.publish(fullText)
        try h.reopen(policy: full)
        #expect(h.store.rulesRecomputed == ["lpk-b": 2])
        #expect(try h.store.installedRulesDigest() == full.digest)
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == Set(people.prefix(2)))
        try h.reopen(policy: full)
        #expect(h.store.rulesRecomputed == nil)
    }

    // MARK: each site's feed (BegawiHubTests' `SiteFeedTests`, `LostRefusalTests`)

    func feedWorld(_ kind: StoreKind) throws -> (RulesHarness, [String]) {
        let h = try cluster(kind)
        let people = try (1...5).map { try h.register("lpk-a", Person.make(40 + $0)) }
        try h.staff("lpk-a", "INSERT INTO programs(id, provider, title) VALUES ('prog-a', 'lpk-a', 'Las')")
        for (i, p) in people.enumerated() { try enroll(h, "lpk-a", "enr-a-\(i)", p, "prog-a") }
        try h.staff("lpk-b", "INSERT INTO programs(id, provider, title) VALUES ('prog-b', 'lpk-b', 'Forklift')")
        try h.syncAll()
        return (h, people)
    }

    /// LPK A renames a person and every site syncs: returns the name.
    @discardableResult
    func rename(_ h: RulesHarness, _ person: String, _ name: String) throws -> String {
        try h.staff("lpk-a", "UPDATE participants SET full_name = ? WHERE id = ?", [name, person])
        try h.syncAll()
        return name
    }

    func name(_ h: RulesHarness, _ site: String, _ person: String) throws -> SQLValue? {
        let column = try #require(h.document.schema.table(named: "participants")?.position(of: "full_name"))
        return try h.siteRows(site, "participants")[person]?[column]
    }

    /// Each site holds every catalogue row and, of the other tables, exactly the live rows the rules
    /// let it see, each as the hub holds it.
    func expectFeedsFollowRows(_ h: RulesHarness, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try expectSightFollowsTheRules(h, sourceLocation: sourceLocation)
        var seen = 0
        for id in h.sites.keys.sorted() where h.site(id).record.kind != .office {
            for (table, rule) in h.policy.tables {
                let hub = try h.hubRows(table), held = try h.siteRows(id, table)
                if rule.receivers == .all {
                    #expect(held == hub, "\(id) \(table)", sourceLocation: sourceLocation)
                    continue
                }
                for (key, row) in held {
                    #expect(hub[key] == row, "\(id) \(table)", sourceLocation: sourceLocation)
                    seen += 1
                }
            }
        }
        #expect(seen > 0, sourceLocation: sourceLocation)
    }

    @Test(arguments: StoreKind.available)
    func aRowChangedAfterItsGrantReachesTheSitesThatSeeIt(kind: StoreKind) throws {
        let (h, people) = try feedWorld(kind)
        try enroll(h, "lpk-b", "enr-b-0", people[0], "prog-b")
        try enroll(h, "lpk-b", "enr-b-1", people[1], "prog-b")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[1]])
        let renamed = try rename(h, people[0], "Nama Baru")
        #expect(try name(h, "lpk-b", people[0]) == .text(renamed))
        try expectFeedsFollowRows(h)

        // One batch of B: a link moves from one person to another (a revoke and a grant), and a
        // link made and ended before the push grants nothing.
        try h.staff("lpk-b", "UPDATE enrollments SET participant_id = ? WHERE id = 'enr-b-1'", [people[2]])
        try enroll(h, "lpk-b", "enr-b-3", people[3], "prog-b")
        try h.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b-3'")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[2]])
        try expectFeedsFollowRows(h)
        try rename(h, people[1], "Nama Lain")
        try rename(h, people[2], "Nama Kedua")
        #expect(try h.siteStateKeys("lpk-b", "participants") == [people[0], people[2]])
        #expect(try name(h, "lpk-b", people[2]) == .text("Nama Kedua"))
        try expectFeedsFollowRows(h)
    }

    @Test(arguments: StoreKind.available)
    func aSiteRegisteredLateReceivesTheCataloguesAndThenWhatItIsGranted(kind: StoreKind) throws {
        let (h, people) = try feedWorld(kind)
        try h.addSite("lpk-c", kind: .lpk)
        try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES ('lpk-c', 'lpk', 'Partner lpk-c')")
        try h.syncAll()
        #expect(try Set(h.siteRows("lpk-c", "programs").keys) == ["prog-a", "prog-b"])
        #expect(try h.siteStateKeys("lpk-c", "participants").isEmpty)
        try h.staff("lpk-c", "INSERT INTO programs(id, provider, title) VALUES ('prog-c', 'lpk-c', 'Listrik')")
        try enroll(h, "lpk-c", "enr-c-4", people[4], "prog-c")
        try h.syncAll()
        #expect(try h.siteStateKeys("lpk-c", "participants") == [people[4]])
        try rename(h, people[4], "Nama Baru")
        #expect(try name(h, "lpk-c", people[4]) == .text("Nama Baru"))
        try expectFeedsFollowRows(h)
    }

    /// A refused registration of a person the site may not see gives nothing back (the site removes
    /// its row), and the next session repeats the refusal, also with nothing to restore.
    @Test(arguments: StoreKind.available)
    func aRefusedRowTheSiteMayNotSeeIsNotGivenBack(kind: StoreKind) throws {
        let h = try RulesHarness(kind: kind)
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let p = Person.make(7), key = p.key(h.policy)
        let insert = "INSERT INTO participants(id, nik, full_name, birth_date, phone, registered_by) VALUES (?, ?, ?, ?, ?, ?)"
        try h.staff("lpk-a", insert, [key, p.nik, p.name, p.birth, "0811-1", "lpk-a"])
        try h.sync("lpk-a")
        try h.staff("lpk-b", insert, [key, p.nik, p.name, p.birth, "0811-2", "lpk-b"])
        let site = h.site("lpk-b"), replica = site.replica.replicaID
        let session = try h.store.session(site: site.record, replica: replica, configuration: HubConfiguration())
        let batch = try site.replica.export(after: session.pushCursor, for: session.hubReplicaID, limits: BatchLimits(maxRows: 100))
        let answer = try h.store.push(site: site.record, replica: replica, batch: try BatchCodec.decode(try BatchCodec.encode(batch)), schemaVersion: nil)
        #expect(answer.refused.map(\.reason) == ["already-registered"] && answer.restore == nil)
        let repeated = try #require(try unsettled(h, site: site.record, replica: replica))
        #expect(repeated.refused == answer.refused && repeated.restore == nil)
        // A's own refused write (an office-only column) is given back: A sees its row.
        try h.staff("lpk-a", "UPDATE participants SET verified_on = '2026-01-01' WHERE id = ?", [key])
        let a = try h.sync("lpk-a")
        #expect(a.refused.map(\.reason) == ["office-only"])
        #expect(try h.siteRows("lpk-a", "participants")[key] == h.hubRows("participants")[key])
    }

    func unsettled(_ h: RulesHarness, site: SiteRecord, replica: String) throws -> PushOutcome? {
        if let sqlite = h.store as? SQLiteHubStore { return try sqlite.unsettledRefusals(site: site, replica: replica, schemaVersion: nil) }
        return try #require(h.store as? PostgresHubStore).unsettledRefusals(site: site, replica: replica, schemaVersion: nil)
    }
}
