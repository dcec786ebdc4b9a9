import BegawiCore
import BegawiRules
import Testing

@Suite struct NIKTests {
    @Test func plausibleNumbersPass() {
        #expect(NIK.problem("6474014512990001") == nil) // a woman born 5 Dec 1999 in Bontang Selatan
        #expect(NIK.problem("6474020101800123") == nil)
    }

    /// A derived key checks its identity with the check its `key_from` names, and derives the key
    /// only from one that passes; a check the rules do not know passes nothing.
    @Test func aDerivedKeyAppliesTheCheckItNames() throws {
        let derived = TableAccess.DerivedKey(column: "nik", check: "nik", salt: "s")
        #expect(derived.problem("6474014512990001") == nil)
        #expect(try derived.key(for: "6474014512990001") == NIK.key(for: "6474014512990001", salt: "s"))
        #expect(derived.problem("9974014512990001") == NIK.problem("9974014512990001"))
        let error = try #require(throws: BegawiError.self) { try derived.key(for: "9974014512990001") }
        #expect(error.code == .invalidArgument && !error.message.contains("9974014512990001"), "\(error)")
        let unknown = TableAccess.DerivedKey(column: "ssn", check: "ssn", salt: "s")
        #expect(unknown.problem("6474014512990001")?.contains("'ssn' is unknown") == true)
    }
}

/// Every kind of implausible number fails, with a message that never repeats the number.
extension NIKTests {
    /// Numbers that fail, each with what is wrong with it.
    static let implausible: [(nik: String, why: String)] = [
        ("", "empty"),
        ("647401451299000", "15 digits"),
        ("64740145129900011", "17 digits"),
        ("6474 14512990001", "a space"),
        ("64740145129900a1", "a letter"),
        ("6474-01451299001", "a dash"),
        ("+647401451299001", "a sign"),
        ("٦٤٧٤٠١٤٥١٢٩٩٠٠٠١", "Arabic-Indic digits"),
        ("６４７４０１４５１２９９０００１", "full-width digits"),
        ("9974014512990001", "province 99"),
        ("0074014512990001", "province 00"),
        ("1074014512990001", "province 10 (unassigned)"),
        ("2074014512990001", "province 20 (unassigned)"),
        ("6400014512990001", "regency 00"),
        ("6474004512990001", "kecamatan 00"),
        ("6474011013990001", "month 13"),
        ("6474011000990001", "month 00"),
        ("6474013201990001", "day 32"),
        ("6474010001990001", "day 00"),
        ("6474014001990001", "day 40 (neither a man's nor a woman's day)"),
        ("6474017201990001", "a woman's day 72 = 32 + 40"),
        ("6474013002990001", "30 February"),
        ("6474017002990001", "a woman's 30 February"),
        ("6474013104990001", "31 April"),
        ("6474014512990000", "serial 0000"),
    ]

    @Test func moreNumbersThatArePlausible() {
        #expect(NIK.problem("1101010101000001") == nil) // Aceh, 1 January, a man
        #expect(NIK.problem("9701017112999999") == nil) // the newest Papua province, a woman born 31 December
        #expect(NIK.problem("6474012902000001") == nil) // 29 February: the two-digit year cannot rule it out
        #expect(NIK.problem("6474016902000001") == nil) // a woman born 29 February
        #expect(NIK.problem("6474013101990001") == nil) // a man born 31 January
    }

    @Test(arguments: NIKTests.implausible.map { $0.nik }) func implausibleNumbersFail(_ nik: String) {
        let why = NIKTests.implausible.first { $0.nik == nik }!.why
        let problem = NIK.problem(nik)
        #expect(problem != nil, "\(why) should fail")
        #expect(NIK.birth(nik) == nil, "\(why) has no birth date")
    }

    @Test(arguments: NIKTests.implausible.map { $0.nik }) func messagesNeverRepeatTheNumber(_ nik: String) {
        guard let message = NIK.problem(nik) else { return }
        let characters = Array(nik)
        #expect(!message.isEmpty)
        // No five characters of the input in a row: not the number, not a part of it.
        if characters.count >= 5 {
            for start in 0...(characters.count - 5) {
                let part = String(characters[start..<start + 5])
                #expect(!message.contains(part), "the message repeats '\(part)'")
            }
        }
        #expect(message.contains("check the number") || message.contains("16 digits"), "the message says what to do")
    }

    @Test func birthDecodesTheDateAndAWomansDay() {
        let woman = NIK.birth("6474014512990001")
        #expect(woman?.day == 5)
        #expect(woman?.month == 12)
        #expect(woman?.year == 99)
        #expect(woman?.female == true)

        let man = NIK.birth("6474020101800123")
        #expect(man?.day == 1)
        #expect(man?.month == 1)
        #expect(man?.year == 80)
        #expect(man?.female == false)

        let leap = NIK.birth("6474016902000001")
        #expect(leap?.day == 29)
        #expect(leap?.month == 2)
        #expect(leap?.year == 0)
        #expect(leap?.female == true)

        // Day 41 is the 1st for a woman; day 31 is the 31st for a man.
        #expect(NIK.birth("6474014101990001")?.day == 1)
        #expect(NIK.birth("6474014101990001")?.female == true)
        #expect(NIK.birth("6474013101990001")?.day == 31)
        #expect(NIK.birth("6474013101990001")?.female == false)
    }
}
