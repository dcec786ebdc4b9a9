import BegawiCore
import BegawiPostgres
import BegawiTestSupport
import Foundation
import Testing

/// The `database = "postgresql://…"` URL: what it may say, the refusals, and a password that
/// never shows.
@Suite struct PostgresSettingsTests {
    let password = "s3cret-pw"

    @Test func aFullURLGivesEveryPart() throws {
        let settings = try PostgresSettings(url: "postgresql://hub%40kab:s3cret%2Fpw@db.example.id:6543/begawi%20hub?sslmode=verify-full&sslrootcert=/etc/begawi/pg-ca.pem")
        #expect(settings.user == "hub@kab")
        #expect(settings.password == "s3cret/pw")
        #expect(settings.host == "db.example.id")
        #expect(settings.port == 6543)
        #expect(settings.database == "begawi hub")
        #expect(settings.tlsMode == .verifyFull)
        #expect(settings.rootCertificateFile == "/etc/begawi/pg-ca.pem")
    }

    @Test func theDefaultsAreLibpqs() throws {
        let settings = try PostgresSettings(url: "postgres://begawi@127.0.0.1/hub")
        #expect(settings.port == 5432)
        #expect(settings.password == nil)
        #expect(settings.tlsMode == .prefer)
        #expect(settings.statementTimeoutMilliseconds == PostgresSettings.defaultStatementTimeout)
        #expect(settings.idleInTransactionTimeoutMilliseconds == PostgresSettings.defaultIdleInTransactionTimeout)
    }

    @Test func anIPv6HostLosesItsBrackets() throws {
        let settings = try PostgresSettings(url: "postgresql://begawi@[::1]:5433/hub")
        #expect(settings.host == "::1")
        #expect(settings.port == 5433)
        #expect(settings.description == "postgresql://begawi@[::1]:5433/hub?sslmode=prefer")
    }

    @Test func noHostMeansAUnixSocket() throws {
        let local = try PostgresSettings(url: "postgresql://begawi@/hub")
        #expect(local.host == nil)
        #expect(local.socketFolder == "/var/run/postgresql")
        let named = try PostgresSettings(url: "postgresql://begawi@/hub?host=/run/pg")
        #expect(named.socketFolder == "/run/pg")
        #expect(try named.connectionConfiguration().unixSocketPath == "/run/pg/.s.PGSQL.5432")
    }

    @Test func theSessionGetsItsTimeoutsAtStartup() throws {
        let settings = try PostgresSettings(url: "postgresql://begawi@127.0.0.1/hub?sslmode=disable",
                                            statementTimeoutMilliseconds: 1_500, idleInTransactionTimeoutMilliseconds: 700)
        let configuration = try settings.connectionConfiguration()
        let parameters = Dictionary(configuration.options.additionalStartupParameters, uniquingKeysWith: { $1 })
        #expect(parameters["statement_timeout"] == "1500")
        #expect(parameters["idle_in_transaction_session_timeout"] == "700")
        #expect(!configuration.tls.isAllowed)
    }

    @Test func sslmodeSetsTLS() throws {
        let require = try PostgresSettings(url: "postgresql://begawi@db/hub?sslmode=require").connectionConfiguration()
        #expect(require.tls.isEnforced)
        let prefer = try PostgresSettings(url: "postgresql://begawi@db/hub").connectionConfiguration()
        #expect(prefer.tls.isAllowed && !prefer.tls.isEnforced)
    }

    @Test(arguments: [
        ("mysql://hub:s3cret-pw@db/hub", "must start with postgresql://"),
        ("postgresql://db.example.id/hub", "names no role"),
        ("postgresql://hub:s3cret-pw@db.example.id", "names no database"),
        ("postgresql://hub:s3cret-pw@db.example.id/", "names no database"),
        ("postgresql://hub:s3cret-pw@db.example.id:70000/hub", "port outside"),
        ("postgresql://hub:s3cret-pw@db.example.id/hub?sslmode=sometimes", "unknown sslmode"),
        ("postgresql://hub:s3cret-pw@db.example.id/hub?password=x", "does not know (password)"),
        ("postgresql://hub:s3cret-pw@db.example.id/hub?sslmode=disable&sslmode=require", "names sslmode twice"),
        ("postgresql://hub:s3cret-pw%zz@db.example.id/hub", "percent-encode"),
        ("postgresql://hub:s3cret pw@db.example.id/hub", "percent-encode"),
        ("postgresql://hub:s3cret-pw@/hub?sslmode=verify-full", "over a Unix socket"),
        ("postgresql://hub:s3cret-pw@/hub?host=run/pg", "absolute path"),
        ("postgresql://hub:s3cret-pw@db/hub?sslrootcert=/etc/ca.pem", "without checking certificates"),
    ])
    func aBadURLIsRefusedWithoutItsPassword(url: String, expected: String) throws {
        let error = try #require(throws: BegawiError.self) { try PostgresSettings(url: url) }
        #expect(error.code == .configuration)
        #expect(error.message.contains(expected), "\(error.message)")
        #expect(!error.description.contains("s3cret"))
    }

    @Test func timeoutsOutOfRangeAreRefused() throws {
        for (statement, idle) in [(-1, 0), (0, -5), (Int(Int32.max) + 1, 0)] {
            let error = try #require(throws: BegawiError.self) {
                try PostgresSettings(url: "postgresql://begawi@db/hub", statementTimeoutMilliseconds: statement,
                                     idleInTransactionTimeoutMilliseconds: idle)
            }
            #expect(error.code == .configuration)
        }
    }

    @Test(.blocking) func aServerThatIsNotThereIsANetworkErrorWithoutThePassword() throws {
        // Port 1 (tcpmux): nothing listens there on a test machine, so the connection is refused at once.
        let settings = try PostgresSettings(url: "postgresql://hub:\(password)@127.0.0.1:1/hub?sslmode=disable")
        let error = try #require(throws: BegawiError.self) { try PostgresLink.connect(settings) }
        #expect(error.code == .network)
        #expect(error.message.contains("cannot reach"), "\(error)")
        #expect(!error.description.contains(password))
    }

    @Test func theDescriptionHidesThePassword() throws {
        let settings = try PostgresSettings(url: "postgresql://hub:\(password)@db.example.id/hub")
        #expect(settings.description == "postgresql://hub:***@db.example.id:5432/hub?sslmode=prefer")
        #expect(!"\(settings)".contains(password))
    }
}
