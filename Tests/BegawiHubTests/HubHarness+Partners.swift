import BegawiHub
import BegawiRules

extension HubHarness {
    /// A hub with `sites` registered, each also named by the office in `partners`, as the rules need
    /// to tell an LPK from a company.
    static func withPartners(_ sites: [(id: String, kind: SiteKind)]) throws -> HubHarness {
        let h = try HubHarness()
        for site in sites { try h.addSite(site.id, kind: site.kind) }
        for site in sites {
            try h.staff("disnaker", "INSERT INTO partners(id, kind, name) VALUES (?, ?, ?)", [site.id, site.kind.rawValue, "Partner \(site.id)"])
        }
        return h
    }

    /// Registers `person` as a participant at `site`, as its staff would; returns the row's key.
    func register(_ site: String, _ person: Person) throws -> String {
        let key = person.key(policy)
        try staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                  [key, person.nik, person.name, person.birth, person.female ? "P" : "L", site])
        return key
    }
}
