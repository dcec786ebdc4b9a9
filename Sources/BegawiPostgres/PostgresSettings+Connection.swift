import BegawiCore
import NIOCore
import NIOSSL
public import PostgresNIO

extension PostgresSettings {
    /// postgres-nio's configuration for one session: the endpoint, the login, TLS as `sslmode`
    /// says, and the session's timeouts sent as startup parameters, so that they hold from the
    /// session's first statement without a round trip of their own.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let host {
            configuration = .init(host: host, port: port, username: user, password: password, database: database,
                                  tls: try tls())
        } else {
            configuration = .init(unixSocketPath: "\(socketFolder)/.s.PGSQL.\(port)", username: user, password: password,
                                  database: database)
        }
        configuration.options.connectTimeout = .milliseconds(Int64(connectTimeoutMilliseconds))
        configuration.options.additionalStartupParameters = [
            ("statement_timeout", String(statementTimeoutMilliseconds)),
            ("idle_in_transaction_session_timeout", String(idleInTransactionTimeoutMilliseconds)),
            ("application_name", "begawi-hub"),
            // Short statements over few rows: compiling one with LLVM (on by default in Debian's
            // server above a planner cost) took 130 ms of a 235 ms visibility statement (BENCHMARKS.md).
            ("jit", "off"),
        ]
        return configuration
    }

    private func tls() throws -> PostgresConnection.Configuration.TLS {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch tlsMode {
        case .disable: return .disable
        case .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let rootCertificateFile { tls.trustRoots = .file(rootCertificateFile) }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw BegawiError(.configuration, "the database's TLS settings cannot be used: check that sslrootcert names a readable PEM file of CA certificates",
                              cause: String(describing: error))
        }
        return tlsMode == .prefer ? .prefer(context) : .require(context)
    }
}
