import BegawiTestSupport
import Foundation
import Testing

/// The rules between agencies end to end, with the Handak Begawi schema: real hub and site
/// processes, made-up people of Bontang, and the replica files searched as raw bytes.
///
/// Every test ends by checking that no NIK, name or phone number it used reached the hub's log or
/// anything a `begawi` command printed (`Agencies.expectNoPersonalData`).
@Suite(.blocking) struct AgenciesTests {
    /// The acceptance test: ten LPKs, two companies and the office. After a full sync, no
    /// site's file holds a NIK or key of a participant it may not see, and each holds exactly the
    /// participants it may see, with the hub's values.
    @Test(arguments: ClusterStore.available) func everySiteHoldsExactlyThePeopleItMaySee(store: ClusterStore) throws {
        let agencies = try Agencies(label: "agencies", store: store)
        let office = "disnaker"
        let lpks = (1...10).map { String(format: "lpk-%02d", $0) }
        let companies = ["pt-tirta", "pt-lestari"]
        try agencies.addSite(office, kind: "office")
        for lpk in lpks { try agencies.addSite(lpk, kind: "lpk") }
        for company in companies { try agencies.addSite(company, kind: "company") }
        try agencies.registerPartners(at: office)

        // Each LPK offers a program and registers and enrolls five people.
        let titles = ["Las SMAW 3G", "Operator Forklift", "K3 Umum", "Teknisi Instrumentasi", "Tata Boga",
                      "Menjahit Pakaian", "Barista", "Administrasi Perkantoran", "Teknisi AC", "Operator Excavator"]
        var source = Bontang()
        var people: [[Person]] = []
        var visible: [String: Set<String>] = [:]
        for (k, lpk) in lpks.enumerated() {
            try agencies.offerProgram("prog-\(lpk)", by: lpk, title: titles[k])
            let registered = (0..<5).map { _ in source.person() }
            people.append(registered)
            for (i, p) in registered.enumerated() {
                try agencies.register(p, at: lpk)
                try agencies.enroll("enr-\(lpk)-\(i)", p.key, in: "prog-\(lpk)", at: lpk)
                visible[lpk, default: []].insert(p.key)
            }
        }
        // The first person of each LPK also trains at the next LPK, which enrolls them by their key.
        for k in lpks.indices {
            let next = lpks[(k + 1) % lpks.count]
            try agencies.enroll("enr-\(next)-x", people[k][0].key, in: "prog-\(next)", at: next)
            visible[next, default: []].insert(people[k][0].key)
        }
        // lpk-03 assesses a person trained at lpk-08 and records the certificate.
        try agencies.cluster.staff("lpk-03", """
            INSERT INTO certifications(id, participant_id, number, scheme, issuer, issued_on, recorded_by)
            VALUES ('cert-1', ?, 'KUP.00.0417.2025', 'Operator Forklift', 'LSP Bontang (fiktif)', '2025-09-30', 'lpk-03')
            """, [people[7][3].key])
        visible["lpk-03", default: []].insert(people[7][3].key)
        // Each company places three people, one of them trained at two LPKs.
        let placed = [companies[0]: [people[0][1], people[1][1], people[2][0]], companies[1]: [people[3][2], people[4][2], people[5][0]]]
        for (company, hired) in placed {
            try agencies.cluster.staff(company, "INSERT INTO vacancies(id, company, title, sector, openings, kecamatan, closes_on) VALUES (?, ?, 'Operator Produksi', 'industri', 5, 'Bontang Utara', '2025-12-31')",
                                       ["vac-\(company)", company])
            for (i, p) in hired.enumerated() {
                try agencies.place("plc-\(company)-\(i)", p.key, at: company, position: "Operator Produksi")
                visible[company, default: []].insert(p.key)
            }
        }
        let everyone = people.flatMap { $0 }
        visible[office] = Set(everyone.map(\.key))

        // A row referencing a person whose LPK syncs later in the round waits for them
        // (`awaiting-reference`) and lands in the next round; a third round brings it everywhere.
        try agencies.syncAll(rounds: 3)

        // The hub has every person with the values typed in at the registering LPK.
        let hub = try agencies.rows("hub", "participants")
        #expect(hub.count == everyone.count)
        for (k, lpk) in lpks.enumerated() {
            for p in people[k] {
                #expect(hub[p.key] == [p.nik, p.name, p.birthDate, p.sex, p.phone, p.address, p.kelurahan, p.kecamatan, p.education, lpk, "NULL"],
                        "the hub's row of a person registered at \(lpk)")
            }
        }
        let hubEnrollments = try agencies.rows("hub", "enrollments"), hubPlacements = try agencies.rows("hub", "placements")
        #expect(hubEnrollments.count == 60)
        #expect(hubPlacements.count == 6)

