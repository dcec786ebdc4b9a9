import BegawiCore
import BegawiRules
import Testing

@Suite struct NIKTests {
    @Test func plausibleNumbersPass() {
        #expect(NIK.problem("6474014512990001") == nil) // a woman born 5 Dec 1999 in Bontang Selatan
        #expect(NIK.problem("6474020101800123") == nil)
    }
}
