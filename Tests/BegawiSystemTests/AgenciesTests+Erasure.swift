import Foundation
import Testing

extension AgenciesTests {
    /// `hub erase-participant` for a person trained at two LPKs and placed at a company: after one
    /// sync of each site no file anywhere holds a byte of their NIK, name or phone, the audit trail
    /// still tells what happened, and writes that were offline at the time are refused as erased.
    /// On PostgreSQL no row of the hub's database holds her, and after the `VACUUM FULL` the
    /// operator runs (docs/postgresql.md) no byte of its files does either.
    @Test(arguments: ClusterStore.available) func anErasedPersonLeavesNoTraceInAnyFile(store: ClusterStore) throws {
        let agencies = try Agencies(label: "erasure", store: store)
        try agencies.addSite("disnaker", kind: "office")
        for lpk in ["lpk-a", "lpk-b"] { try agencies.addSite(lpk, kind: "lpk") }
        try agencies.addSite("pt-bontang", kind: "company")
        try agencies.registerPartners(at: "disnaker")
        var source = Bontang(series: 4)
        var erased = source.person(named: "Rosalinda Mappaseng Wuisan", female: true)
        erased.phone = "081347205519"
        let newPhone = "082255031876"
        let (kept, other) = (source.person(), source.person())
        try agencies.offerProgram("prog-a", by: "lpk-a", title: "Administrasi Perkantoran")
        try agencies.offerProgram("prog-b", by: "lpk-b", title: "Operator Forklift")
        try agencies.register(erased, at: "lpk-a")
        try agencies.register(kept, at: "lpk-a")
        try agencies.register(other, at: "lpk-b")
        try agencies.enroll("enr-a-1", erased.key, in: "prog-a", at: "lpk-a")
        try agencies.enroll("enr-a-2", kept.key, in: "prog-a", at: "lpk-a")
        try agencies.enroll("enr-b-1", erased.key, in: "prog-b", at: "lpk-b")
        try agencies.enroll("enr-b-2", other.key, in: "prog-b", at: "lpk-b")
        try agencies.place("plc-1", erased.key, at: "pt-bontang", position: "Staf Administrasi")
        try agencies.syncAll(rounds: 2)
        let everywhere = ["hub"] + agencies.sites
        for site in everywhere { try agencies.expectPresent(erased.personalValues, in: site, "before the erasure, \(site) may see her") }
        // lpk-b corrects her phone, which is not its to change: the refusal ledger keeps its values.
        let refusedPhone = "081390112233"
        try agencies.cluster.staff("lpk-b", "UPDATE participants SET phone = ? WHERE id = ?", [refusedPhone, erased.key])
        #expect(try agencies.sync("lpk-b").contains("refused by the hub: 1"))
        try agencies.expectPresent([("lpk-b's phone of \(erased.name)", refusedPhone)], in: "lpk-b", "its refusal ledger keeps its values")

        // Offline when the office erases her: lpk-a edits her phone, lpk-b her enrollment.
        try agencies.cluster.staff("lpk-a", "UPDATE participants SET phone = ? WHERE id = ?", [newPhone, erased.key])
        try agencies.cluster.staff("lpk-b", "UPDATE enrollments SET notes = 'pindah jadwal' WHERE id = 'enr-b-1'")

        let report = try agencies.hub("erase-participant", ["--nik-stdin"], input: erased.nik + "\n")
        #expect(report.contains("erased 4 rows (enrollments, participants, placements)"), "\(report)")
        #expect(report.contains("disnaker, lpk-a, lpk-b, pt-bontang"), "\(report)")
        let traces = erased.personalValues + [("new phone of \(erased.name)", newPhone), ("lpk-b's phone of \(erased.name)", refusedPhone)]
        try agencies.expectAbsent(traces, from: "hub", "the hub erased her")

        // One sync of each site: her rows leave every replica; the offline writes are refused as erased.
        for site in agencies.sites {
            let output = try agencies.sync(site)
            if site == "lpk-a" || site == "lpk-b" { #expect(output.contains("refused by the hub: 1"), "\(site): \(output)") }
        }
        let rows = [("participants", "id"), ("enrollments", "participant_id"), ("placements", "participant_id")]
        for site in everywhere {
            for (table, column) in rows {
                #expect(try agencies.keys(site, table, where: "\"\(column)\" = ?", [erased.key]).isEmpty, "\(site) still holds her \(table)")
            }
            #expect(try agencies.cluster.query(site, "SELECT count(*) FROM _begawi_rows WHERE key IN (?, 'enr-a-1', 'enr-b-1', 'plc-1')", [erased.key]) == [["0"]],
                    "\(site) keeps merge state of her rows")
            #expect(try agencies.cluster.query(site, "SELECT count(*) FROM _begawi_conflicts WHERE key = ?", [erased.key]) == [["0"]])
            try agencies.expectAbsent(traces, from: site, "she was erased")
        }
        if agencies.cluster.postgres != nil {
            // What PostgreSQL still keeps in dead tuples goes with the VACUUM FULL the operator runs.
            let files = try agencies.vacuumedHubFiles()
            #expect(!files.isEmpty)
            for hit in try RawBytes.find(traces, in: files) { Issue.record("the hub's database files hold this after VACUUM FULL: \(hit)") }
            #expect(try !RawBytes.find(kept.personalValues, in: files).isEmpty, "control: the files hold the others")
        }
        for site in ["hub", "lpk-a", "disnaker"] { try agencies.expectPresent(kept.personalValues, in: site, "the others stay") }
        try agencies.expectPresent(other.personalValues, in: "lpk-b", "the others stay")
        for site in agencies.sites {
            #expect(try agencies.cluster.query(site, "SELECT count(*) FROM _begawi_refusals WHERE vals IS NOT NULL AND key IN (?, 'enr-b-1')", [erased.key]) == [["0"]],
                    "\(site)'s refusal ledger keeps her values")
        }

