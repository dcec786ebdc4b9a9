import Foundation
import GRDB
import Testing

/// A hub and partner sites with the Handak Begawi schema and its rules between agencies, as real
/// processes. Every `begawi` command of a test goes through `run`, which keeps what the command
/// printed, so that the test can check at its end that no personal value reached any output.
final class Agencies {
    let cluster: Cluster
    /// Site kinds by site id, in the order the sites were added.
    private(set) var kinds: [(site: String, kind: String)] = []
    /// What each command printed on stdout and stderr.
    private(set) var outputs: [(command: String, text: String)] = []

    /// Hub and sites log at debug level, so that a value that slips into any log line shows up.
    static let environment = ["BEGAWI_LOG_LEVEL": "debug"]

    /// A running hub with the Handak Begawi schema and no sites yet, on `store`.
    init(label: String, store: ClusterStore = .sqlite) throws {
        // A hub on PostgreSQL keeps its erasure log where hub.toml says (no database file to put it beside).
        cluster = try Cluster(label: label, hubExtra: store == .postgres ? #"erasure_log = "hub.erasures""# : "",
                              schema: "config/handak-begawi.json", store: store)
        cluster.hubEnvironment = Agencies.environment
        try cluster.startHub()
    }

    /// Registers a site at the hub and makes its replica.
    func addSite(_ id: String, kind: String) throws {
        try cluster.addSite(id, kind: kind)
        kinds.append((id, kind))
    }

    var sites: [String] { kinds.map(\.site) }

    // MARK: commands

    /// Runs `begawi` and keeps its output; throws unless it exits with `expect` (any if negative).
    @discardableResult
    func run(_ arguments: [String], expect: Int32 = 0, input: String? = nil) throws -> (status: Int32, output: String, errors: String) {
        let result = try Cluster.run(arguments, expect: expect, environment: Agencies.environment, input: input)
        outputs.append((arguments.prefix(2).joined(separator: " "), result.output + "\n" + result.errors))
        return result
    }

    /// One `begawi site sync`; its standard output.
    @discardableResult
    func sync(_ site: String, expect: Int32 = 0) throws -> String {
        try run(["site", "sync", "--config", cluster.siteConfig(site)], expect: expect).output
    }

    /// Syncs every site in the order they were added, `rounds` times over.
    func syncAll(rounds: Int = 2) throws {
        for _ in 0..<rounds { for site in sites { try sync(site) } }
    }

    /// `begawi site status` as text.
    func status(_ site: String) throws -> String {
        try run(["site", "status", "--config", cluster.siteConfig(site)]).output
    }