        for site in agencies.sites {
            let mine = visible[site] ?? []
            // SQL: exactly the people this site may see, each with the hub's values.
            let rows = try agencies.rows(site, "participants")
            #expect(Set(rows.keys) == mine, "\(site) holds \(rows.count) participants, may see \(mine.count)")
            for (key, values) in rows { #expect(values == hub[key], "\(site)'s row \(key) differs from the hub's") }
            #expect(try agencies.keys(site, "participants") == Set(rows.keys), "\(site) holds tombstones of participants")
            #expect(Set(try agencies.rows(site, "certifications").keys) == (site == office || site == "lpk-03" ? ["cert-1"] : []), "\(site)'s certifications")
            // Catalogues reach everyone.
            #expect(try agencies.rows(site, "partners") == agencies.rows("hub", "partners"), "\(site)'s partners")
            #expect(try agencies.rows(site, "programs").count == lpks.count, "\(site)'s programs")
            #expect(try agencies.rows(site, "vacancies").count == companies.count, "\(site)'s vacancies")
            // Enrollments go to the program's provider, placements to the company.
            let enrollments = try agencies.rows(site, "enrollments"), placements = try agencies.rows(site, "placements")
            switch site {
            case office:
                #expect(enrollments == hubEnrollments)
                #expect(placements == hubPlacements)
            case let lpk where lpks.contains(lpk):
                #expect(Set(enrollments.keys) == Set(hubEnrollments.filter { $0.value[1] == "prog-\(lpk)" }.keys), "\(lpk)'s enrollments")
                #expect(placements.isEmpty, "\(lpk) holds placements")
            default:
                #expect(enrollments.isEmpty, "\(site) holds enrollments")
                #expect(Set(placements.keys) == Set(hubPlacements.filter { $0.value[1] == site }.keys), "\(site)'s placements")
            }

            // Raw bytes: no trace of anyone this site may not see; the people it may see are there.
            let hidden = everyone.filter { !mine.contains($0.key) }
            try agencies.expectAbsent(hidden.flatMap { [("NIK of \($0.name)", $0.nik), ("key of \($0.name)", $0.key)] }, from: site,
                                      "a participant it may not see")
            try agencies.expectPresent(everyone.filter { mine.contains($0.key) }.map { ("NIK of \($0.name)", $0.nik) }, in: site,
                                       "a participant it may see: the search must be able to fail")
        }
        #expect(try agencies.hub("duplicates").contains("no likely duplicates"))
        agencies.expectNoPersonalData(everyone)
    }

