import BegawiTestSupport
import BegawiCore
import BegawiHub
import BegawiRules
import Foundation
import Testing

/// Likely duplicates are found on the columns the schema file declares beside the derived key
/// (`"duplicates"`), not on column names the hub knows of itself.
@Suite(.blocking) struct DuplicatesTests {
    /// Registers a person at a site's replica; returns the person's key.
    func register(_ h: HubHarness, _ site: String, _ person: Person) throws -> String {
        let key = person.key(h.policy)
        try h.staff(site, "INSERT INTO participants(id, nik, full_name, birth_date, sex, registered_by) VALUES (?, ?, ?, ?, ?, ?)",
                    [key, person.nik, person.name, person.birth, person.female ? "P" : "L", site])
        return key
    }

    @Test func aMistypedIdentifierIsFoundOnTheDeclaredColumns() throws {
        let h = try HubHarness()
        #expect(h.policy["participants"]?.duplicateColumns == ["full_name", "birth_date"])
        try h.addSite("lpk-a", kind: .lpk)
        try h.addSite("lpk-b", kind: .lpk)
        let first = Person.make(3)
        let last = first.nik.last == "9" ? "8" : "9"
        // The same person typed again with one digit of the serial wrong, and spaces and case changed.
        let again = Person(nik: String(first.nik.dropLast()) + last, name: "  " + first.name.uppercased(), birth: first.birth, female: first.female)
        let other = Person.make(4)
        let keys = [try register(h, "lpk-a", first), try register(h, "lpk-b", again)]
        _ = try register(h, "lpk-a", other)
        try h.syncAll()

        let found = try h.store.duplicates()
        #expect(found.count == 1)
        #expect(Set(found.first?.keys ?? []) == Set(keys))
        #expect(Set(found.first?.sites ?? []) == ["lpk-a", "lpk-b"])
        #expect(found.first?.differingDigits == 1)

        // Without the declaration there is nothing to compare on: the command says what to declare.
        var policy = h.policy
        policy.tables["participants"]?.duplicateColumns = []
        let bare = try SQLiteHubStore(path: h.folder.file("hub.sqlite"), policy: policy)
        defer { try? bare.close() }
        let error = #expect(throws: BegawiError.self) { try bare.duplicates() }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("\"duplicates\"") == true)
    }
}