    /// `begawi site status --json`, parsed.
    func statusJSON(_ site: String) throws -> [String: Any] {
        let text = try run(["site", "status", "--json", "--config", cluster.siteConfig(site)]).output
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw ClusterError("site status --json printed no JSON object: \(text)")
        }
        return object
    }

    /// A `begawi hub …` administration command; its standard output.
    @discardableResult
    func hub(_ command: String, _ arguments: [String] = [], input: String? = nil) throws -> String {
        try run(["hub", command, "--config", cluster.hubConfig] + arguments, input: input).output
    }

    // MARK: staff writes (each site's own application, on its own connection)

    /// The office records every site in the partners registry.
    func registerPartners(at office: String) throws {
        for (i, (site, kind)) in kinds.enumerated() {
            let place = Bontang.kecamatan[i % 3]
            let name = switch kind {
            case "office": "Dinas Ketenagakerjaan Kota Bontang"
            case "company": "PT \(["Tirta Kimia", "Lestari Energi", "Bontang Samudra Teknik"][i % 3]) (fiktif) \(site)"
            default: "LPK \(["Bina Terampil", "Cipta Karya", "Mandiri Kompeten", "Harapan Bangsa", "Karya Bahari"][i % 5]) \(site)"
            }
            try cluster.staff(office, """
                INSERT INTO partners(id, kind, name, address, kelurahan, kecamatan, phone) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [site, kind, name, "\(Bontang.streets[i % Bontang.streets.count]) No. \(10 + i)", place.kelurahan[0], place.name,
                      String(format: "0548-%06d", 20_000 + i * 37)])
        }
    }

    /// A site registers a person (its staff type in the data from the KTP).
    func register(_ p: Person, at site: String, key: String? = nil, phone: String? = nil) throws {
        try cluster.staff(site, """
            INSERT INTO participants(id, nik, full_name, birth_date, sex, phone, address, kelurahan, kecamatan, education, registered_by)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [key ?? p.key, p.nik, p.name, p.birthDate, p.sex, phone ?? p.phone, p.address, p.kelurahan, p.kecamatan, p.education, site])
    }

    /// A training site offers a program.
    func offerProgram(_ id: String, by site: String, provider: String? = nil, title: String) throws {
        try cluster.staff(site, """
            INSERT INTO programs(id, provider, title, competency, sector, starts_on, ends_on, quota, funding)
            VALUES (?, ?, ?, ?, 'industri', '2025-07-01', '2025-09-30', 20, 'APBD')
            """, [id, provider ?? site, title, "Kompetensi \(title)"])
    }

    /// A training site enrolls a person (by key) in one of its programs.
    func enroll(_ id: String, _ participant: String, in program: String, at site: String) throws {
        try cluster.staff(site, "INSERT INTO enrollments(id, participant_id, program_id, status, registered_on) VALUES (?, ?, ?, 'registered', '2025-06-20')",
                          [id, participant, program])
    }

    /// A company records a placement of a person (by key).
    func place(_ id: String, _ participant: String, at company: String, position: String) throws {
        try cluster.staff(company, """
            INSERT INTO placements(id, participant_id, company, position, starts_on, kind) VALUES (?, ?, ?, ?, '2025-10-01', 'employment')
            """, [id, participant, company, position])
    }

    // MARK: reading

    /// A table's rows at a site (or "hub"), keyed by primary key; live rows only.
    func rows(_ site: String, _ table: String) throws -> [String: [String]] { try cluster.rows(site, table) }

    /// The keys of a table's rows at a site (or "hub"), live rows and tombstones.
    func keys(_ site: String, _ table: String, where condition: String = "1", _ arguments: StatementArguments = []) throws -> Set<String> {
        let live = try cluster.query(site, "SELECT id FROM \"\(table)\" WHERE \(condition)", arguments)
        let dead = try cluster.query(site, "SELECT id FROM \"_begawi_dead_\(table)\" WHERE \(condition)", arguments)
        return Set((live + dead).compactMap(\.first))
    }

    /// A site's replica file (or the hub's database) and the journal files beside it.
    func files(_ site: String) -> [String] {
        RawBytes.files(site == "hub" ? cluster.path("hub.sqlite") : cluster.replicaPath(site))
    }

    // MARK: checks

    /// No personal value of `people` (nor any of `also`) in the hub's log or in anything a command printed.
    func expectNoPersonalData(_ people: [Person], also: [(label: String, text: String)] = [],
                              sourceLocation: SourceLocation = #_sourceLocation) {
        let log = cluster.hubLog()
        #expect(!log.isEmpty, "the hub logged nothing at debug level, so the check below proves nothing", sourceLocation: sourceLocation)
        let values = people.flatMap(\.personalValues) + also
        for (what, text) in [("the hub's log", log)] + outputs.map({ ("the output of begawi \($0.command)", $0.text) }) {
            for value in values where text.contains(value.text) {
                Issue.record("\(what) shows the \(value.label)", sourceLocation: sourceLocation)
            }
        }
    }

    /// None of the values in the files (raw bytes); each hit is reported with its file and offset.
    func expectAbsent(_ values: [(label: String, text: String)], from site: String, _ why: String,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        if site == "hub", cluster.postgres != nil {
            for hit in try postgresHits(values) {
                Issue.record("hub must not hold this (\(why)): \(hit.label) in a row of \(hit.table)", sourceLocation: sourceLocation)
            }
            return
        }
        for hit in try RawBytes.find(values, in: files(site)) {
            Issue.record("\(site) must not hold this (\(why)): \(hit)", sourceLocation: sourceLocation)
        }
    }

    /// Every one of the values somewhere in the files (the positive control of `expectAbsent`).
    func expectPresent(_ values: [(label: String, text: String)], in site: String, _ why: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        if site == "hub", cluster.postgres != nil {
            let hits = try postgresHits(values)
            for value in values where !hits.contains(where: { $0.label == value.label }) {
                Issue.record("hub should hold the \(value.label) (\(why)) but no row of its PostgreSQL database does", sourceLocation: sourceLocation)
            }
            return
        }
        let hits = try RawBytes.find(values, in: files(site))
        for value in values where !hits.contains(where: { $0.label == value.label }) {
            Issue.record("\(site) should hold the \(value.label) (\(why)) but its files \(files(site)) do not", sourceLocation: sourceLocation)
        }
    }
}