    /// An LPK enrolls another LPK's participant and receives them; once the enrollment is deleted the
    /// participant leaves that LPK's replica (no byte of their NIK left) but stays at the hub and owner.
    @Test(arguments: ClusterStore.available) func aParticipantLeavesTheReplicaOfAnLPKNoLongerLinkedToThem(store: ClusterStore) throws {
        let agencies = try Agencies(label: "unlinked", store: store)
        for lpk in ["lpk-a", "lpk-b"] { try agencies.addSite(lpk, kind: "lpk") }
        var source = Bontang(series: 1)
        let (p, q) = (source.person(), source.person())
        try agencies.register(p, at: "lpk-a")
        try agencies.register(q, at: "lpk-a")
        try agencies.offerProgram("prog-b", by: "lpk-b", title: "Operator Forklift")
        try agencies.sync("lpk-a")
        try agencies.sync("lpk-b")
        try agencies.expectAbsent(p.personalValues + q.personalValues, from: "lpk-b", "lpk-b trains neither yet")

        // lpk-b enrolls p in two programs (the person brings their KTP; lpk-b derives the key from it).
        try agencies.offerProgram("prog-b2", by: "lpk-b", title: "K3 Umum")
        try agencies.enroll("enr-b-p", p.key, in: "prog-b", at: "lpk-b")
        try agencies.enroll("enr-b2-p", p.key, in: "prog-b2", at: "lpk-b")
        try agencies.sync("lpk-b")
        #expect(try agencies.rows("lpk-b", "participants") == agencies.rows("hub", "participants").filter { $0.key == p.key })
        try agencies.expectPresent(p.personalValues, in: "lpk-b", "lpk-b enrolled p")
        try agencies.expectAbsent(q.personalValues + [("key of q", q.key)], from: "lpk-b", "lpk-b does not train q")

        // One enrollment is deleted: p is still linked to lpk-b by the other.
        try agencies.cluster.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b-p'")
        try agencies.sync("lpk-b")
        #expect(Set(try agencies.rows("lpk-b", "participants").keys) == [p.key])

        // The other is deleted too: p leaves lpk-b's replica, every byte of it.
        try agencies.cluster.staff("lpk-b", "DELETE FROM enrollments WHERE id = 'enr-b2-p'")
        let output = try agencies.sync("lpk-b")
        #expect(output.contains("removed (no longer visible to this site): 1"), "\(output)")
        #expect(try agencies.keys("lpk-b", "participants").isEmpty)
        #expect(try agencies.cluster.query("lpk-b", "SELECT count(*) FROM _begawi_rows WHERE key = ?", [p.key]) == [["0"]])
        try agencies.expectAbsent(p.personalValues + q.personalValues, from: "lpk-b", "lpk-b no longer trains p")
        #expect(SyncSummary(try agencies.sync("lpk-b"))?.sent == 0, "the removal was sent to the hub as a change")

        // The hub and the owner still have p, unchanged.
        try agencies.sync("lpk-a")
        let hub = try agencies.rows("hub", "participants")
        #expect(Set(hub.keys) == [p.key, q.key])
        #expect(try agencies.rows("lpk-a", "participants") == hub)
        try agencies.expectPresent(p.personalValues, in: "lpk-a", "lpk-a registered p")

        // The owner edits p; lpk-b enrolls p again and receives the whole current row.
        try agencies.cluster.staff("lpk-a", "UPDATE participants SET education = 'D3', address = 'Jl. Awang Long RT 07 No. 12' WHERE id = ?", [p.key])
        try agencies.sync("lpk-a")
        try agencies.enroll("enr-b-p-again", p.key, in: "prog-b", at: "lpk-b")
        try agencies.sync("lpk-b")
        let current = try agencies.rows("hub", "participants").filter { $0.key == p.key }
        #expect(current[p.key]?.contains("D3") == true)
        #expect(try agencies.rows("lpk-b", "participants") == current)
        agencies.expectNoPersonalData([p, q])
    }

    /// Who sees a person follows the owners: when the office hands a program to another LPK, its
    /// enrollments and their participants move with it; when it transfers a registration, the former
    /// registrant loses the person.
    @Test(arguments: ClusterStore.available) func handingAProgramOrARegistrationOverMovesWhoSeesThePerson(store: ClusterStore) throws {
        let agencies = try Agencies(label: "handover", store: store)
        try agencies.addSite("disnaker", kind: "office")
        for lpk in ["lpk-a", "lpk-b", "lpk-c"] { try agencies.addSite(lpk, kind: "lpk") }
        var source = Bontang(series: 7)
        let p = source.person()
        try agencies.register(p, at: "lpk-c")
        try agencies.offerProgram("prog-a", by: "lpk-a", title: "Barista")
        try agencies.enroll("enr-1", p.key, in: "prog-a", at: "lpk-a")
        try agencies.syncAll(rounds: 2)
        #expect(Set(try agencies.rows("lpk-a", "participants").keys) == [p.key])
        try agencies.expectAbsent(p.personalValues, from: "lpk-b", "lpk-b does not train the person yet")

        try agencies.cluster.staff("disnaker", "UPDATE programs SET provider = 'lpk-b' WHERE id = 'prog-a'")
        try agencies.syncAll(rounds: 2)
        #expect(try agencies.rows("lpk-a", "participants").isEmpty)
        #expect(try agencies.rows("lpk-a", "enrollments").isEmpty)
        #expect(try agencies.rows("lpk-b", "participants") == agencies.rows("hub", "participants"))
        #expect(try agencies.rows("lpk-b", "enrollments") == agencies.rows("hub", "enrollments"))
        try agencies.expectAbsent(p.personalValues, from: "lpk-a", "the program went to lpk-b")
        try agencies.expectPresent(p.personalValues, in: "lpk-b", "lpk-b now trains the person")

        try agencies.cluster.staff("disnaker", "UPDATE participants SET registered_by = 'lpk-b' WHERE id = ?", [p.key])
        try agencies.syncAll(rounds: 2)
        #expect(try agencies.rows("lpk-c", "participants").isEmpty)
        #expect(try agencies.rows("lpk-b", "participants") == agencies.rows("hub", "participants"))
        try agencies.expectAbsent(p.personalValues, from: "lpk-c", "the registration went to lpk-b")
        agencies.expectNoPersonalData([p])
    }
}
