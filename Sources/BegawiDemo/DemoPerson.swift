import BegawiCore
import BegawiRules

/// A made-up job seeker of Bontang for the demo. Every value is invented: the NIKs follow the layout
/// (6474, kecamatan 01–03, DDMMYY with 40 added to the day for women) with serials from 9101 up, far
/// above those the civil registry hands out, so that they are nobody's. The demo never prints them.
struct DemoPerson {
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
    func key(salt: String) -> String { NIK.key(for: nik, salt: salt) }

    /// The row of `participants` a site's staff would type in for this person.
    func insert(registeredBy site: String, salt: String) -> String {
        let values = [key(salt: salt), nik, name, birthDate, sex, phone, address, kelurahan, kecamatan, education, site]
        return "INSERT INTO participants(id, nik, full_name, birth_date, sex, phone, address, kelurahan, kecamatan, education, registered_by) VALUES ("
            + values.map(DemoShell.quote).joined(separator: ", ") + ");"
    }

    /// The six people of the demo (names from ../shared/data/names.txt, places from wilayah-bontang.csv).
    static let town: [DemoPerson] = [
        DemoPerson(nik: "6474011405999101", name: "Ahmad Hidayat", birthDate: "1999-05-14", sex: "L", phone: "081200009101",
                   address: "Jl. Brigjend Katamso RT 04 No. 12", kelurahan: "Berbas Pantai", kecamatan: "Bontang Selatan", education: "SMK"),
        DemoPerson(nik: "6474024308019102", name: "Siti Wulandari", birthDate: "2001-08-03", sex: "P", phone: "081200009102",
                   address: "Jl. MT Haryono RT 11 No. 7", kelurahan: "Api-Api", kecamatan: "Bontang Utara", education: "SMA"),
        DemoPerson(nik: "6474032211009103", name: "Rizky Pratama", birthDate: "2000-11-22", sex: "L", phone: "081200009103",
                   address: "Jl. Pattimura RT 02 No. 31", kelurahan: "Kanaan", kecamatan: "Bontang Barat", education: "SMK"),
        DemoPerson(nik: "6474024902989104", name: "Dewi Anggraini", birthDate: "1998-02-09", sex: "P", phone: "081200009104",
                   address: "Jl. KS Tubun RT 09 No. 4", kelurahan: "Gunung Elai", kecamatan: "Bontang Utara", education: "D3"),
        DemoPerson(nik: "6474013007029105", name: "Yusuf Lamato", birthDate: "2002-07-30", sex: "L", phone: "081200009105",
                   address: "Jl. Imam Bonjol RT 15 No. 22", kelurahan: "Tanjung Laut", kecamatan: "Bontang Selatan", education: "SMA"),
        DemoPerson(nik: "6474035701039106", name: "Putri Utami", birthDate: "2003-01-17", sex: "P", phone: "081200009106",
                   address: "Jl. DI Panjaitan RT 06 No. 18", kelurahan: "Belimbing", kecamatan: "Bontang Barat", education: "SMK"),
    ]
}