        // The audit trail still tells where her data went, without her data.
        let trace = try agencies.hub("trace-participant", ["--key", erased.key])
        for action in ["inserted", "granted", "erasure sent", "erased", "refused (erased)"] {
            #expect(trace.contains("\t\(action)"), "trace-participant lacks '\(action)':\n\(trace)")
        }
        for site in agencies.sites { #expect(trace.contains("\t\(site)\t"), "trace-participant does not name \(site):\n\(trace)") }
        for value in traces { #expect(!trace.contains(value.text), "trace-participant shows the \(value.label)") }

        // lpk-a, not yet told, registers her again: refused as erased, nothing left behind.
        try agencies.register(erased, at: "lpk-a")
        let output = try agencies.sync("lpk-a")
        #expect(output.contains("refused by the hub: 1"), "\(output)")
        #expect(try agencies.keys("hub", "participants", where: "id = ?", [erased.key]).isEmpty)
        #expect(try agencies.keys("lpk-a", "participants", where: "id = ?", [erased.key]).isEmpty)
        for site in ["hub", "lpk-a"] { try agencies.expectAbsent(traces, from: site, "she was erased and registered again") }
        // Erasing someone the hub never had is refused without repeating the NIK.
        let stranger = source.person()
        let unknown = try agencies.run(["hub", "erase-participant", "--config", agencies.cluster.hubConfig, "--nik-stdin"], expect: -1,
                                       input: stranger.nik + "\n")
        #expect(unknown.status != 0 && unknown.errors.contains("no participant"), "\(unknown)")
        agencies.expectNoPersonalData([erased, kept, other, stranger], also: Array(traces.dropFirst(3)))
    }

    /// A second LPK registered the person too and was refused as already-registered: its refusal
    /// ledger holds what its staff typed (NIK, name, phone), so the erasure must reach it as well.
    @Test(arguments: ClusterStore.available) func anErasureReachesASiteWhoseRegistrationWasRefused(store: ClusterStore) throws {
        let agencies = try Agencies(label: "erasure-refused", store: store)
        try agencies.addSite("disnaker", kind: "office")
        for lpk in ["lpk-a", "lpk-b"] { try agencies.addSite(lpk, kind: "lpk") }
        var source = Bontang(series: 6)
        let p = source.person()
        let otherPhone = "081299887766"
        try agencies.register(p, at: "lpk-a")
        try agencies.register(p, at: "lpk-b", phone: otherPhone)
        try agencies.syncAll(rounds: 2)
        #expect(try agencies.cluster.query("lpk-b", "SELECT reason FROM _begawi_refusals WHERE key = ?", [p.key]) == [["already-registered"]])
        let traces = p.personalValues + [("lpk-b's phone of \(p.name)", otherPhone)]
        try agencies.expectPresent(traces.filter { $0.text != p.phone }, in: "lpk-b", "its refusal ledger keeps what its staff typed")

        let report = try agencies.hub("erase-participant", ["--key", p.key])
        try agencies.syncAll(rounds: 1)
        for site in ["hub", "disnaker", "lpk-a"] { try agencies.expectAbsent(traces, from: site, "the person was erased") }
        // The site whose registration was refused is told too: its refusal ledger held her values.
        #expect(report.contains("lpk-b"), "\(report)")
        try agencies.expectAbsent(traces, from: "lpk-b", "the person was erased")
        agencies.expectNoPersonalData([p], also: [("lpk-b's phone of \(p.name)", otherPhone)])
    }
}
