import BegawiCore
import Foundation

/// Made-up, enrollment-like rows for benchmarks: no real person's data.
enum EnrollmentFixture {
    static let table = TableSpec(name: "enrollments", columns: [
        ColumnSpec(name: "participant_id"), ColumnSpec(name: "program_id"), ColumnSpec(name: "site_id"),
        ColumnSpec(name: "status"), ColumnSpec(name: "registered_on"), ColumnSpec(name: "started_on"),
        ColumnSpec(name: "completed_on"), ColumnSpec(name: "score", type: "INTEGER"), ColumnSpec(name: "funding"),
        ColumnSpec(name: "notes"), ColumnSpec(name: "updated_by"),
    ])
    static let schema = Schema(tables: [table])
    static let statuses = ["registered", "active", "completed", "certified", "dropped"]
    static let fundings = ["APBD Kota Bontang", "APBN", "CSR Perusahaan", "Mandiri"]
    static let notes = ["Peserta hadir pada orientasi", "Menunggu kelengkapan berkas", "Lulus uji kompetensi", "", "Pindah jadwal ke angkatan berikutnya"]

    /// The values of row `n`; keys made by `keys`, participants and programs from small pools.
    static func row(_ n: Int, key: String, rng: inout SplitMix64, programs: [String]) -> [SQLValue] {
        let day = 1 + n % 28
        let participant = String(format: "p-%016llx%016llx", rng.next(), rng.next())
        return [
            .text(key), .text(participant), .text(programs[Int(rng.next() % UInt64(programs.count))]),
            .text("lpk-bontang-\(String(format: "%02d", 1 + n % 12))"), .text("registered"),
            .text(String(format: "2026-03-%02d", day)), .text(String(format: "2026-04-%02d", day)), .null,
            .null, .text(fundings[n % fundings.count]), .text(notes[n % notes.count]), .text("operator-\(n % 7)"),
        ]
    }
}
