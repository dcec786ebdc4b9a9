import Foundation

/// What the staff of the labour office's partners type in during the demo, through the `sqlite3`
/// shell, on the Handak Begawi schema: the partner registry, programs, registrations, enrollments,
/// a certification, the office's approvals, and one enrollment edited at two sites.
struct DemoStory {
    let shell: DemoShell
    /// The salt of participant keys, from the schema file.
    let salt: String

    /// A partner: its site id (also its key in `partners`), kind, name and where it is.
    struct Partner {
        var id: String
        var kind: String
        var name: String
        var address: String
        var kelurahan: String
        var kecamatan: String
    }

    static let partners = [
        Partner(id: "lpk-mitra", kind: "lpk", name: "LPK Mitra Bontang", address: "Jl. Ahmad Yani No. 21",
                kelurahan: "Bontang Baru", kecamatan: "Bontang Utara"),
        Partner(id: "lpk-cendekia", kind: "lpk", name: "LPK Cendekia Bontang", address: "Jl. Awang Long No. 5",
                kelurahan: "Tanjung Laut", kecamatan: "Bontang Selatan"),
        Partner(id: "blki", kind: "blki", name: "BLKI Bontang", address: "Jl. Cipto Mangunkusumo No. 2",
                kelurahan: "Gunung Telihan", kecamatan: "Bontang Barat"),
        Partner(id: "disnaker", kind: "office", name: "Dinas Ketenagakerjaan Kota Bontang", address: "Jl. Moh. Roem No. 1",
                kelurahan: "Bontang Lestari", kecamatan: "Bontang Selatan"),
    ]
    static let office = "disnaker"
    /// The person both LPKs register, and the enrollment the BLKI and the office both edit.
    static let twice = DemoPerson.town[2]
    static let contested = DemoStory.id(1301)

    /// A row id of the demo: a UUIDv7 in form, fixed so that every run reads the same.
    static func id(_ n: Int) -> String { String(format: "01958a00-0000-7000-8000-%012ld", n) }

    func key(_ person: Int) -> String { DemoPerson.town[person].key(salt: salt) }

    func program(_ id: Int, by site: String, _ title: String, _ sector: String, _ dates: (String, String), quota: Int, funding: String) -> String {
        "INSERT INTO programs(id, provider, title, competency, sector, starts_on, ends_on, quota, funding) VALUES ("
            + [DemoStory.id(id), site, title, title, sector, dates.0, dates.1].map(DemoShell.quote).joined(separator: ", ")
            + ", \(quota), \(DemoShell.quote(funding)));"
    }

    func enroll(_ id: Int, person: Int, in program: Int, on date: String) -> String {
        "INSERT INTO enrollments(id, participant_id, program_id, status, registered_on) VALUES ("
            + [DemoStory.id(id), key(person), DemoStory.id(program), "registered", date].map(DemoShell.quote).joined(separator: ", ") + ");"
    }

    func register(_ person: Int, at site: String) -> String { DemoPerson.town[person].insert(registeredBy: site, salt: salt) }

    /// Offline, every site's staff record their first day's work.
    func firstDay() throws {
        try shell.run(DemoStory.office, "records the four partners in the registry (partners)", DemoStory.partners.map { p in
            "INSERT INTO partners(id, kind, name, address, kelurahan, kecamatan) VALUES ("
                + [p.id, p.kind, p.name, p.address, p.kelurahan, p.kecamatan].map(DemoShell.quote).joined(separator: ", ") + ");"
        }.joined(separator: "\n"))
        try shell.run("lpk-mitra", "offers Pengelasan SMAW 3G, registers 3 job seekers and enrolls them", [
            program(101, by: "lpk-mitra", "Pengelasan SMAW 3G", "Manufaktur", ("2026-03-02", "2026-05-29"), quota: 16, funding: "APBD"),
            register(0, at: "lpk-mitra"), register(1, at: "lpk-mitra"), register(2, at: "lpk-mitra"),
            enroll(1101, person: 0, in: 101, on: "2026-02-16"), enroll(1102, person: 1, in: 101, on: "2026-02-16"),
            enroll(1103, person: 2, in: 101, on: "2026-02-17"),
        ].joined(separator: "\n"))
        // The same person at the second LPK: same NIK (so the same key), another phone and address.
        var again = DemoStory.twice
        again.phone = "085200009103"
        again.address = "Jl. Letjend S Parman RT 08 No. 40"
        try shell.run("lpk-cendekia", "offers Operator Forklift, registers 2 job seekers (one is registered at lpk-mitra too, with another phone and address) and enrolls them", [
            program(201, by: "lpk-cendekia", "Operator Forklift", "Logistik", ("2026-02-09", "2026-02-20"), quota: 12, funding: "company"),
            again.insert(registeredBy: "lpk-cendekia", salt: salt), register(3, at: "lpk-cendekia"),
            enroll(1201, person: 2, in: 201, on: "2026-02-05"), enroll(1202, person: 3, in: 201, on: "2026-02-05"),
        ].joined(separator: "\n"))
        try shell.run("blki", "offers Instalasi Listrik Bangunan, registers 2 job seekers and enrolls them", [
            program(301, by: "blki", "Instalasi Listrik Bangunan", "Teknik", ("2026-03-02", "2026-04-24"), quota: 16, funding: "APBN"),
            register(4, at: "blki"), register(5, at: "blki"),
            enroll(1301, person: 4, in: 301, on: "2026-02-18"), enroll(1302, person: 5, in: 301, on: "2026-02-19"),
        ].joined(separator: "\n"))
    }

    /// Offline again: training goes on, and the BLKI and the office edit the same enrollment's status.
    func secondDay() throws {
        try shell.run("lpk-mitra", "its three trainees start: status active", """
            UPDATE enrollments SET status = 'active', started_on = '2026-03-02' WHERE program_id = '\(DemoStory.id(101))';
            """)
        try shell.run("lpk-cendekia", "the forklift course ended: both completed, one certified, the certificate recorded", """
            UPDATE enrollments SET status = 'completed', started_on = '2026-02-09', completed_on = '2026-02-20' WHERE program_id = '\(DemoStory.id(201))';
            UPDATE enrollments SET status = 'certified' WHERE id = '\(DemoStory.id(1202))';
            INSERT INTO certifications(id, participant_id, enrollment_id, number, scheme, issuer, issued_on, recorded_by) VALUES ('\(DemoStory.id(2201))', '\(key(3))', '\(DemoStory.id(1202))', 'DEMO/FL/2026/0001', 'Operator Forklift', 'LSP Demo (fiktif)', '2026-02-27', 'lpk-cendekia');
            """)
        try shell.run("blki", "a trainee started: enrollment \(DemoStory.contested) status active", """
            UPDATE enrollments SET status = 'active', started_on = '2026-03-02' WHERE id = '\(DemoStory.contested)';
            """)
        Thread.sleep(forTimeInterval: 0.05) // the office's edit is later on the clock: it wins the status field
        try shell.run(DemoStory.office, "hears that the same trainee withdrew: status dropped; approves the three programs; verifies the person registered twice", """
            UPDATE enrollments SET status = 'dropped', dropped_on = '2026-03-02', notes = 'mengundurkan diri' WHERE id = '\(DemoStory.contested)';
            UPDATE programs SET approved_on = '2026-03-02';
            UPDATE participants SET verified_on = '2026-03-02' WHERE id = '\(DemoStory.twice.key(salt: salt))';
            """)
    }
}
