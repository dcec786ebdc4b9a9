import BegawiRules
import Foundation

/// A made-up job seeker of Bontang: every value is invented, and the NIK follows the layout (6474,
/// kecamatan 01–03, DDMMYY with 40 added to the day for women, serial) with serials from 9001 up,
/// far above those the civil registry hands out, so that it is nobody's.
struct Person: Sendable, Hashable {
    var nik: String
    var name: String
    /// YYYY-MM-DD, the date the NIK encodes.
    var birthDate: String
    /// "L" or "P".
    var sex: String
    var phone: String
    var address: String
    var kelurahan: String
    var kecamatan: String
    var education: String

    /// The participant key the programme derives from the NIK.
    var key: String { NIK.key(for: nik, salt: Bontang.salt) }

    /// The values that must reach neither a log nor a site that may not see the person.
    var personalValues: [(label: String, text: String)] {
        [("NIK of \(name)", nik), ("name \(name)", name), ("phone of \(name)", phone)]
    }
}

/// Bontang's kecamatan and kelurahan, and a source of made-up people living in them.
struct Bontang {
    /// The salt of the participant key, read from config/handak-begawi.json.
    static let salt: String = {
        let path = Repository.root.appendingPathComponent("config/handak-begawi.json").path
        guard let document = try? SchemaDocument.load(path: path),
              let derived = document.policy?.tables.values.compactMap(\.derivedKey).first else {
            fatalError("config/handak-begawi.json derives no participant key")
        }
        return derived.salt
    }()

    static let kecamatan: [(code: String, name: String, kelurahan: [String])] = [
        ("01", "Bontang Selatan", ["Tanjung Laut", "Tanjung Laut Indah", "Berbas Tengah", "Berbas Pantai", "Satimpo", "Bontang Lestari"]),
        ("02", "Bontang Utara", ["Bontang Kuala", "Bontang Baru", "Api-Api", "Gunung Elai", "Lok Tuan", "Guntung"]),
        ("03", "Bontang Barat", ["Kanaan", "Gunung Telihan", "Belimbing"]),
    ]
    static let streets = ["Jl. Brigjend Katamso", "Jl. MT Haryono", "Jl. Ahmad Yani", "Jl. Pattimura", "Jl. KS Tubun",
                          "Jl. Imam Bonjol", "Jl. Cipto Mangunkusumo", "Jl. DI Panjaitan", "Jl. Letjend S Parman", "Jl. Awang Long"]
    static let men = ["Ahmad", "Muhammad", "Rizky", "Andi", "Fajar", "Hendra", "Irfan", "Yusuf", "Bayu", "Rahmat", "Syahrul", "Arif", "Dimas", "Akbar"]
    static let women = ["Siti", "Nur", "Dewi", "Rina", "Fitri", "Wulan", "Indah", "Ayu", "Putri", "Novita", "Nurul", "Anisa", "Rahmi", "Dian"]
    static let families = ["Saputra", "Hidayat", "Pratama", "Ramadhan", "Setiawan", "Wijaya", "Nugroho", "Syahputra", "Mappasessu",
                           "Lamba", "Baso", "Rusdi", "Hasanuddin", "Aminuddin", "Kurniawan", "Lestari", "Handayani", "Permatasari"]
    static let education = ["SMA", "SMK", "SMK", "D3", "SMP", "S1"]

    private var index: Int
    private var names: Set<String> = []

    /// A source whose people differ from those of another source with another `series` (0–9).
    init(series: Int = 0) { index = series * 90 }

    /// The next made-up person (alternately a man and a woman), or one with the given name.
    mutating func person(named given: String? = nil, female: Bool? = nil) -> Person {
        let i = index
        index += 1
        let woman = female ?? (i % 2 == 1)
        var name = given ?? ""
        var attempt = 0
        while name.isEmpty || (given == nil && names.contains(name)) {
            let first = (woman ? Bontang.women : Bontang.men)[(i / 2 + attempt) % 14]
            let family = Bontang.families[(i * 7 + attempt * 5) % Bontang.families.count]
            name = attempt < 3 ? "\(first) \(family)" : "\(first) \(Bontang.families[(i + attempt) % Bontang.families.count]) \(family)"
            if attempt > 40 { name += " \(i)" }
            attempt += 1
        }
        names.insert(name)
        let place = Bontang.kecamatan[i % 3]
        let day = 1 + (i * 11) % 28, month = 1 + (i * 5) % 12, year = [95, 97, 98, 99, 0, 1, 2, 3, 4][i % 9]
        return Person(
            nik: Bontang.nik(kecamatan: place.code, day: day, month: month, year: year, female: woman, serial: 9001 + i),
            name: name,
            birthDate: String(format: "%04d-%02d-%02d", year < 50 ? 2000 + year : 1900 + year, month, day),
            sex: woman ? "P" : "L",
            phone: String(format: "08%02d%08d", [11, 12, 13, 21, 22, 52, 53][i % 7], 40_000_000 + (i * 104_729) % 50_000_000),
            address: "\(Bontang.streets[i % Bontang.streets.count]) RT \(String(format: "%02d", 1 + i % 40)) No. \(3 + i * 3 % 97)",
            kelurahan: place.kelurahan[i % place.kelurahan.count], kecamatan: place.name,
            education: Bontang.education[i % Bontang.education.count])
    }

    /// A NIK of Bontang (province 64, regency 74) with the given parts.
    static func nik(kecamatan: String, day: Int, month: Int, year: Int, female: Bool, serial: Int) -> String {
        "6474" + kecamatan + String(format: "%02d%02d%02d%04d", female ? day + 40 : day, month, year % 100, serial)
    }
}
