import Foundation

/// The office's world for reports and the dashboard: two LPKs, the BLKI and the office, with
/// programs and enrollments over two years, all synced to the hub. `expected` holds what a report
/// of 2025 must count, written by hand from the data below.
struct OfficeWorld {
    let agencies: Agencies
    var cluster: Cluster { agencies.cluster }

    /// (site, program id, title).
    static let programs = [("lpk-a", "prog-las", "Pengelasan SMAW"), ("lpk-a", "prog-jahit", "Menjahit Pakaian"),
                           ("lpk-b", "prog-rias", "Tata Rias Pengantin"), ("blki", "prog-listrik", "Instalasi Listrik")]
    /// (site, program, status, registered_on); one person each.
    static let enrollments = [
        ("lpk-a", "prog-las", "registered", "2025-03-10"), ("lpk-a", "prog-las", "active", "2025-03-11"),
        ("lpk-a", "prog-las", "active", "2025-04-01"), ("lpk-a", "prog-jahit", "completed", "2025-05-02"),
        ("lpk-b", "prog-rias", "certified", "2025-08-01"), ("lpk-b", "prog-rias", "dropped", "2024-12-20"),
        ("blki", "prog-listrik", "active", "2025-02-14"), ("blki", "prog-listrik", "completed", "2025-11-30"),
        ("blki", "prog-listrik", "completed", "2026-01-05"),
    ]
    /// The report for 2025: partner → program → status → count.
    static let expected2025: [String: [String: [String: Int]]] = [
        "lpk-a": ["prog-las": ["registered": 1, "active": 2], "prog-jahit": ["completed": 1]],
        "lpk-b": ["prog-rias": ["certified": 1]],
        "blki": ["prog-listrik": ["active": 1, "completed": 1]],
    ]

    /// The people enrolled, for checks that no personal value shows.
    private(set) var people: [Person] = []

    init(label: String, store: ClusterStore = .sqlite) throws {
        agencies = try Agencies(label: label, store: store)
        for (site, kind) in [("lpk-a", "lpk"), ("lpk-b", "lpk"), ("blki", "blki"), ("office", "office")] {
            try agencies.addSite(site, kind: kind)
        }
        try agencies.registerPartners(at: "office")
        for (site, id, title) in OfficeWorld.programs { try agencies.offerProgram(id, by: site, title: title) }
        var town = Bontang(series: 4)
        for (i, (site, program, status, date)) in OfficeWorld.enrollments.enumerated() {
            let person = town.person()
            people.append(person)
            try agencies.register(person, at: site)
            try cluster.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status, registered_on) VALUES (?, ?, ?, ?, ?)",
                              ["enr-\(i)", person.key, program, status, date])
        }
        try agencies.syncAll()
    }
}
